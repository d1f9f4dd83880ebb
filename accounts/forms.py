import re
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts import policy
from accounts.models import User, role_current
from accounts.services import ENROLMENT_CODE_LENGTH, enrolment_code_normalised
from core.forms import GovukForm, HintedChoiceField
from core.identifiers import ALPHABET
from core.text import CleanTextField
from directory import lookup
from directory.models import LocalAuthority, NationalBody, Partnership


class SignInForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": "Enter your username"},
    )
    password = forms.CharField(
        label="Password",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password"},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
        error_messages={"required": "Enter the security code"},
    )


class InvitationPasswordForm(forms.Form):
    """Enrolment, first step: the enrolment code the administrator gave, and the new member of staff's
    password."""

    enrolment_code = forms.CharField(
        label="Enrolment code",
        help_text="The 8-character code your administrator gave you by phone or in person. It is not in the email.",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": "Enter the enrolment code your administrator gave you"},
    )
    password = forms.CharField(
        label="Create a password",
        help_text="At least 12 characters. Use three random words, or your password manager.",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Create a password"},
    )
    password_again = forms.CharField(
        label="Enter the password again",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter the password again"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_enrolment_code(self) -> str:
        code = enrolment_code_normalised(self.cleaned_data["enrolment_code"])
        if len(code) != ENROLMENT_CODE_LENGTH or any(ch not in ALPHABET for ch in code):
            raise forms.ValidationError("Enter the enrolment code in the correct format, like HX7K-29QM")
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The passwords do not match")
        elif password:
            try:
                validate_password(password, self.user)
            except forms.ValidationError as problems:
                self.add_error("password", problems)
        return cleaned


class InvitationCodeForm(forms.Form):
    """Enrolment, second step: the first code of the authenticator app."""

    code = forms.CharField(
        label="Security code from your authenticator app",
        help_text="The 6-digit code the app shows for this account.",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false", "inputmode": "numeric"}),
        error_messages={"required": "Enter the security code from your authenticator app"},
    )


# --- administrators' staff management --------------------------------------------------------------------

ROLE_HINTS: dict[str, str] = {
    User.Role.AUTHORITY_OFFICER: "Sees referrals for the authorities you list below.",
    User.Role.PARTNERSHIP: "Sees outcomes and statistics for the authorities of the partnership you choose below.",
    User.Role.OVERSIGHT_ANALYST: "Sees national statistics and patterns, never who reported.",
    User.Role.ADMINISTRATOR: "Manages staff accounts and authorities; no case content.",
    User.Role.NATIONAL_REVIEWER: "Works the cases sent for independent national review; never who reported, "
    "unless the reporter agreed.",
}


def _authority(name: str) -> LocalAuthority | None:
    return lookup.authority_by_code(name) or LocalAuthority.objects.filter(name__iexact=name).first()


def authorities_named(text: str) -> tuple[list[str], list[str]]:
    """(the GSS codes of the authorities listed one per line by code or name, the lines that match none). Some
    names have commas in them ("Bournemouth, Christchurch and Poole"), so a line is tried whole before it is
    read as a list separated by commas."""
    codes: list[str] = []
    unknown: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        found = [_authority(line)]
        if found[0] is None and "," in line:
            parts = [part.strip() for part in line.split(",") if part.strip()]
            if not parts:
                continue
            found = [_authority(part) for part in parts]
        if None in found:
            unknown.append(line)
            continue
        for authority in found:
            if authority is not None and authority.gss_code not in codes:
                codes.append(authority.gss_code)
    return codes, unknown


class FormerRolesAccepted(forms.ChoiceField):
    """A role, by its value or a former one ("board_reviewer" is now "partnership": accounts.models.FORMER_ROLES),
    so that a saved address or a script that sends the old value still works."""

    def to_python(self, value: Any) -> str:
        return role_current(str(super().to_python(value)))


class RoleRadios(FormerRolesAccepted, HintedChoiceField):
    pass


class StaffFilterForm(GovukForm):
    role = FormerRolesAccepted(
        label="Role",
        required=False,
        choices=[("", "All roles"), *User.Role.choices],
        error_messages={"invalid_choice": "Select a role from the list"},
    )


class StaffAccessForm(GovukForm):
    """A role and the scope it needs: authorities for an officer, a safeguarding partnership (as
    administrators define them, accounts.partnerships) for a partnership member."""

    role = RoleRadios(
        label="Role",
        choices=User.Role.choices,
        item_hints=ROLE_HINTS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a role", "invalid_choice": "Select a role"},
    )
    authorities = CleanTextField(
        label="Authorities (local authority officers only)",
        help_text="One per line, by name or GSS code, like Rotherham or E08000018",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Authorities must be 2,000 characters or fewer"},
    )
    partnership = forms.ChoiceField(
        label="Safeguarding partnership (partnership members only)",
        help_text="The authorities it covers are set on the safeguarding partnerships page.",
        required=False,
        choices=[],
        error_messages={"invalid_choice": "Select a safeguarding partnership from the list"},
    )

    def __init__(self, *args: Any, partnerships: list[Partnership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices(
            "partnership",
            [("", "Not a partnership member"), *((str(found.pk), found.name) for found in partnerships)],
        )
        self._partnerships = {str(found.pk): found for found in partnerships}

    def clean_partnership(self) -> Partnership | None:
        return self._partnerships.get(self.cleaned_data.get("partnership") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role = cleaned.get("role")
        cleaned["authority_codes"] = []
        if policy.scoped_by_authorities(str(role)) and "authorities" in cleaned:
            codes, unknown = authorities_named(cleaned["authorities"])
            if unknown:
                self.add_error("authorities", f"There is no authority called {', '.join(unknown)}")
            elif not codes:
                self.add_error("authorities", "Enter at least one authority for a local authority officer")
            cleaned["authority_codes"] = codes
        if policy.scoped_by_partnership(str(role)) and "partnership" in cleaned and not cleaned["partnership"]:
            self.add_error("partnership", "Select the safeguarding partnership they belong to")
        return cleaned


class StaffInviteForm(StaffAccessForm):
    username = CleanTextField(
        label="Username",
        max_length=150,
        validators=[UnicodeUsernameValidator(message="A username can only have letters, digits and @ . + - _")],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="What they sign in with. Letters, digits and @ . + - _ only.",
        error_messages={
            "required": "Enter a username",
            "max_length": "Username must be 150 characters or fewer",
        },
    )
    email = forms.EmailField(
        label="Work email address",
        max_length=254,
        help_text="Where their invitation link and their alerts go.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter their work email address",
            "invalid": "Enter an email address in the correct format, like name@council.gov.uk",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )
    field_order = ["username", "email", "role", "authorities", "partnership"]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"There is already an account called {username}")
        return username


class MfaResetRequestForm(GovukForm):
    reason = CleanTextField(
        label="Why does their second factor need resetting?",
        help_text="For example, a lost or replaced phone. Another administrator reads this before approving.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter why their second factor needs resetting",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )


class ConfirmForm(GovukForm):
    """A confirmation with nothing to fill in; it carries a refusal to the page's error summary."""


class MfaResetDecisionForm(GovukForm):
    """Which waiting request an approval or a cancellation is about (so a stale page decides nothing new)."""

    request = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class StaffAccessConfirmForm(forms.Form):
    """The change an administrator chose on the role and scope page, carried to its confirmation page (in the
    address, then as hidden fields) and checked again there: authority GSS codes, not names."""

    role = FormerRolesAccepted(choices=User.Role.choices, widget=forms.HiddenInput)
    authorities = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    partnership = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    version = forms.CharField(max_length=16, widget=forms.HiddenInput)

    def clean_authorities(self) -> list[str]:
        codes = [code.strip() for code in self.cleaned_data["authorities"].split(",") if code.strip()]
        if any(lookup.authority_by_code(code) is None for code in codes):
            raise forms.ValidationError("There is no authority with that code")
        return codes

    def clean_partnership(self) -> Partnership | None:
        wanted = self.cleaned_data["partnership"]
        if wanted is None:
            return None
        found = Partnership.objects.filter(pk=wanted).first()
        if found is None:
            raise forms.ValidationError("There is no such safeguarding partnership")
        return found


class UserEnableRequestForm(GovukForm):
    reason = CleanTextField(
        label="Why should this account be enabled again?",
        help_text="For example, they have come back from leave. Another administrator reads this before approving.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter why the account should be enabled again",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )


class PartnershipForm(GovukForm):
    """A safeguarding partnership: its name and the authorities it covers (one or more)."""

    name = CleanTextField(
        label="Name",
        help_text="As the partnership calls itself, like Rotherham Safeguarding Children Partnership.",
        max_length=128,
        error_messages={
            "required": "Enter the partnership's name",
            "max_length": "The name must be 128 characters or fewer",
        },
    )
    authorities = CleanTextField(
        label="Authorities it covers",
        help_text="One per line, by name or GSS code, like Rotherham or E08000018. Its members see these "
        "authorities' statistics and are emailed when one misses a deadline.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter at least one authority the partnership covers",
            "max_length": "Authorities must be 2,000 characters or fewer",
        },
    )

    def clean_authorities(self) -> list[LocalAuthority]:
        codes, unknown = authorities_named(self.cleaned_data["authorities"])
        if unknown:
            raise forms.ValidationError(f"There is no authority called {', '.join(unknown)}")
        if not codes:
            raise forms.ValidationError("Enter at least one authority the partnership covers")
        return [found for code in codes if (found := lookup.authority_by_code(code)) is not None]


# A national body's code: lower-case words joined by hyphens (the API's schema says the same).
NATIONAL_BODY_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
POLICE_CODE_PREFIX = "police-"
NATIONAL_BODY_KIND_HINTS: dict[str, str] = {
    NationalBody.Kind.REVIEW_TEAM: "Its national reviewers work the cases sent for independent review here. "
    "There is only one.",
    NationalBody.Kind.OFSTED: "For a systemic failure in a council's children's services.",
    NationalBody.Kind.CQC: "For a concern about a health setting.",
    NationalBody.Kind.POLICE_FORCE: "The helpline refers a case to a force under Escalate.",
    NationalBody.Kind.CSPR_PANEL: "For a serious incident that needs a national review of practice.",
}


class NationalBodyForm(GovukForm):
    """A national body a case may be referred to: its name, kind, code and contact address."""

    name = CleanTextField(
        label="Name",
        help_text="As the body calls itself, like Ofsted or South Yorkshire Police.",
        max_length=128,
        error_messages={
            "required": "Enter the body's name",
            "max_length": "The name must be 128 characters or fewer",
        },
    )
    kind = HintedChoiceField(
        label="What kind of body is it?",
        choices=NationalBody.Kind.choices,
        item_hints=NATIONAL_BODY_KIND_HINTS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of body it is", "invalid_choice": "Select a kind of body"},
    )
    # Not "code": form_retry never keeps a field of that name (security codes), so a refusal would lose it.
    body_code = forms.CharField(
        label="Code",
        help_text="Lower-case letters, numbers and hyphens, like ofsted or police-south-yorkshire. The staff API "
        "and the audit trail name the body by it; a police force's starts with police-.",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the body's code",
            "max_length": "The code must be 64 characters or fewer",
        },
    )
    contact_email = forms.EmailField(
        label="Contact email address (optional)",
        help_text="Only the independent national review team is emailed, and never with case details: this "
        "service sends other bodies nothing.",
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter an email address in the correct format, like referrals@body.gov.uk"},
    )

    def clean_body_code(self) -> str:
        code = str(self.cleaned_data.get("body_code") or "").strip().lower()
        if not NATIONAL_BODY_CODE.match(code):
            raise forms.ValidationError(
                "Enter a code of lower-case letters, numbers and hyphens only, like police-south-yorkshire"
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("body_code")
        if cleaned.get("kind") == NationalBody.Kind.POLICE_FORCE and code and not code.startswith(POLICE_CODE_PREFIX):
            self.add_error("body_code", f"A police force's code starts with {POLICE_CODE_PREFIX}, like police-kent")
        return cleaned

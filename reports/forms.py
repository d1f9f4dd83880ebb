"""The question pages' forms. Limits here are shared with the API serializers."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict

from core.forms import DayField, GovukForm, HintedChoiceField
from core.text import CleanTextField
from directory import lookup
from reports import filetypes
from reports.models import Anonymity, ConcernType, PriorReportTo, RaisedInternally, ReporterSector
from reports.receipts import FIELD_CHOICES
from reports.uploads import SealedUpload

SUMMARY_MAX = 300
DETAILS_MAX = 20_000
INTERNAL_RESPONSE_MAX = 5_000
ORGANISATION_MAX = 200
NAME_MAX = 200
PHONE_MAX = 40
PRIOR_REFERENCE_MAX = 100
MESSAGE_MAX = 10_000
UNKNOWN_AUTHORITY = "unknown"

YES_NO = [("yes", "Yes"), ("no", "No")]


def council_choices(*, include_unknown: bool) -> list[tuple[str, str]]:
    choices = [("", "Choose a council"), *lookup.authority_choices()]
    if include_unknown:
        choices.append((UNKNOWN_AUTHORITY, "I do not know"))
    return choices


class AnonymityForm(GovukForm):
    anonymity = HintedChoiceField(
        label="How do you want to report your concern?",
        choices=Anonymity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you want to report your concern"},
        item_hints={
            Anonymity.ANONYMOUS: "Nobody, not even the helpline, will know who you are. We cannot contact you: "
            "you check for replies with your reference and access code.",
            Anonymity.CONFIDENTIAL: "Only the helpline will know who you are. We will not tell your employer or "
            "the local authority without your agreement, unless the law requires it.",
            Anonymity.NAMED: "The helpline may ask you whether it can give your name to the local authority or "
            "the police. Each time it asks, you answer yes or no: nothing is shared unless you say yes.",
        },
    )


class SectorForm(GovukForm):
    reporter_sector = forms.ChoiceField(
        label="Where do you work?",
        help_text="This helps us see where failures happen. It is not used to identify you.",
        choices=ReporterSector.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where you work"},
    )


class ConcernTypesForm(GovukForm):
    concern_types = forms.MultipleChoiceField(
        label="What is your concern about?",
        help_text="Select all that apply.",
        choices=ConcernType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select what your concern is about"},
    )


@dataclass(frozen=True)
class CouncilConflict:
    """A postcode in one council (or several, for part of a postcode) and a different council chosen."""

    postcode: str
    postcode_councils: list[tuple[str, str]]
    chosen: tuple[str, str]

    def as_answer(self) -> dict[str, Any]:
        return {
            "postcode": self.postcode,
            "postcode_councils": [list(council) for council in self.postcode_councils],
            "chosen": list(self.chosen),
        }

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> CouncilConflict:
        return cls(
            postcode=str(answer["postcode"]),
            postcode_councils=[(str(code), str(name)) for code, name in answer["postcode_councils"]],
            chosen=(str(answer["chosen"][0]), str(answer["chosen"][1])),
        )

    def question(self) -> str:
        names = [name for _, name in self.postcode_councils]
        where = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        return f"Your postcode {self.postcode} is in {where}, but you chose {self.chosen[1]}. Which is right?"


class WhereForm(GovukForm):
    postcode = forms.CharField(
        label="Postcode",
        help_text="The postcode of the place or organisation your concern is about, for example S60 1AA.",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": "Enter a real postcode, like S60 1AA"},
    )
    council = forms.ChoiceField(
        label="Or choose the council",
        help_text="The council for children's services in that area.",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = council_choices(include_unknown=True)
        self.choice_field("council").choices = choices
        self.council_names = dict(choices)
        self.lookup: lookup.PostcodeLookup | None = None
        self.conflict: CouncilConflict | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        council = cleaned.get("council")
        postcode = (cleaned.get("postcode") or "").strip()
        chosen = council if council and council != UNKNOWN_AUTHORITY else None
        if not postcode:
            if not council and not self.errors:
                self.add_error("postcode", "Enter a postcode, or choose the council")
            return cleaned
        found = lookup.resolve_postcode(postcode)
        problem = lookup.postcode_problem(found)
        if chosen:
            # Both given: the council chosen stands, unless the postcode is in another one, which we ask about.
            self.conflict = None if problem else self._conflict(found, chosen)
            return cleaned
        if problem:
            self.add_error("postcode", problem)
        else:
            self.lookup = found
        return cleaned

    def _conflict(self, found: lookup.PostcodeLookup, chosen: str) -> CouncilConflict | None:
        councils = [found.authority] if found.kind == "resolved" and found.authority else found.candidates
        if not councils or chosen in {council.gss_code for council in councils}:
            return None
        return CouncilConflict(
            postcode=found.postcode or "",
            postcode_councils=[(council.gss_code, council.name) for council in councils],
            chosen=(chosen, self.council_names.get(chosen, chosen)),
        )


class CouncilChoiceForm(GovukForm):
    council = forms.ChoiceField(
        label="Councils for that postcode",
        help_text="Part of that postcode area is covered by each of these councils.",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the council, or choose another one from the list"},
        required=False,
    )
    other_council = forms.ChoiceField(label="Or choose another council", required=False)

    def __init__(
        self, *args: Any, candidates: list[tuple[str, str]], conflict: CouncilConflict | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.conflict = conflict
        if conflict is not None:
            # Which of the two is right: the postcode's council (or councils) or the one chosen.
            postcode_hint = (
                f"The council for {conflict.postcode}"
                if len(conflict.postcode_councils) == 1
                else f"Covers part of {conflict.postcode}"
            )
            self.fields["council"] = HintedChoiceField(
                label=conflict.question(),
                choices=[*conflict.postcode_councils, conflict.chosen],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Select which council is right",
                    "invalid_choice": "Select which council is right",
                },
                item_hints={
                    **{code: postcode_hint for code, _ in conflict.postcode_councils},
                    conflict.chosen[0]: "The council you chose",
                },
            )
            del self.fields["other_council"]
            return
        self.choice_field("council").choices = candidates
        if not candidates:
            self.fields["council"].widget = forms.HiddenInput()
            # Nothing was offered above, so this is not "another" council.
            self.fields["other_council"].label = "Choose the council"
        self.choice_field("other_council").choices = council_choices(include_unknown=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.conflict is not None:
            return cleaned
        if not cleaned.get("council") and not cleaned.get("other_council") and not self.errors:
            if self.choice_field("council").choices:
                self.add_error("council", "Select the council, or choose another one from the list")
            else:
                self.add_error("other_council", "Choose the council from the list")
        return cleaned


class AboutCouncilForm(GovukForm):
    about_council = forms.ChoiceField(
        label="Is your concern about a council or its children's services?",
        help_text="For example, a council hiding what happened, or punishing staff who spoke up. "
        "If it is, we will never send your concern to that council: it goes to an independent national review.",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if your concern is about a council"},
    )
    which_council = forms.ChoiceField(label="Which council?", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice_field("which_council").choices = council_choices(include_unknown=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("about_council") == "yes" and not cleaned.get("which_council"):
            self.add_error("which_council", "Choose the council your concern is about")
        if cleaned.get("about_council") == "no":
            cleaned["which_council"] = ""
        return cleaned


class OrganisationForm(GovukForm):
    organisation_name = CleanTextField(
        label="Which organisation is your concern about? (optional)",
        help_text="For example, a school, care home, police force or council department.",
        required=False,
        max_length=ORGANISATION_MAX,
        error_messages={"max_length": f"Organisation name must be {ORGANISATION_MAX} characters or fewer"},
    )


class WhatHappenedForm(GovukForm):
    summary = CleanTextField(
        label="Summarise your concern in a sentence",
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Enter a short summary of your concern",
            "max_length": f"Summary must be {SUMMARY_MAX} characters or fewer",
        },
    )
    details = CleanTextField(
        label="What happened?",
        help_text="Include what you saw or were told, when, and who was involved. Do not include your "
        "own name if you want to stay anonymous.",
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={
            "required": "Enter what happened",
            "max_length": f"What happened must be {DETAILS_MAX:,} characters or fewer",
        },
    )


class RaisedInternallyForm(GovukForm):
    raised_internally = forms.ChoiceField(
        label="Did you or anyone else raise this concern inside the organisation?",
        choices=RaisedInternally.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the concern was raised inside the organisation"},
    )
    internal_response = CleanTextField(
        label="If yes, what came of it? (optional)",
        required=False,
        max_length=INTERNAL_RESPONSE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"What came of it must be {INTERNAL_RESPONSE_MAX:,} characters or fewer"},
    )


# "Did you report it?": the reporter's choice, and what it means in the clear answer and the sealed one.
PRIOR_BY_ME, PRIOR_BY_SOMEONE_ELSE, PRIOR_NO, PRIOR_NOT_KNOWN = "by_me", "by_someone_else", "no", "not_known"
PRIOR_CHOICES = [
    (PRIOR_BY_ME, "Yes, I reported it"),
    (PRIOR_BY_SOMEONE_ELSE, "Yes, someone else reported it"),
    (PRIOR_NO, "No"),
    (PRIOR_NOT_KNOWN, "I do not know"),
]


class AlreadyReportedForm(GovukForm):
    """Whether the concern was already reported to the police or the council (optional, every field)."""

    already_reported = forms.ChoiceField(
        label="Has anyone reported this to the police or the council's children's services? (optional)",
        help_text="For example, a report you made because you suspected a child was being abused, or one a "
        "colleague made.",
        required=False,
        choices=PRIOR_CHOICES,
        widget=forms.RadioSelect,
    )
    reported_to = forms.ChoiceField(
        label="If yes, who was it reported to? (optional)",
        required=False,
        choices=PriorReportTo.choices,
        widget=forms.RadioSelect,
    )
    reported_on = DayField(
        label="If yes, when was it reported? (optional)",
        help_text="For example, 27 3 2026. Leave it empty if you do not know the day.",
        what="the day it was reported",
        required=False,
    )
    reported_reference = CleanTextField(
        label="If yes, what reference were you given? (optional)",
        required=False,
        max_length=PRIOR_REFERENCE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": f"The reference must be {PRIOR_REFERENCE_MAX} characters or fewer"},
    )

    def clean(self) -> dict[str, Any]:
        """Details with "No" or "I do not know" are a contradiction to ask about; details with no answer at
        all say it was reported (by whom, not given)."""
        cleaned = super().clean() or {}
        answered_no = cleaned.get("already_reported") in (PRIOR_NO, PRIOR_NOT_KNOWN)
        details = any(cleaned.get(name) for name in ("reported_to", "reported_on", "reported_reference"))
        if details and answered_no and not self.errors:
            self.add_error(
                "already_reported", "Select yes if it was reported, or leave who, when and the reference empty"
            )
        return cleaned


class ImmediateRiskForm(GovukForm):
    child_at_immediate_risk = forms.ChoiceField(
        label="Is a child at immediate risk of harm?",
        help_text="If a child is in immediate danger, call 999 now.",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if a child is at immediate risk of harm"},
    )


class ContactForm(GovukForm):
    name = CleanTextField(
        label="Your name",
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your name", "max_length": f"Name must be {NAME_MAX} characters or fewer"},
    )
    email = forms.EmailField(
        label="Email address (optional)",
        help_text="Use a personal address, not a work one.",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.com"},
    )
    phone = CleanTextField(
        label="Phone number (optional)",
        required=False,
        max_length=PHONE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
        error_messages={"max_length": "Enter a phone number, like 07700 900 982"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sender = parseaddr(settings.REPORTER_EMAIL_FROM)[0] or settings.REPORTER_EMAIL_FROM
        self.fields["email"].help_text = (
            "Use a personal address, not a work one. We only email to say there is a message for you. The email "
            f'comes from "{sender}", its subject is "{settings.REPORTER_EMAIL_SUBJECT}", and it holds only that '
            "and a link: nothing about your concern or this service."
        )

    def clean_phone(self) -> str:
        value = str(self.cleaned_data["phone"])
        if value and not all(ch.isdigit() or ch in " +()-" for ch in value):
            raise forms.ValidationError("Enter a phone number, like 07700 900 982")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("email") and not cleaned.get("phone"):
            self.add_error("email", "Enter an email address or a phone number so the helpline can contact you")
        return cleaned


class AccessForm(GovukForm):
    reference = forms.CharField(
        label="Reference",
        help_text="For example, HX7K-29QM",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter your reference", "max_length": "Enter the reference you were given"},
    )
    access_code = forms.CharField(
        label="Access code",
        help_text="The words you were given, with spaces or hyphens between them.",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter your access code", "max_length": "Enter the access code you were given"},
    )


class ReporterMessageForm(GovukForm):
    body = CleanTextField(
        label="Your message",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter your message",
            "max_length": f"Message must be {MESSAGE_MAX:,} characters or fewer",
        },
    )
    kind = forms.ChoiceField(
        label="What are you sending?",
        choices=[
            ("message", "A reply or a question for the helpline"),
            ("more_information", "More information about my concern"),
        ],
        widget=forms.RadioSelect,
        initial="message",
        error_messages={"required": "Select what you are sending"},
    )


class CheckinAnswerForm(GovukForm):
    answer = forms.ChoiceField(
        label="Has anything happened to you because you reported your concern?",
        help_text="For example, being moved, disciplined, left out or threatened.",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if anything has happened to you"},
    )
    details = CleanTextField(
        label="If yes, what has happened? (optional)",
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"This must be {DETAILS_MAX:,} characters or fewer"},
    )


class ReportInProgressForm(GovukForm):
    """Asked when "Start now" is pressed while a report is already in progress in this browser."""

    next = HintedChoiceField(
        label="You have already started a report. Do you want to continue it?",
        help_text="Your answers so far have not been sent. They are kept for 30 minutes after the last page "
        "you answered.",
        choices=[("continue", "Yes, continue my report"), ("restart", "No, delete my answers and start again")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you want to continue your report or start again"},
        item_hints={
            "continue": "You go back to the first question you have not answered yet.",
            "restart": "Nothing you have written so far is kept.",
        },
    )


class CodeSavedForm(GovukForm):
    saved = forms.BooleanField(
        label="I have saved my access code",
        error_messages={"required": "Confirm that you have saved your access code"},
    )


# --- files: "Do you have documents, photos or recordings?" and adding files later --------------------------


class UploadRefused(Exception):
    """A file that is not kept, with the GOV.UK error message that says why (the page's, and the API's)."""


def size_words(size: int) -> str:
    """A size in the words GOV.UK pages use: "20 MB", "1.5 MB", "500 KB" (binary units, as limits are set)."""
    mebibytes = size / (1024 * 1024)
    if mebibytes >= 1:
        return f"{mebibytes:.0f} MB" if mebibytes == int(mebibytes) else f"{mebibytes:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def max_file_words() -> str:
    return size_words(int(settings.ATTACHMENT_MAX_BYTES))


SELECT_A_FILE = "Select a file"


def too_large_message() -> str:
    return f"The selected file must be smaller than {max_file_words()}"


def too_many_message() -> str:
    return f"You can only add up to {int(settings.ATTACHMENT_MAX_FILES)} files. Remove a file before you add another"


def too_many_sent_message() -> str:
    return (
        f"You have already sent {int(settings.ATTACHMENT_MAX_FILES)} files, the most a report can have. Call the "
        "helpline if you need to send more"
    )


def files_hint(*, left: int | None = None) -> str:
    """What the upload field's hint says: the types, the size and how many (from the settings), or on a sent
    report how many more the reporter may send (``left``)."""
    if left is None:
        how_many = f"You can add up to {int(settings.ATTACHMENT_MAX_FILES)} files, one at a time."
    else:
        how_many = f"You can send {left} more file{'' if left == 1 else 's'}, one at a time."
    return f"Each file must be a {filetypes.ACCEPTED_WORDS}, and smaller than {max_file_words()}. {how_many}"


def upload_check(upload: object, *, room: int | None = None) -> tuple[SealedUpload, filetypes.FileType]:
    """An uploaded file that may be kept, and its type; or UploadRefused with the message that says why: none
    chosen, over ATTACHMENT_MAX_BYTES, not an accepted type or not what its name says (reports.filetypes), or
    no room for another (``room``: how many more the draft or report may take; None when not yet known)."""
    if not isinstance(upload, SealedUpload) or not upload.name:
        raise UploadRefused(SELECT_A_FILE)
    if upload.too_large:
        raise UploadRefused(too_large_message())
    try:
        kind = filetypes.sniff(upload.name, upload.head)
    except filetypes.RefusedType as refused:
        raise UploadRefused(str(refused)) from None
    if room is not None and room <= 0:
        raise UploadRefused(too_many_message())
    return upload, kind


class FileUploadForm(GovukForm):
    """One file (GOV.UK's file upload component), checked by upload_check in the view: the form only carries
    a refusal to show in the error summary and beside the field."""

    file = forms.FileField(label="Upload a file", required=False)

    def __init__(self, *args: Any, refusal: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusal = refusal
        self.fields["file"].help_text = files_hint()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.refusal:
            self.add_error("file", self.refusal)
        return cleaned


class FollowUpFileForm(FileUploadForm):
    """A file added to a sent report from the follow-up page, with a message about it or without."""

    body = CleanTextField(
        label="Tell the helpline about this file (optional)",
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"Message must be {MESSAGE_MAX:,} characters or fewer"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the follow-up page also holds the message form, whose text box is "body" too.
        kwargs.setdefault("auto_id", "id_upload_%s")
        super().__init__(*args, **kwargs)


RECEIPT_TEXT_MAX = 20_000


class ReceiptVerifyForm(GovukForm):
    """/receipts/verify: a receipt's text block, and optionally an answer to check against its fingerprint."""

    receipt = forms.CharField(
        label="Paste the receipt",
        help_text="Paste the text block from the receipt, from { to }. Line breaks and spaces do not matter.",
        max_length=RECEIPT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        error_messages={
            "required": "Paste the receipt's text block",
            "max_length": "This is too long to be a receipt. Paste only the receipt's text block",
        },
    )
    field = forms.ChoiceField(
        label="Check an answer (optional)",
        help_text="Choose which answer the text below should match.",
        required=False,
        choices=[("", "Do not check an answer"), *FIELD_CHOICES.items()],
        error_messages={"invalid_choice": "Choose an answer from the list"},
    )
    text = CleanTextField(
        label="The text that was sent (optional)",
        help_text="Paste exactly what the reporter says they sent in that answer.",
        required=False,
        max_length=DETAILS_MAX * 2,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"max_length": "This text is longer than any answer could be"},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("field") and not cleaned.get("text"):
            self.add_error("text", "Paste the text to check, or choose not to check an answer")
        if cleaned.get("text") and not cleaned.get("field") and "field" not in self.errors:
            self.add_error("field", "Choose which answer the text should match")
        return cleaned


class LateContactForm(ContactForm):
    """An anonymous reporter gives the helpline their name and contact details from /check."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.refusal:
            self.add_error(None, self.refusal)
        return cleaned

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the follow-up page holds other forms.
        kwargs.setdefault("auto_id", "id_contact_%s")
        self.refusal = str(kwargs.pop("refusal", "") or "")
        super().__init__(*args, **kwargs)


class IdentityAnswerForm(GovukForm):
    """The reporter's answer to the helpline's question: may this referral's recipient have these details?"""

    sharing = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    answer = forms.ChoiceField(
        label="May we share them?",
        choices=[("yes", "Yes, they may have them"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if we may share them", "invalid_choice": "Select yes or no"},
    )

    error_anchor = "who-knows"

    def __init__(self, *args: Any, refusal: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_identity_%s")
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def full_clean(self) -> None:
        """Every error is the form's own: the page asks each question with radios of its own, so the error
        summary links to the panel (error_anchor) rather than to one field. A refusal (the question was
        answered already, the details were seen) is the only error said."""
        super().full_clean()
        if self.refusal:
            self._errors = ErrorDict({NON_FIELD_ERRORS: self.error_class([self.refusal], error_class="nonfield")})
            return
        for name in ("answer", "sharing"):
            for error in self._errors.pop(name, []):
                self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield")).append(error)

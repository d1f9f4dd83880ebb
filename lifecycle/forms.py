"""The evidence export's forms: preparing one, and approving another supervisor's."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from core.forms import DayField, GovukForm, HintedChoiceField
from core.text import CleanTextField
from directory.lookup import authority_by_code, authority_choices
from lifecycle.models import EarlyDestruction, EvidenceExport
from lifecycle.recipient_keys import KEY_MAX, KeyRefused, recipient_key_parse

E = EvidenceExport
RECIPIENT_MAX = 200
REFERENCE_MAX = 200

SCOPE_FIELDS: dict[str, tuple[str, ...]] = {
    E.Scope.CASE: ("case_number",),
    E.Scope.FILTER: ("authority", "period", "period_from", "period_to"),
}


class ExportPrepareForm(GovukForm):
    """What goes, to whom, on what basis, and whether the reporters are told."""

    reveals = {"scope": SCOPE_FIELDS, "tell_reporters": {"no": ("withheld_because",)}}

    scope = forms.ChoiceField(
        label="What to export",
        widget=forms.RadioSelect,
        choices=E.Scope.choices,
        error_messages={
            "required": "Choose whether to export one case or every case of a local authority in a period",
            "invalid_choice": "Choose whether to export one case or every case of a local authority in a period",
        },
    )
    case_number = forms.CharField(
        label="Case number",
        help_text="For example, 2026-K7M3QX.",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": "Enter a case number like 2026-K7M3QX"},
    )
    authority = forms.ChoiceField(
        label="Local authority",
        help_text="Its cases, and cases about the council itself.",
        required=False,
        error_messages={"invalid_choice": "Choose a local authority from the list"},
    )
    period = forms.ChoiceField(
        label="Which cases of the period",
        widget=forms.RadioSelect,
        required=False,
        choices=E.Period.choices,
        error_messages={"invalid_choice": "Choose whether the period is when cases were reported or closed"},
    )
    period_from = DayField(
        label="From", help_text="For example, 1 1 2024.", what="the start of the period", required=False
    )
    period_to = DayField(label="To", help_text="For example, 31 12 2024.", what="the end of the period", required=False)
    recipient = CleanTextField(
        label="Who the bundle is for",
        help_text="The inquiry, court or police force, as you would name it to a reporter: for example, the "
        "Independent Inquiry into Grooming Gangs. The reporters are told this name.",
        max_length=RECIPIENT_MAX,
        error_messages={
            "required": "Enter who the bundle is for",
            "max_length": f"Who the bundle is for must be {RECIPIENT_MAX} characters or fewer",
        },
    )
    recipient_key = forms.CharField(
        label="The recipient's public key",
        help_text="The bundle is sealed to this key, so only whoever holds the matching private key can open it: "
        "not the helpline, and not anybody who intercepts it. Ask the recipient for an X25519 public key, in base64 "
        "(44 characters, often ending =), or an age recipient (starting age1). Never accept a private key. Check "
        "the fingerprint shown next with the recipient by telephone.",
        max_length=KEY_MAX + 100,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        error_messages={
            "required": "Enter the recipient's public key",
            "max_length": "The public key is too long: paste only the key, a base64 X25519 key or an age1 recipient",
        },
    )
    basis = forms.ChoiceField(
        label="The legal basis",
        widget=forms.RadioSelect,
        choices=E.Basis.choices,
        error_messages={"required": "Choose the legal basis", "invalid_choice": "Choose the legal basis from the list"},
    )
    basis_reference = CleanTextField(
        label="Its reference",
        help_text="The notice's, the order's or the request's own reference, as written on it.",
        max_length=REFERENCE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the reference of the notice, order or request",
            "max_length": f"The reference must be {REFERENCE_MAX} characters or fewer",
        },
    )
    tell_reporters = forms.ChoiceField(
        label="Tell the reporters that their concern was shared?",
        help_text="Each reporter reads in their mailbox who it was shared with and why. Their name and contact "
        "details are never shared.",
        widget=forms.RadioSelect,
        choices=[("yes", "Yes, tell them"), ("no", "No, do not tell them")],
        error_messages={
            "required": "Choose whether to tell the reporters",
            "invalid_choice": "Choose whether to tell the reporters",
        },
    )
    withheld_because = forms.ChoiceField(
        label="Why not",
        widget=forms.RadioSelect,
        required=False,
        choices=E.Withheld.choices,
        error_messages={"invalid_choice": "Choose why the reporters must not be told"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("authority", [("", "Choose a local authority"), *authority_choices()])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        scope = cleaned.get("scope")
        # Only the chosen scope's fields count: what was typed under the other is dropped.
        for other, names in SCOPE_FIELDS.items():
            if other != scope:
                for name in names:
                    self.errors.pop(name, None)
                    cleaned.pop(name, None)
        if scope == E.Scope.CASE and not str(cleaned.get("case_number") or "").strip():
            self.add_error("case_number", "Enter the case number")
        if scope == E.Scope.FILTER:
            required = {
                "authority": "Choose the local authority",
                "period": "Choose whether the period is when cases were reported or closed",
                "period_from": "Enter the start of the period",
                "period_to": "Enter the end of the period",
            }
            for name, message in required.items():
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, message)
            start, end = self.day("period_from"), self.day("period_to")
            if start and end and end < start and "period_to" not in self.errors:
                self.add_error("period_to", "The end of the period must be the same as or after its start")
        if cleaned.get("tell_reporters") == "no":
            if not cleaned.get("withheld_because") and "withheld_because" not in self.errors:
                self.add_error("withheld_because", "Choose why the reporters must not be told")
        else:
            self.errors.pop("withheld_because", None)
            cleaned["withheld_because"] = ""
        return cleaned

    def clean_recipient_key(self) -> Any:
        try:
            return recipient_key_parse(str(self.cleaned_data.get("recipient_key") or ""))
        except KeyRefused as refused:
            raise forms.ValidationError(str(refused)) from None

    def day(self, name: str) -> date | None:
        value = (self.cleaned_data or {}).get(name) if hasattr(self, "cleaned_data") else None
        return date.fromisoformat(value) if value else None

    def chosen_authority(self) -> Any:
        code = str(self.cleaned_data.get("authority") or "")
        return authority_by_code(code) if code else None


class ExportApproveForm(GovukForm):
    """The approving supervisor confirms they checked the list and the fingerprint; the digest they were shown
    comes back with it, so they approve exactly that."""

    digest = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={
            "required": "Open the export again and check it before approving",
            "max_length": "Open the export again and check it before approving",
        },
    )
    checked = forms.BooleanField(
        label="I have checked the list of cases, the legal basis and its reference, and I have checked the key "
        "fingerprint with the recipient by telephone or in person",
        error_messages={"required": "Confirm that you have checked the cases and the key fingerprint"},
    )


R = EarlyDestruction.Reason
REASON_HINTS: dict[str, str] = {
    R.FILED_IN_ERROR: "For example, a test report, or one sent to this service by mistake.",
    R.CHILD_DETAILS: "For example, a child's name, address or photograph sent where none was needed.",
    R.DUPLICATE: "The same concern filed twice by mistake: link duplicates that are separate reports instead.",
    R.OTHER_LEGAL: "For example, a court order or a data protection decision to erase it.",
}


class EarlyDestructionForm(GovukForm):
    """The first supervisor's request: why, from a short list (no free text), and that they mean it."""

    reason = HintedChoiceField(
        label="Why should this case be destroyed early?",
        item_hints=REASON_HINTS,
        choices=R.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose why the case should be destroyed early",
            "invalid_choice": "Choose why the case should be destroyed early from the list",
        },
    )
    confirm = forms.BooleanField(
        label="I have checked that this case's content should be destroyed now, before its time.",
        help_text="Another supervisor must approve before anything is destroyed.",
        error_messages={"required": "Confirm that you have checked the case should be destroyed"},
    )


class EarlyDestructionApproveForm(GovukForm):
    confirm = forms.BooleanField(
        label="Yes, destroy this case's content now. Nobody will be able to open it again.",
        error_messages={"required": "Confirm that you want to destroy the case's content"},
    )

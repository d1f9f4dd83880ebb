"""The forms of legal hold's yearly review and of early destruction. Placing a hold uses the case action's own
form (triage.forms.LegalHoldForm, through triage.staff_actions), and releasing one from the list of held
cases its release form (triage.forms.HoldReleaseForm)."""

from __future__ import annotations

from django import forms

from core.forms import GovukForm, HintedChoiceField
from lifecycle.models import EarlyDestruction

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

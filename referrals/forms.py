"""The authority officer's forms on a referral page (and the authority API, which validates with them)."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import GovukForm
from core.text import CleanTextField
from directory.lookup import national_body_choices
from referrals.models import AuthorityAction, AuthorityOutcome, HowSent, ReviewOutcome
from referrals.services import RECORDABLE, REFER_ON_KINDS, REFERENCE_MAX
from reports.forms import MESSAGE_MAX


class RecordActionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What was done",
        widget=forms.RadioSelect,
        choices=[(k, AuthorityAction.Kind(k).label) for k in RECORDABLE],
        error_messages={"required": "Choose what was done"},
    )
    note = CleanTextField(
        label="Details (optional)", required=False, max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose an outcome"), *AuthorityOutcome.choices],
        error_messages={"required": "Choose an outcome"},
    )
    note = CleanTextField(
        label="What happened (optional)",
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuestionForm(forms.Form):
    note = CleanTextField(
        label="Your question for the helpline",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter your question"},
    )


class FindingsForm(forms.Form):
    """The independent review's findings (sealed, as every note) and its outcome."""

    outcome = forms.ChoiceField(
        label="Outcome of the review",
        choices=[("", "Choose an outcome"), *ReviewOutcome.choices],
        error_messages={"required": "Choose the outcome of the review"},
    )
    note = CleanTextField(
        label="Findings",
        help_text="What the review found and what it recommends. The helpline reads this and tells the reporter "
        "what it can.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the review's findings"},
    )


class ReferOnForm(GovukForm):
    """The review refers the case on to a body with no accounts here: which, how it was sent (never by an
    email with case details) and the reference the body gave."""

    body = forms.ChoiceField(
        label="Refer on to",
        error_messages={"required": "Choose who to refer the case on to", "invalid_choice": "Choose from the list"},
    )
    how_sent = forms.ChoiceField(
        label="How it was sent",
        help_text="Never by an email with case details in it.",
        widget=forms.RadioSelect,
        choices=HowSent.choices,
        error_messages={"required": "Choose how the case was sent"},
    )
    reference = forms.CharField(
        label="Their reference (optional)",
        help_text="The reference the body gave, for example a crime reference.",
        required=False,
        max_length=REFERENCE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": f"The reference must be {REFERENCE_MAX} characters or fewer"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("body", [("", "Choose a body"), *national_body_choices(REFER_ON_KINDS)])

"""The authority officer's forms on a referral page (and the authority API, which validates with them)."""

from __future__ import annotations

from django import forms

from core.text import CleanTextField
from referrals.models import AuthorityAction, AuthorityOutcome
from referrals.services import RECORDABLE
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

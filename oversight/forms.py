"""The statistics pages' one choice (which whole year or quarter), and a pattern alert's dismissal note."""

from __future__ import annotations

from typing import Any

from django import forms

from oversight.alerts import NOTE_MAX, NOTE_TOO_LONG, note_problem
from oversight.periods import Period

PERIOD_ERROR = "Choose a year or a quarter from the list"


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        error_messages={"invalid_choice": PERIOD_ERROR, "required": PERIOD_ERROR},
    )

    def __init__(self, *args: Any, periods: list[Period], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        field.choices = [
            (p.slug, p.label if p.quarter is None else f"{p.label} (quarter {p.quarter})") for p in periods
        ]


class DismissAlertForm(forms.Form):
    """A dismissal note: staff's few words about the figures (oversight.alerts.note_problem refuses what looks
    like a case number, a reference, an email address or a phone number)."""

    note = forms.CharField(
        label="Why dismiss this alert?",
        help_text="Say what explains the figures. Do not include names, case numbers, references or any case details.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=NOTE_MAX,
        error_messages={"max_length": NOTE_TOO_LONG},
    )

    def clean_note(self) -> str:
        note: str = self.cleaned_data.get("note", "")
        problem = note_problem(note)
        if problem:
            raise forms.ValidationError(problem)
        return note.strip()

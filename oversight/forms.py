"""The one choice on the statistics pages: which whole year or quarter."""

from __future__ import annotations

from typing import Any

from django import forms

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

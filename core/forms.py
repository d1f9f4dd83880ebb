"""The base of every form: GOV.UK markup (core/templatetags/govuk.py) and typed access to choices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms


class GovukForm(forms.Form):
    """A form whose fields render with GOV.UK markup and whose errors say what to do."""

    def choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        if not isinstance(field, forms.ChoiceField):
            raise TypeError(f"{name} is not a choice field")  # a programming error, not user input
        return field

    def set_choices(self, name: str, choices: Iterable[tuple[str, str]]) -> None:
        self.choice_field(name).choices = list(choices)


class HintedChoiceField(forms.ChoiceField):
    """Radios with a hint under each choice."""

    def __init__(self, *, item_hints: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item_hints = item_hints

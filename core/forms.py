"""The base of every form: GOV.UK markup (core/templatetags/govuk.py) and typed access to choices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.utils import timezone


class GovukForm(forms.Form):
    """A form whose fields render with GOV.UK markup and whose errors say what to do.

    ``reveals`` names the fields shown under one choice of a radios field (GOV.UK's conditional reveal:
    hidden by the radios' script until that choice is made, always shown without JavaScript), as
    ``{radios field: {choice: (field, …)}}``. The radios render them (core/templatetags/govuk.py), so a
    page's loop over the form's fields renders each once. A choice field given another widget reveals
    nothing: its fields are then rendered where they stand."""

    reveals: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {}

    def _revealing(self, name: str) -> bool:
        return name in self.fields and isinstance(self.fields[name].widget, forms.RadioSelect)

    def revealed_under(self, name: str, choice: str) -> list[forms.BoundField]:
        """The fields shown under ``choice`` of the radios ``name``."""
        if not self._revealing(name):
            return []
        return [self[field] for field in self.reveals.get(name, {}).get(choice, ()) if field in self.fields]

    def is_revealed(self, name: str) -> bool:
        """Whether the field ``name`` is shown under a choice of one of the form's radios."""
        return any(
            name in fields
            for radios, by_choice in self.reveals.items()
            if self._revealing(radios)
            for fields in by_choice.values()
        )

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


def past_day_problem(day: date, *, what: str, earliest_year: int = 1950) -> str:
    """Why ``day`` cannot be a day something already happened on ("" when it can): the form's and the API's."""
    if day > timezone.localdate():
        return f"{what.capitalize()} must be today or in the past"
    if day.year < earliest_year:
        return f"{what.capitalize()} must be in {earliest_year} or later"
    return ""


class GovukDateWidget(forms.MultiWidget):
    """GOV.UK's date input: day, month and year boxes named ``<name>-day``, ``-month`` and ``-year``."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(widgets=[forms.TextInput, forms.TextInput, forms.TextInput], attrs=attrs)
        # GOV.UK's names: "<name>-day" (a dict of widgets would give "<name>_-day").
        self.widgets_names = ["-day", "-month", "-year"]

    def decompress(self, value: Any) -> list[str]:
        """An ISO day ("2026-03-02") as its boxes; anything else as empty boxes."""
        if isinstance(value, list | tuple):
            return [str(part or "") for part in value][:3] + [""] * (3 - len(value))
        parts = str(value or "").split("-")
        if len(parts) != 3:
            return ["", "", ""]
        year, month, day = parts
        return [day.lstrip("0"), month.lstrip("0"), year]


class DayField(forms.MultiValueField):
    """A day in the past, typed as day, month and year (GOV.UK's date input). Cleaned to an ISO string
    ("2026-03-02") or "" when left empty, so it keeps in JSON as it is: a day, never a time."""

    widget = GovukDateWidget

    def __init__(
        self, *, what: str = "the date", earliest_year: int = 1950, any_day: bool = False, **kwargs: Any
    ) -> None:
        self.what = what
        # Any real day, past or future (a rota's shift), instead of a day something already happened on.
        self.any_day = any_day
        self.earliest_year = earliest_year
        parts = (forms.CharField(max_length=4), forms.CharField(max_length=4), forms.CharField(max_length=6))
        super().__init__(fields=parts, require_all_fields=False, **kwargs)

    def clean(self, value: Any) -> str:
        boxes = [str(part or "").strip() for part in (value or [])][:3]
        boxes += [""] * (3 - len(boxes))
        if not any(boxes):
            if self.required:
                raise forms.ValidationError(f"Enter {self.what}", code="required")
            return ""
        if not all(boxes):
            missing = [name for name, box in zip(("a day", "a month", "a year"), boxes, strict=True) if not box]
            raise forms.ValidationError(f"{self.what.capitalize()} must include {' and '.join(missing)}")
        if not all(box.isascii() and box.isdigit() for box in boxes) or len(boxes[2]) != 4:
            raise forms.ValidationError(f"{self.what.capitalize()} must be a real date, like 27 3 2026")
        day, month, year = (int(box) for box in boxes)
        try:
            chosen = date(year, month, day)
        except ValueError:
            raise forms.ValidationError(f"{self.what.capitalize()} must be a real date, like 27 3 2026") from None
        problem = "" if self.any_day else past_day_problem(chosen, what=self.what, earliest_year=self.earliest_year)
        if problem:
            raise forms.ValidationError(problem)
        return chosen.isoformat()

    def compress(self, data_list: list[Any]) -> str:  # clean() above does the work; Django requires it
        return ""

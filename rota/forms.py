"""Adding or changing a shift: who, primary or secondary, from when to when (GOV.UK date inputs and a time),
the mobile pages go to, and a handover note. Every rule a shift must meet is checked here, with the message
the page shows beside the field."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from core.forms import DayField, GovukForm
from directory.phones import PhoneInvalid, phone_normalise
from rota import selectors
from rota.models import Shift

_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
HANDOVER_MAX = 2000


def _clock(text: str, what: str) -> time:
    match = _TIME.match(text or "")
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise forms.ValidationError(f"Enter {what} as a 24-hour time, like 18:00")
    return time(int(match[1]), int(match[2]))


class ShiftForm(GovukForm):
    person = forms.ChoiceField(
        label="Who is on call",
        error_messages={
            "required": "Choose who is on call",
            "invalid_choice": "Choose an active member of the helpline staff",
        },
    )
    role = forms.ChoiceField(
        label="Primary or secondary",
        choices=Shift.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose primary or secondary"},
    )
    starts_day = DayField(
        label="Starts on", what="the day the shift starts", any_day=True, help_text="For example, 8 12 2026"
    )
    starts_time = forms.CharField(
        label="Starts at",
        max_length=5,
        help_text="A 24-hour time, like 18:00",
        error_messages={"required": "Enter the time the shift starts"},
    )
    ends_day = DayField(
        label="Ends on", what="the day the shift ends", any_day=True, help_text="For example, 9 12 2026"
    )
    ends_time = forms.CharField(
        label="Ends at",
        max_length=5,
        help_text="A 24-hour time, like 08:00",
        error_messages={"required": "Enter the time the shift ends"},
    )
    phone = forms.CharField(
        label="Mobile number for pages",
        max_length=32,
        help_text="Urgent pages are sent here by text message",
        error_messages={"required": "Enter the mobile number pages go to"},
    )
    handover_note = forms.CharField(
        label="Handover note (optional)",
        required=False,
        max_length=HANDOVER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For whoever takes over. Do not write case details here.",
    )

    def __init__(self, *args: Any, shift_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shift_id = shift_id
        self.set_choices(
            "person", [("", "Choose a member of staff")] + [(u.username, u.username) for u in selectors.on_call_staff()]
        )

    def clean_person(self) -> str:
        username = str(self.cleaned_data.get("person") or "")
        if not selectors.on_call_staff().filter(username=username).exists():
            raise forms.ValidationError("Choose an active member of the helpline staff")
        return username

    def clean_starts_time(self) -> time:
        return _clock(str(self.cleaned_data.get("starts_time") or ""), "the time the shift starts")

    def clean_ends_time(self) -> time:
        return _clock(str(self.cleaned_data.get("ends_time") or ""), "the time the shift ends")

    def clean_phone(self) -> str:
        try:
            number = phone_normalise(str(self.cleaned_data.get("phone") or ""))
        except PhoneInvalid:
            number = ""
        if not number.startswith("07"):
            raise forms.ValidationError("Enter a UK mobile number, like 07700 900123")
        return number

    @staticmethod
    def _moment(day: Any, clock: Any) -> datetime | None:
        if not day or not isinstance(clock, time):
            return None
        return timezone.make_aware(datetime.combine(date.fromisoformat(str(day)), clock))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts = self._moment(data.get("starts_day"), data.get("starts_time"))
        ends = self._moment(data.get("ends_day"), data.get("ends_time"))
        if starts is None or ends is None:
            return data
        if ends <= starts:
            self.add_error("ends_day", "The shift must end after it starts")
            return data
        if data.get("role") == Shift.Role.PRIMARY:
            clash = selectors.primary_overlapping(starts, ends, exclude_id=self.shift_id)
            if clash is not None:
                begins, finishes = timezone.localtime(clash.starts_at), timezone.localtime(clash.ends_at)
                self.add_error(
                    "starts_day",
                    f"{clash.person.username} is already the primary from {begins:%-d %B %H:%M} to "
                    f"{finishes:%-d %B %H:%M}: there is one primary at a time",
                )
        data["starts_at"], data["ends_at"] = starts, ends
        return data

    @classmethod
    def initial_of(cls, shift: Shift) -> dict[str, Any]:
        starts, ends = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
        return {
            "person": shift.person.username,
            "role": shift.role,
            "starts_day": starts.date().isoformat(),
            "starts_time": f"{starts:%H:%M}",
            "ends_day": ends.date().isoformat(),
            "ends_time": f"{ends:%H:%M}",
            "phone": shift.phone,
            "handover_note": shift.handover_note,
        }


class RemoveShiftForm(GovukForm):
    confirm = forms.BooleanField(
        label="Yes, remove this shift", error_messages={"required": "Confirm that the shift is to be removed"}
    )

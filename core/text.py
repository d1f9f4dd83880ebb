"""Free text as people type it, cleaned the same way on every page and in every API.

NUL bytes cannot be stored and are never meant, so they are refused with a field error; other control
characters but newlines and tabs are removed, and surrounding space. A required field is checked again
after cleaning, so text that cleans away to nothing gets the field's own "required" message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from rest_framework import serializers


def clean_text(value: str) -> str:
    return "".join(ch for ch in value if ch in "\n\t" or ch >= " ").strip()


class CleanTextField(forms.CharField):
    """A form's text field: the usual checks (required, NUL refused, length), then cleaned, then required
    again (when it is) with the field's own "required" message, for text that cleans away to nothing."""

    def clean(self, value: Any) -> str:
        cleaned = clean_text(str(super().clean(value) or ""))
        if self.required and not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return cleaned


class CleanTextApiField(serializers.CharField):
    """An API's text field: NUL refused with a field error, then cleaned like CleanTextField before the
    blank and length checks."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if isinstance(data, str):
            if "\x00" in data:
                raise serializers.ValidationError("Text must not contain NUL characters.")
            data = clean_text(data)
        return super().run_validation(data)

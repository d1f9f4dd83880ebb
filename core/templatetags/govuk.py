"""GOV.UK Design System markup for Django form fields, written once and used by every form."""

from typing import Any

from django import template
from django.forms import BoundField

from core.forms import GovukForm

register = template.Library()

CHOICE_WIDGETS = {"radioselect": "radios", "checkboxselectmultiple": "checkboxes"}


def _revealed(field: BoundField, choice: str, reveal: BoundField | None, reveal_on: str) -> list[BoundField]:
    """The fields shown under ``choice`` of the radios ``field``: ``reveal`` under ``reveal_on``, and those
    the form's ``reveals`` name."""
    shown = [reveal] if reveal is not None and choice == reveal_on else []
    if isinstance(field.form, GovukForm):
        shown += field.form.revealed_under(field.name, choice)
    return shown


@register.inclusion_tag("govuk/field.html")
def govuk_field(
    field: BoundField,
    heading: bool = False,
    size: str = "m",
    width: str = "",
    reveal: BoundField | None = None,
    reveal_on: str = "",
    revealed: bool = False,
) -> dict[str, Any]:
    """One field in GOV.UK markup. ``reveal`` is a field shown under the radio ``reveal_on`` (GOV.UK's
    conditional reveal: hidden by the radios' JavaScript until that radio is chosen, always shown without
    JavaScript), as are the fields the form's ``reveals`` name under each of its radios (core.forms
    GovukForm). Such a field is rendered there (``revealed``) and nowhere else."""
    widget_type = field.widget_type
    form = field.form
    if not revealed and isinstance(form, GovukForm) and form.is_revealed(field.name):
        return {"skip": True}
    if widget_type == "hidden":
        return {"field": field, "widget_type": widget_type, "value": "" if field.value() is None else field.value()}
    auto_id = field.auto_id
    describedby = []
    if field.help_text:
        describedby.append(f"{auto_id}-hint")
    if field.errors:
        describedby.append(f"{auto_id}-error")
    # A long answer with a limit gets GOV.UK's character count (the limit is said in words without JS).
    max_length = getattr(field.field, "max_length", None) if widget_type == "textarea" else None
    if max_length:
        describedby.append(f"{auto_id}-info")
    context: dict[str, Any] = {
        "max_length": max_length,
        "max_length_text": f"{max_length:,}" if max_length else "",
        "field": field,
        "id": auto_id,
        "heading": heading,
        "size": size,
        "width": width,
        "describedby": " ".join(describedby),
        "widget_type": widget_type,
        "kind": CHOICE_WIDGETS.get(widget_type, widget_type),
        # A password is never written back into the page, as Django's own PasswordInput promises.
        "value": "" if widget_type == "password" or field.value() is None else field.value(),
    }
    if widget_type in CHOICE_WIDGETS:
        item_hints = getattr(field.field, "item_hints", {})
        raw = field.value()
        selected = (
            {str(v) for v in raw} if isinstance(raw, list | tuple) else {str(raw)} if raw not in (None, "") else set()
        )
        items = []
        for index, (value, label) in enumerate(getattr(field.field, "choices", [])):
            item_id = auto_id if index == 0 else f"{auto_id}-{index + 1}"
            items.append(
                {
                    "id": item_id,
                    "value": value,
                    "label": label,
                    "hint": item_hints.get(value, ""),
                    "checked": str(value) in selected,
                    "reveal": _revealed(field, str(value), reveal, reveal_on),
                }
            )
        context["items"] = items
        context["reveal_any"] = any(item["reveal"] for item in items)
    elif widget_type == "govukdate":
        # GOV.UK's date input: the first box carries the field's id, so the error summary's link lands on it.
        parts = field.field.widget.decompress(field.value())
        context["date_parts"] = [
            {
                "id": auto_id if index == 0 else f"{auto_id}-{name}",
                "name": f"{field.html_name}-{name}",
                "label": label,
                "value": parts[index],
                "width": 4 if name == "year" else 2,
                "inputmode": "numeric",
            }
            for index, (name, label) in enumerate((("day", "Day"), ("month", "Month"), ("year", "Year")))
        ]
    elif widget_type == "select":
        raw = field.value()
        context["options"] = [
            {"value": value, "label": label, "selected": str(value) == str(raw) and raw not in (None, "")}
            # A field without choices of its own (a number picked from a list) lists its widget's.
            for value, label in getattr(field.field, "choices", None) or getattr(field.field.widget, "choices", [])
        ]
    return context

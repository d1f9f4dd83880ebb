"""GOV.UK Design System markup for Django form fields, written once and used by every form."""

from typing import Any

from django import template
from django.forms import BoundField

register = template.Library()

CHOICE_WIDGETS = {"radioselect": "radios", "checkboxselectmultiple": "checkboxes"}


@register.inclusion_tag("govuk/field.html")
def govuk_field(
    field: BoundField,
    heading: bool = False,
    size: str = "m",
    width: str = "",
    reveal: BoundField | None = None,
    reveal_on: str = "",
) -> dict[str, Any]:
    """One field in GOV.UK markup. ``reveal`` is a field shown under the radio ``reveal_on`` (GOV.UK's
    conditional reveal: hidden by the radios' JavaScript until that radio is chosen, always shown without
    JavaScript)."""
    widget_type = field.widget_type
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
                    "reveal": reveal if reveal is not None and str(value) == reveal_on else None,
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

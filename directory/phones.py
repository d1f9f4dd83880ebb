"""UK telephone numbers as people write them, checked and set out one way (``0114 273 4855``).

Only the form is checked: whether the number is the council's is for whoever gives it. Nothing here
invents a number."""

from __future__ import annotations

import re

# Ofcom's drama range for the Sheffield-style 4-digit area code: numbers that reach nobody. Demo data only.
DRAMA_PREFIX = "01632 960"

_ALLOWED = re.compile(r"^[0-9 ()+\-]+$")


class PhoneInvalid(ValueError):
    """The text is not a UK telephone number; the message says so for the person who typed it."""


def phone_normalise(text: str) -> str:
    """``""`` for ``""``; otherwise a UK number set out with spaces, or PhoneInvalid."""
    text = (text or "").strip()
    if not text:
        return ""
    if not _ALLOWED.match(text):
        raise PhoneInvalid("Enter a UK telephone number, like 0114 273 4855")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("44"):
            raise PhoneInvalid("Enter a UK telephone number, like 0114 273 4855")
        digits = "0" + digits[2:]
    if digits in {"999", "101", "111"}:
        return digits
    if not digits.startswith("0") or len(digits) not in (10, 11):
        raise PhoneInvalid("Enter a UK telephone number, like 0114 273 4855")
    return _spaced(digits)


def _spaced(digits: str) -> str:
    if digits.startswith(("02", "03", "08", "09")) and len(digits) == 11:
        # 020 7946 0000, 0300 123 4567, 0808 157 0192
        if digits.startswith("02"):
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if digits.startswith("01") and len(digits) == 11 and (digits[2] == "1" or digits[3] == "1"):
        # 0114 273 4855, 0161 234 5678
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if digits.startswith("07") and len(digits) == 11:
        return f"{digits[:5]} {digits[5:]}"
    if len(digits) == 11:
        return f"{digits[:5]} {digits[5:]}"  # 01632 960123
    return f"{digits[:5]} {digits[5:]}"


def phone_href(number: str) -> str:
    """The ``tel:`` link of a number shown on a page."""
    return "tel:" + re.sub(r"[^0-9+]", "", number)

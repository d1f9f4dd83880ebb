"""The identifiers people read aloud and write down: report references and case numbers.

Letters and digits that cannot be confused when read aloud or written down (no 0/O, 1/I/L, 5/S, 8/B).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"
REFERENCE_ALPHABET = ALPHABET
CASE_NUMBER_ALPHABET = ALPHABET
# Enough tries that a clash every time means something is wrong, not bad luck.
ATTEMPTS = 5


def random_characters(count: int, choice: Callable[[str], str] = secrets.choice) -> str:
    return "".join(choice(ALPHABET) for _ in range(count))


def new_reference(choice: Callable[[str], str] = secrets.choice) -> str:
    """A reporter's reference: ``HX7K-29QM``."""
    chars = random_characters(8, choice)
    return f"{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str | None:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(cleaned) != 8 or any(ch not in ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:]}"


def new_case_number(year: int, choice: Callable[[str], str] = secrets.choice) -> str:
    """The number authorities see: ``2026-K7M3QX``."""
    return f"{year}-{random_characters(6, choice)}"


class NoFreeIdentifier(RuntimeError):
    """Every try clashed with an identifier already taken."""


def first_free(make: Callable[[], str], taken: Callable[[str], bool], *, attempts: int = ATTEMPTS) -> str:
    """A new identifier that ``taken`` says is free, within a bounded number of tries."""
    for _ in range(attempts):
        candidate = make()
        if not taken(candidate):
            return candidate
    raise NoFreeIdentifier(f"No free identifier in {attempts} tries")

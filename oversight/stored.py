"""Suppression worked out once for all processes: the workers store what each year's tables hide after
each refresh of the summary views (``oversight.selectors.statistics_prepare``), and pages read it
(``DatabaseStore``) instead of working it out again. Kept under a digest of the figures, so a stored
answer is only ever used for the very figures it was worked out for; a page finding none works it out
itself and stores it."""

from __future__ import annotations

from oversight.models import StoredSuppression
from oversight.suppression import Hidden, Position


def _encoded(hidden: Hidden) -> list[list[list[list[int]]]]:
    return [[sorted([r, c] for r, c in positions) for positions in table] for table in hidden]


def _decoded(stored: list[list[list[list[int]]]]) -> Hidden:
    def positions(cells: list[list[int]]) -> frozenset[Position]:
        return frozenset((int(r), int(c)) for r, c in cells)

    return tuple((positions(primary), positions(secondary)) for primary, secondary in stored)


class DatabaseStore:
    """The oversight_stored_suppression table, remembering which digests it was asked for."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def get(self, digest: str) -> Hidden | None:
        self.used.add(digest)
        found = StoredSuppression.objects.filter(digest=digest).values_list("hidden", flat=True).first()
        return None if found is None else _decoded(found)

    def put(self, digest: str, hidden: Hidden) -> None:
        self.used.add(digest)
        StoredSuppression.objects.bulk_create(
            [StoredSuppression(digest=digest, hidden=_encoded(hidden))], ignore_conflicts=True
        )

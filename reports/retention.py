"""What reporters are told about how long their report is kept, in plain words, from the retention periods
(settings.RETENTION_MONTHS, by the case's outcome; triage.retention applies them, lifecycle.schedule
destroys what is due).

The start page and the privacy page say it before anyone reports; /check says it when a report's content
has been destroyed.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings

# Each outcome as the sentence "If your concern …" ends, in the order the start page lists them. The keys are
# triage.models.Outcome's codes (a layer above: tests/reports/test_retention_words.py holds them equal).
OUTCOME_WORDS: dict[str, str] = {
    "substantiated": "was found to be true",
    "partly_substantiated": "was found to be partly true",
    "referred_and_acted_on": "led the local authority to act",
    "not_substantiated": "was looked into and not found to be true",
    "no_further_action": "could not be taken any further",
    "duplicate": "repeated a concern already reported",
    "withdrawn": "was withdrawn by you",
}


def period_words(months: int) -> str:
    """A period as people say it: "6 years", "18 months", "2 years and 6 months"."""
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if rest or not years:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " and ".join(parts)


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def retention_periods() -> list[str]:
    """One sentence per retention period, longest first; outcomes kept for as long share a sentence."""
    by_months: dict[int, list[str]] = {}
    for outcome, words in OUTCOME_WORDS.items():
        months = settings.RETENTION_MONTHS.get(outcome)
        if months is not None:
            by_months.setdefault(int(months), []).append(words)
    return [
        f"If your concern {_joined(outcomes)}, we keep what you told us for {period_words(months)} after the "
        "helpline closes it."
        for months, outcomes in sorted(by_months.items(), key=lambda item: -item[0])
    ]


def destroyed_day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def destroyed_detail(day: date) -> str:
    """The reporters' API's answer for a report whose content was destroyed."""
    return (
        f"What you told us in this report was deleted on {destroyed_day_words(day)} under the helpline's "
        "retention schedule: your report, your messages, the helpline's replies and your files. Nobody can open "
        "them again, and this access code no longer opens anything. To tell the helpline something new, send a "
        "new report."
    )

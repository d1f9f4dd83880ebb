"""Reads for the reporter's side: what the reporter may know about their own report."""

from dataclasses import dataclass

from reports.models import Report
from triage.models import Case


@dataclass(frozen=True)
class ReporterStatus:
    code: str
    label: str
    explanation: str


_STATUS = {
    None: ("received", "Received", "We have your concern. It is being passed to the helpline team."),
    Case.Status.NEW: ("with_helpline", "With the helpline", "Your concern is in the helpline's queue."),
    Case.Status.IN_TRIAGE: ("with_helpline", "With the helpline", "A member of the helpline team is looking at it."),
    Case.Status.AWAITING_REPORTER: (
        "question_for_you",
        "The helpline has a question for you",
        "Please read the messages below and reply.",
    ),
    Case.Status.REFERRED: (
        "referred",
        "Passed to the local authority",
        "The helpline has referred your concern. It will tell you what the local authority does.",
    ),
    Case.Status.NATIONAL_REVIEW: (
        "national_review",
        "Under independent national review",
        "Your concern is being looked at independently of the council it is about.",
    ),
    Case.Status.CLOSED: ("closed", "Closed", "The helpline's feedback is in the messages below."),
}


def reporter_status(report: Report) -> ReporterStatus:
    case = Case.objects.filter(report=report).only("status").first()
    code, label, explanation = _STATUS[case.status if case else None]  # type: ignore[index]
    return ReporterStatus(code=code, label=label, explanation=explanation)

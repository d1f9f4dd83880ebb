"""The outbox kinds triage does the work for, registered when the app is ready (triage/apps.py). Sending email
is notify's kind (notify/apps.py)."""

from outbox.registry import register
from reports.outbox_kinds import REPORTER_ADDED_FILE, REPORTER_REPLIED, ROUTE_REPORT
from triage.intake import report_route_handler, reporter_added_file, reporter_replied


def register_handlers() -> None:
    # Database work only: it commits together with the row being marked processed.
    register(ROUTE_REPORT, report_route_handler, atomic=True)
    register(REPORTER_REPLIED, reporter_replied, atomic=True)
    register(REPORTER_ADDED_FILE, reporter_added_file, atomic=True)

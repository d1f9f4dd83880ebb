"""Kinds of outbox work the reports app asks for. Triage registers the handlers of the first two (reports never
calls triage); reports registers its own for PROCESS_ATTACHMENT (reports.attachment_pipeline, reports/apps.py)."""

# A new report (target: the report) to be turned into a case in a queue.
ROUTE_REPORT = "route_report"
# The reporter wrote in their mailbox (target: the message): the case hears of it, and a case waiting
# for the reporter goes back to the helpline.
REPORTER_REPLIED = "reporter_replied"
# A file added to a report (target: the attachment): scanned, stripped of metadata and re-sealed by the
# workers (reports.attachment_pipeline), each step recorded on the attachment so a re-run never repeats one.
PROCESS_ATTACHMENT = "process_attachment"

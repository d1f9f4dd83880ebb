"""Kinds of outbox work the reports app asks for. Triage registers the handlers of the first three (reports never
calls triage); reports registers its own for PROCESS_ATTACHMENT (reports.attachment_pipeline, reports/apps.py)."""

# A new report (target: the report) to be turned into a case in a queue.
ROUTE_REPORT = "route_report"
# The reporter wrote in their mailbox (target: the message): the case hears of it, and a case waiting
# for the reporter goes back to the helpline.
REPORTER_REPLIED = "reporter_replied"
# The reporter added a file to their sent report without a message (target: the attachment): the case hears of
# it as of a message, and a case waiting for the reporter goes back to the helpline. (A file sent with a
# message is heard of through the message's REPORTER_REPLIED.)
REPORTER_ADDED_FILE = "reporter_added_file"
# A file added to a report (target: the attachment): scanned, stripped of metadata and re-sealed by the
# workers (reports.attachment_pipeline), each step recorded on the attachment so a re-run never repeats one.
PROCESS_ATTACHMENT = "process_attachment"
# A report just sent (target: its receipt): the workers sign the reporter's proof of disclosure
# (reports.receipts), which only they hold the key for, and seal it for the reporter.
SIGN_RECEIPT = "sign_receipt"

"""Celery tasks: thin shells. Beat runs ``audit.tasks.checkpoint`` every AUDIT_CHECKPOINT_SECONDS."""

import logging

from celery import shared_task

from audit.checkpoints import TrailBroken, checkpoint_write

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.checkpoint")
def checkpoint() -> None:
    """Sign the chain's head into the checkpoint sink. Needs AUDIT_SIGNING_KEY; see docs/deploy.md.

    A trail that no longer extends its last checkpoint is not signed: the break is recorded and alerted by
    checkpoint_write, and logged here as an error at every run until the trail is put right."""
    try:
        written = checkpoint_write()
    except TrailBroken as broken:
        logger.error("Audit checkpoint refused, the trail is broken: %s", broken)
        return
    if written is None:
        logger.info("Audit checkpoint: no events yet")
    else:
        logger.info("Audit checkpoint: event %s, %s events", written.last_event_id, written.event_count)

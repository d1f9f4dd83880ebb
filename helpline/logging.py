"""Log hygiene: no request objects, client addresses or user agents reach a log handler."""

import logging


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request attaches the request (with META: address, agent, cookies) to the record.
        if hasattr(record, "request"):
            record.request = None
        return True

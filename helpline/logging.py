"""Log hygiene: no request objects, client addresses or user agents reach a log handler, and every line is one
JSON object (level, logger, message, and the exception's type and traceback when there is one).

No time field: the log collector stamps each line as it arrives, and the lines themselves never say when a
reporter did something more precisely than that. What a line may say is what ``%``-formatting the message
gives, exactly as before; ScrubFilter runs first, so a record never carries its request.
"""

import json
import logging


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request attaches the request (with META: address, agent, cookies) to the record.
        if hasattr(record, "request"):
            record.request = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line. Newlines in a message or traceback are escaped by json, so a multi-line message
    never splits into lines a log collector would take for records of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Not ASCII-escaped: a search of the logs for a text finds it as written.
        return json.dumps(entry, ensure_ascii=False, default=str)

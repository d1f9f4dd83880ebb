import os
import time
from collections.abc import Sequence
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend
from django.core.mail.message import EmailMessage

LATENCY = 0.5


def sending_marker(mail_dir: Path, pid: int) -> Path:
    return mail_dir / f".sending-{pid}"


class SlowFileBackend(EmailBackend):
    """The file backend with a provider's latency, so a worker can be killed while it sends.

    While it waits, before anything is written, it leaves a marker holding the time the wait began. A test
    that kills a process during that wait kills it before the provider "accepted" the message, so a resend
    is not a duplicate. (A kill just after the provider accepted it and before the row is marked sent does
    repeat the email: delivery is at least once, as docs/architecture.md says; such a kill is not what these tests
    are about, and killing at random would make them fail at random.)"""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        marker = sending_marker(Path(self.file_path), os.getpid())
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(repr(time.time()))
        time.sleep(LATENCY)
        marker.unlink(missing_ok=True)
        return super().send_messages(email_messages)

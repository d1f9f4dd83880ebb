import time
from collections.abc import Sequence

from django.core.mail.backends.filebased import EmailBackend
from django.core.mail.message import EmailMessage


class SlowFileBackend(EmailBackend):
    """The file backend with a provider's latency, so a worker can be killed while it sends."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        time.sleep(0.3)
        return super().send_messages(email_messages)

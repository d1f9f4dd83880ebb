"""Development mail that stays private to the service's user.

Django's console backend prints every message to the process output, and with it a reporter's email
address and the moment the helpline wrote to them: exactly what must never reach a log. Its file backend
writes with the process's umask, so any user of the machine could read the messages. This backend keeps
each message in a file only the service's user can read (0600, in a 0700 folder), and prints nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend


class PrivateFileEmailBackend(EmailBackend):
    """Django's file backend with owner-only permissions on the folder and on every file."""

    def __init__(self, file_path: str | None = None, **kwargs: Any) -> None:
        folder = Path(file_path or settings.EMAIL_FILE_PATH).absolute()
        # Made owner-only before Django's own makedirs, which would use the umask; a folder made earlier
        # with a looser mode is tightened.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
        super().__init__(file_path=str(folder), **kwargs)

    def open(self) -> bool:
        if self.stream is not None:
            return False
        path = self._get_filename()
        # Created owner-only from the start, so there is no moment when another user could open it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.stream = os.fdopen(descriptor, "ab")
        return True

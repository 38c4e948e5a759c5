"""An email backend that delivers into a Maildir: the development mailbox.

Django's own file backend appends several messages to one log file, which nothing can list or
open one by one; a Maildir (standard library ``mailbox``) keeps one file per message, written
atomically, so the Entra ID stand-in's mailbox page can list and show them. Written by hand
because no maintained package does this for Django.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class MaildirEmailBackend(BaseEmailBackend):
    def __init__(self, *args, mailbox_dir: str | Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox_dir = Path(mailbox_dir or settings.MAILBOX_DIR)

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        box = mailbox.Maildir(self.mailbox_dir, create=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            box.add(message.message())
            sent += 1
        return sent

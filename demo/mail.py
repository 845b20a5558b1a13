"""The demo's mailbox: the e-mails the site sends (password resets) are kept as files in the demo's
var folder and listed on a page the demo banner links to, instead of only in the web server's log.

`make demo` selects the backend through EMAIL_BACKEND (demo/config.py); the rest of the site sends
mail exactly as it does with SMTP.
"""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

FOLDER = "demo-mail"
# The page lists the newest messages only: a demo sends a handful.
LIST_LIMIT = 50


def mailbox_dir() -> Path:
    return Path(settings.VAR_DIR) / FOLDER


class MailboxBackend(BaseEmailBackend):
    """Keep each message as an .eml file named after the time it was sent, and say so in the log."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = mailbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
            print(
                f"demo mail: “{message.subject}” to {', '.join(message.to)}: "
                "open the demo mailbox (linked from the demo banner) to read it",
                flush=True,
            )
        return len(email_messages)


@dataclass(frozen=True)
class MailboxMessage:
    sent_at: datetime
    sender: str
    to: str
    subject: str
    body: str


def mailbox_list(*, limit: int = LIST_LIMIT) -> list[MailboxMessage]:
    """The messages in the demo mailbox, newest first."""
    folder = mailbox_dir()
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def _read(path: Path) -> MailboxMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)  # what the default policy builds
    part = parsed.get_body(preferencelist=("plain",))
    nanoseconds = int(path.name.split("-", 1)[0])
    return MailboxMessage(
        sent_at=datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC),
        sender=str(parsed["From"] or ""),
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        body=part.get_content() if part is not None else "",
    )

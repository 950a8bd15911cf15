"""Email delivery: SMTP when a host is configured, else .eml files in the instance folder."""

from __future__ import annotations

import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from webhooks.config import Settings
from webhooks.delivery import Delivered, SendError


def build_email(sender: str, recipient: str, payload: dict[str, Any]) -> EmailMessage:
    """A text+HTML email from an outbox payload."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, payload["subject"]
    message["Message-ID"] = f"<{uuid.uuid4().hex}@rj-frontdoor>"
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


class EmailSender:
    """Sends outbox emails over SMTP, or writes them to files."""

    def __init__(self, settings: Settings) -> None:
        """Use the SMTP settings, or the instance folder when there is no host."""
        self.settings = settings

    def send(self, recipient: str, payload: dict[str, Any], callback_id: int | None) -> Delivered:
        """Deliver one email."""
        message = build_email(self.settings.mail_from, recipient, payload)
        if self.settings.smtp_host is None:
            return Delivered(self._write_file(message), "written")
        try:
            self._smtp(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise SendError(f"SMTP refused: {type(exc).__name__}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP failed: {type(exc).__name__}") from exc
        return Delivered(str(message["Message-ID"]), "sent")

    def _smtp(self, message: EmailMessage) -> None:
        """Hand the message to the SMTP server."""
        s = self.settings
        with smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=15) as client:
            if s.smtp_starttls:
                client.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password or "")
            client.send_message(message)

    def _write_file(self, message: EmailMessage) -> str:
        """Write the email as an .eml file; its name is the provider id."""
        folder: Path = self.settings.outbox_path
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
        (folder / name).write_bytes(message.as_bytes())
        return name

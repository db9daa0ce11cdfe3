"""Email over SMTP (STARTTLS, SSL or plain): building the message, sending it, and which failures are final."""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from crawler.config import Email as EmailConfig
from notify.errors import DeliveryError
from notify.messages import EmailContent
from notify.redact import redact

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = XLSX_TYPE[0]
    subtype: str = XLSX_TYPE[1]


def build_message(
    config: EmailConfig, recipient: str, content: EmailContent, message_id: str, attachment: Attachment | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = recipient
    # A header is one line: a line break in a product name (a multi-line price-list cell) must not end the header
    # (the email library refuses it, and would otherwise let the text add headers of its own).
    msg["Subject"] = " ".join(content.subject.split())
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    if attachment is not None:
        msg.add_attachment(
            attachment.content, maintype=attachment.maintype, subtype=attachment.subtype, filename=attachment.filename
        )
    return msg


def _permanent(code: int) -> bool:
    # 5xx is final, except authentication (530/534/535): that is our config, fixed by the admin, then retried.
    return code >= 500 and code not in (530, 534, 535)


def classify(exc: Exception, password: str | None) -> DeliveryError:
    message = redact(f"{type(exc).__name__}: {exc}", [password])
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return DeliveryError(message, permanent=bool(codes) and all(_permanent(c) for c in codes))
    if isinstance(exc, smtplib.SMTPConnectError):
        return DeliveryError(message)
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryError(message, permanent=_permanent(exc.smtp_code))
    return DeliveryError(message)


class EmailSender:
    """Sends one message per connection (a flush sends few: digests and the rare instant email)."""

    def __init__(self, config: EmailConfig) -> None:
        if config.host is None:
            raise ValueError("email is not configured (notify.email.host)")
        self.config = config
        self.host: str = config.host
        self.password = config.password.get_secret_value() if config.password else None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(self.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, cfg.port, timeout=cfg.timeout)
        if cfg.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: EmailMessage) -> str:
        """Deliver to the SMTP server; returns the Message-ID. Raises DeliveryError."""
        try:
            with self._connect() as smtp:
                if self.config.username:
                    smtp.login(self.config.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc, self.password) from None
        return str(message["Message-ID"])

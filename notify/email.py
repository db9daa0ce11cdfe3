"""Email over SMTP (STARTTLS, SSL or plain): building the message, sending it, and which failures are final."""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from crawler.config import Email as EmailConfig
from notify.errors import CHANNEL, RECIPIENT, DeliveryError
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


# The server refusing our login (or wanting one): the admin's to fix; every message waits for it, none is lost.
_AUTH_CODES = (530, 534, 535)


def _permanent(code: int) -> bool:
    return code >= 500 and code not in _AUTH_CODES


def _recipients_refused(exc: smtplib.SMTPRecipientsRefused, message: str) -> DeliveryError:
    codes = [code for code, _ in exc.recipients.values()]
    if codes and all(_permanent(c) for c in codes):
        return DeliveryError(message, permanent=True, refused=RECIPIENT)
    return DeliveryError(message)


def classify(exc: Exception, password: str | None, *, request_sent: bool = False) -> DeliveryError:
    """A refused recipient → never (that recipient); a refused login → the channel waits for the admin; another 5xx
    → never; else later. `request_sent`: the message was being handed over, so a timeout or a hang-up may hide an
    accepted message."""
    message = redact(f"{type(exc).__name__}: {exc}", [password])
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(exc, message)
    if isinstance(exc, smtplib.SMTPConnectError):
        return DeliveryError(message)
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code in _AUTH_CODES:
            return DeliveryError(message, refused=CHANNEL)
        return DeliveryError(message, permanent=_permanent(exc.smtp_code))
    unanswered = request_sent and isinstance(exc, TimeoutError | smtplib.SMTPServerDisconnected)
    return DeliveryError(message, unanswered=unanswered)


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

    def _ready(self) -> smtplib.SMTP:
        """Connected, greeted and logged in: nothing of the message has gone yet."""
        smtp = self._connect()
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.config.username:
                smtp.login(self.config.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, on_send: Callable[[], None] | None = None) -> str:
        """Deliver to the SMTP server; returns the Message-ID. Raises DeliveryError.

        `on_send` is called once connected and logged in, right before the message is handed over.
        """
        try:
            smtp = self._ready()
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc, self.password) from None
        if on_send is not None:
            try:
                on_send()
            except BaseException:
                smtp.close()
                raise
        try:
            smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise classify(exc, self.password, request_sent=True) from None
        _quit(smtp)
        return str(message["Message-ID"])


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye after the server accepted the message; a failing goodbye must not make it look refused."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()

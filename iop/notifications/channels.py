"""Delivery channels: email through Django's backend, SMS through a small backend
interface, in-app for staff. A channel sends and returns the provider's id; it raises
``TransientError`` for what may succeed later and ``PermanentError`` for what never
will. ``confirm_not_sent`` answers the recovery sweep: True only when the channel can
prove a message never left (then it is safe to send again), None when it cannot tell."""

import json
import logging
import os
import sys
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """The provider may accept it later (connection refused, 5xx, rate limit)."""


class PermanentError(Exception):
    """The provider will never accept it (bad number, 4xx other than 429)."""


# --- SMS backends ---------------------------------------------------------------------


class BaseSmsBackend(ABC):
    """What every SMS backend does; ``IOP_SMS_BACKEND`` names the one in use."""

    @abstractmethod
    def send(self, *, to: str, body: str, reference: str) -> str:
        """Send one text; ``reference`` is the outbox row's public id. Returns the
        provider's message id."""

    def confirm_not_sent(self, *, reference: str) -> bool | None:
        return None


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints each text to stdout (the demo's worker log)."""

    def send(self, *, to, body, reference):
        sys.stdout.write(f"--- SMS to {to} (ref {reference})\n{body}\n---\n")
        sys.stdout.flush()
        return f"console-{reference}"


class FileSmsBackend(BaseSmsBackend):
    """Appends each text as one JSON line to ``IOP_SMS_FILE_PATH``; it can tell the
    recovery sweep whether a reference ever reached the file."""

    @property
    def path(self) -> Path:
        return Path(settings.IOP_SMS_FILE_PATH)

    def send(self, *, to, body, reference):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"to": to, "body": body, "reference": reference}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return f"file-{reference}"

    def confirm_not_sent(self, *, reference):
        if not self.path.exists():
            return True
        with self.path.open(encoding="utf-8") as handle:
            return all(json.loads(line).get("reference") != reference for line in handle)


class HttpSmsBackend(BaseSmsBackend):
    """A JSON-over-HTTPS provider: POST ``{"to", "from", "body", "reference"}`` to
    ``IOP_SMS_HTTP_URL`` with ``Authorization: Bearer IOP_SMS_HTTP_TOKEN``; the
    provider answers ``{"id": ...}``. The reference lets a provider de-duplicate."""

    def send(self, *, to, body, reference):
        payload = json.dumps(
            {"to": to, "from": settings.IOP_SMS_FROM, "body": body, "reference": reference}
        ).encode()
        request = urllib.request.Request(  # noqa: S310  (URL from settings, https in production)
            settings.IOP_SMS_HTTP_URL,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.IOP_SMS_HTTP_TOKEN}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise TransientError(f"http-{exc.code}") from None
            raise PermanentError(f"http-{exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientError(type(exc).__name__) from None
        return str(answer.get("id", ""))[:120]


def sms_backend() -> BaseSmsBackend:
    return import_string(settings.IOP_SMS_BACKEND)()


# --- Sending one message ----------------------------------------------------------------


def send(message) -> str:
    """Send ``message`` (an OutboxMessage) on its channel; returns the provider id."""
    from iop.notifications.models import Channel

    reference = str(message.public_id)
    if message.channel == Channel.EMAIL:
        message_id = make_msgid(domain="iop.local")
        email = EmailMessage(
            message.subject,
            message.body,
            None,
            [message.recipient],
            headers={"Message-ID": message_id},
        )
        try:
            email.send()
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise TransientError(type(exc).__name__) from None
        return message_id
    if message.channel == Channel.SMS:
        return sms_backend().send(to=message.recipient, body=message.body, reference=reference)
    if message.channel == Channel.IN_APP:
        # Sending an in-app message is making it visible in the staff member's list.
        return f"in-app-{reference}"
    raise PermanentError(f"unknown-channel-{message.channel}")


def confirm_not_sent(message) -> bool | None:
    from iop.notifications.models import Channel

    if message.channel == Channel.IN_APP:
        return True  # nothing left the building; showing it again is harmless
    if message.channel == Channel.SMS:
        return sms_backend().confirm_not_sent(reference=str(message.public_id))
    return None  # SMTP cannot say whether a message it may have accepted left

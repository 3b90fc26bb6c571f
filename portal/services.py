"""Portal writes: accounts, sign-in links, the rate limits. Keyword-only, each in one
transaction, audited.

The answers a person sees never depend on whether an address or a link belongs to
someone: ``link_request`` answers nothing, ``link_redeem`` answers an account or None
whatever went wrong (unknown, expired, used, another client's, throttled).
"""

import hashlib
import hmac
import re
import secrets
import time
from binascii import unhexlify
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ReminderChannel
from clients.reminders import reminder_route
from clients.services import normalise_phone
from iop.audit.models import Outcome
from iop.audit.services import AuditContext, audit_record
from iop.notifications.models import Audience, Channel
from iop.notifications.services import outbox_enqueue, queue_delivery, render_message
from portal.models import (
    ClientAccount,
    ClientAuthenticator,
    SignInAttempt,
    SignInToken,
    ThrottleKind,
    token_hash,
)

# Rate limits: (how many, in what window). A link asked for the same address more
# often, or from the same IP address, is silently not sent (the page says the same);
# a link refused too often from one IP address refuses even a good one for a while.
LIMITS = {
    ThrottleKind.LINK_ADDRESS: (3, timedelta(minutes=15)),
    ThrottleKind.LINK_IP: (10, timedelta(hours=1)),
    ThrottleKind.REDEEM_FAILED: (10, timedelta(minutes=15)),
    ThrottleKind.CODE_FAILED: (5, timedelta(minutes=15)),
}
ATTEMPT_MEMORY = timedelta(days=1)
TEMPLATE = "portal_sign_in"
# Who asked for a link, in the audit: someone at the sign-in page, not yet anyone.
ANONYMOUS = "portal:sign-in-page"


# --- Rate limits -------------------------------------------------------------------------


def _key(kind: str, value: str) -> str:
    """A keyed hash: the table never holds an address or an IP address as typed."""
    message = f"{kind}:{value}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def throttled(kind: str, value: str, *, now=None) -> bool:
    limit, window = LIMITS[kind]
    now = now or timezone.now()
    recent = SignInAttempt.objects.filter(kind=kind, key=_key(kind, value), at__gt=now - window)
    return recent.count() >= limit


def attempt_note(kind: str, value: str, *, now=None) -> None:
    now = now or timezone.now()
    SignInAttempt.objects.filter(at__lt=now - ATTEMPT_MEMORY).delete()
    SignInAttempt.objects.create(kind=kind, key=_key(kind, value), at=now)


# --- Accounts ----------------------------------------------------------------------------


@transaction.atomic
def account_enable(*, client: Client, actor, audit: AuditContext | None = None) -> ClientAccount:
    """Give the client portal access (again): one account per client. Giving it to a
    client who has it changes nothing and writes nothing (``account.repeated``): a
    double submit makes no second account and no second audit row."""
    now = timezone.now()
    account, created = ClientAccount.objects.select_for_update().get_or_create(
        client=client, defaults={"created_by": actor, "enabled_at": now}
    )
    if not created and account.enabled:
        account.repeated = True
        return account
    if not created:
        account.enabled = True
        account.enabled_at = now
        account.save(update_fields=["enabled", "enabled_at"])
    audit_record(
        action="portal.account_enable",
        actor=actor,
        audit=audit,
        obj=account,
        client=client,
        detail="created" if created else "enabled",
    )
    return account


@transaction.atomic
def account_disable(*, account: ClientAccount, actor, audit: AuditContext | None = None):
    """Turn the account off: its links stop working and its sessions end at their next
    page (``portal.access.load_account`` reads only enabled accounts). Turning off an
    account that is off changes nothing (``account.repeated``)."""
    account = ClientAccount.objects.select_for_update().select_related("client").get(pk=account.pk)
    if not account.enabled:
        account.repeated = True
        return account
    account.enabled = False
    account.save(update_fields=["enabled"])
    account.tokens.filter(used_at__isnull=True).update(used_at=timezone.now())
    audit_record(
        action="portal.account_disable",
        actor=actor,
        audit=audit,
        obj=account,
        client=account.client,
    )
    return account


# --- Sign-in links -----------------------------------------------------------------------


def link_url(raw: str) -> str:
    return f"{settings.IOP_SITE_URL}{reverse('portal:link', args=[raw])}"


def token_issue(*, account: ClientAccount, issued_by: str = "request") -> tuple[SignInToken, str]:
    """A new one-time link for ``account``: (the row, the raw token). The raw token is
    returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    token = SignInToken.objects.create(
        account=account,
        token_hash=token_hash(raw),
        created_at=now,
        expires_at=now + SignInToken.lifetime(),
        issued_by=issued_by,
    )
    return token, raw


@transaction.atomic
def staff_link(*, client: Client, actor=None, audit: AuditContext) -> str:
    """A sign-in URL for staff to hand over (``portal_link``); the account must be on."""
    account = ClientAccount.objects.enabled().filter(client=client).first()
    if account is None:
        raise ValidationError("This client has no portal access: give it first.")
    token, raw = token_issue(account=account, issued_by="staff")
    audit_record(action="portal.link_issued", actor=actor, audit=audit, obj=token, client=client)
    return link_url(raw)


def link_send(
    *, account: ClientAccount, channel: str, recipient: str, issued_by: str = "request"
) -> SignInToken:
    """A new one-time link for ``account``, sent through the outbox to ``recipient``
    in the neutral sign-in message (the sign-in page's and the staff page's sending).
    The caller audits and holds the transaction."""
    token, raw = token_issue(account=account, issued_by=issued_by)
    subject, body = render_message(
        TEMPLATE,
        channel,
        {"url": link_url(raw), "minutes": SignInToken.lifetime().seconds // 60},
    )
    message, _ = outbox_enqueue(
        idempotency_key=f"portal-link:{token.public_id}",
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        audience=Audience.CLIENT,
        client=account.client.public_id,
        template=TEMPLATE,
        ref=f"portal-link:{token.public_id}",
        refs={"token": str(token.public_id)},
    )
    queue_delivery(message.pk)
    return token


def no_route_reason(client: Client) -> str:
    """Why no link may be sent to the client: the clinic messages a client only by the
    channel they consented to reminders on (README, *Reminders*)."""
    if not client.reminder_consent or client.reminder_channel == ReminderChannel.NONE:
        return (
            "Not sent: the client has not agreed to reminders, so the clinic does not "
            "message them. Show a one-time link to hand over instead, or record their "
            "agreement under Edit details."
        )
    if client.reminder_channel == ReminderChannel.SMS:
        return "Not sent: the client chose text messages, but no phone number is on file."
    return "Not sent: the client chose email, but no email address is on file."


@transaction.atomic
def staff_link_send(*, client: Client, actor, audit: AuditContext) -> str:
    """Staff send the client a sign-in link by the channel the client consented to
    reminders on; returns that channel. Refused, with the reason, when the client has
    no portal access, no consented route, or the address had its share of links
    (the sign-in page's limit per address, which these sends count towards)."""
    account = ClientAccount.objects.enabled().select_for_update().filter(client=client).first()
    if account is None:
        raise ValidationError("This client has no portal access: give it first.")
    account.client = client
    route = reminder_route(client)
    if route is None:
        raise ValidationError(no_route_reason(client))
    channel, recipient = route
    value = recipient.lower() if channel == Channel.EMAIL else recipient
    if throttled(ThrottleKind.LINK_ADDRESS, value):
        limit, window = LIMITS[ThrottleKind.LINK_ADDRESS]
        raise ValidationError(
            f"Not sent: {limit} links were asked for this client's address in the last "
            f"{window.seconds // 60} minutes. Wait, or show a one-time link to hand over."
        )
    attempt_note(ThrottleKind.LINK_ADDRESS, value)
    token = link_send(account=account, channel=channel, recipient=recipient, issued_by="staff")
    audit_record(
        action="portal.link_sent",
        actor=actor,
        audit=audit,
        obj=token,
        client=client,
        detail=f"channel={channel}",
    )
    return channel


def _address(text: str) -> tuple[str, str]:
    """(channel, normalised address) of what a person typed, or a ValidationError."""
    text = (text or "").strip()
    if "@" in text:
        return Channel.EMAIL, text.lower()
    try:
        phone = normalise_phone(text, field="address")
    except ValidationError:
        phone = ""
    if not phone:
        raise ValidationError(
            {"address": "Enter the email address or the mobile number the clinic has for you."}
        )
    return Channel.SMS, phone


@transaction.atomic
def link_request(*, address: str, ip: str | None) -> int:
    """Send a one-time link to ``address`` if it is an enabled account's email or phone
    on file. Returns how many went (for tests; the page never says). The same work is
    done whether or not the address exists, up to the lookup."""
    channel, value = _address(address)
    now = timezone.now()
    ip_value = ip or "unknown"
    over = throttled(ThrottleKind.LINK_IP, ip_value, now=now) or throttled(
        ThrottleKind.LINK_ADDRESS, value, now=now
    )
    attempt_note(ThrottleKind.LINK_IP, ip_value, now=now)
    attempt_note(ThrottleKind.LINK_ADDRESS, value, now=now)
    accounts = ClientAccount.objects.enabled().select_related("client")
    if channel == Channel.EMAIL:
        accounts = accounts.filter(client__email__iexact=value)
    else:
        accounts = accounts.filter(client__phone=value)
    accounts = list(accounts)
    sent = 0
    for account in accounts:
        client = account.client
        audit = AuditContext(actor=None, ip_address=ip, username=ANONYMOUS)
        if over:
            audit_record(
                action="portal.link_request",
                audit=audit,
                outcome=Outcome.DENIED,
                client=client,
                detail=f"throttled; channel={channel}",
            )
            continue
        recipient = client.email if channel == Channel.EMAIL else client.phone
        token = link_send(account=account, channel=channel, recipient=recipient)
        audit_record(
            action="portal.link_request",
            audit=audit,
            obj=token,
            client=client,
            detail=f"channel={channel}",
        )
        sent += 1
    if not accounts:
        # Written for an address on file or not alike: the trail shows every request,
        # and the page does a like amount of work either way.
        audit_record(
            action="portal.link_request",
            audit=AuditContext(actor=None, ip_address=ip, username=ANONYMOUS),
            outcome=Outcome.DENIED if over else Outcome.ALLOWED,
            detail=f"no account; channel={channel}" + ("; throttled" if over else ""),
        )
    return sent


def link_redeem(*, raw: str, ip: str | None, signed_in_account_id: int | None = None):
    """The account a posted link signs in, or None. Every failure looks the same to the
    person; the audit row says which it was (a code, no client data)."""
    now = timezone.now()
    ip_value = ip or "unknown"
    reason, account = "", None
    with transaction.atomic():
        if throttled(ThrottleKind.REDEEM_FAILED, ip_value, now=now):
            reason = "throttled"
        else:
            token = (
                SignInToken.objects.select_for_update()
                .select_related("account__client")
                .filter(token_hash=token_hash(raw or ""))
                .first()
            )
            if token is None:
                reason = "unknown"
            elif token.used_at is not None:
                reason = "used"
            elif now >= token.expires_at:
                reason = "expired"
            elif not token.account.enabled:
                reason = "account off"
            elif signed_in_account_id not in (None, token.account_id):
                reason = "another client's"
            else:
                account = token.account
                token.used_at = now
                token.save(update_fields=["used_at"])
                # One link in use at a time: the others still out there stop working.
                account.tokens.filter(used_at__isnull=True).update(used_at=now)
                account.last_sign_in_at = now
                account.save(update_fields=["last_sign_in_at"])
        if account is None:
            attempt_note(ThrottleKind.REDEEM_FAILED, ip_value, now=now)
            audit_record(
                action="portal.sign_in",
                audit=AuditContext(actor=None, ip_address=ip, username=ANONYMOUS),
                outcome=Outcome.DENIED,
                detail=f"link; reason={reason}",
            )
            return None
        audit_record(
            action="portal.sign_in",
            audit=AuditContext.client_self(account.client.public_id, ip),
            obj=account,
            client=account.client,
            detail="link",
        )
    return account


_LINK = re.compile(r"(/my/sign-in/)[A-Za-z0-9_-]{20,}/")


def redacted(body: str) -> str:
    """``body`` with every sign-in link's token cut out."""
    return _LINK.sub(r"\1[used]/", body)


# --- The optional authenticator ---------------------------------------------------------


def authenticator_verify(*, account: ClientAccount, code: str, setup: bool = False) -> bool:
    """Check a 6-digit code against the account's authenticator (django-otp's TOTP:
    30-second steps, one step of tolerance, a code never taken twice). ``setup``: the
    not-yet-confirmed one being enrolled, which the right code confirms."""
    from django_otp.oath import TOTP

    with transaction.atomic():
        device = (
            ClientAuthenticator.objects.select_for_update()
            .filter(account=account, confirmed=not setup)
            .first()
        )
        if device is None or not code.isdigit():
            return False
        totp = TOTP(unhexlify(device.key.encode()), step=30, t0=0, digits=6, drift=0)
        totp.time = time.time()
        if not totp.verify(int(code), tolerance=1, min_t=device.last_t + 1):
            return False
        device.last_t = totp.t()
        fields = ["last_t"]
        if setup:
            device.confirmed = True
            fields.append("confirmed")
        device.save(update_fields=fields)
    return True


def authenticator_start(*, account: ClientAccount) -> ClientAuthenticator:
    """The key being enrolled: the one shown already (so a wrong code does not change
    what the app was given), or a new one. A confirmed one is returned as it is."""
    from django_otp.util import random_hex

    device, _ = ClientAuthenticator.objects.get_or_create(
        account=account, defaults={"key": random_hex(20)}
    )
    return device


@transaction.atomic
def authenticator_remove(*, account: ClientAccount, audit: AuditContext) -> None:
    ClientAuthenticator.objects.filter(account=account).delete()
    audit_record(action="portal.2fa_removed", audit=audit, obj=account, client=account.client)

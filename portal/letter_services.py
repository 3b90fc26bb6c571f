"""Attendance letters: asked for by the client, decided by staff, verified by a recipient.

- ``covering_consents``: the client's signed consents in force today that name a person
  or an organisation (not the TPO class) and cover attendance (and screens, when the
  letter is to include them): only these may carry a letter (42 CFR 2.31, 2.33).
- ``letter_request``: the client asks; refused without such a consent.
- ``letter_approve``: staff approve; the figures are computed then and frozen in
  ``content`` (``scheduling.selectors.attendance_summary``, the attendance report's
  rules), a random verification code is drawn and the letter is recorded as a
  disclosure under the consent (``clients.services.disclosure_record``), in one
  transaction. ``letter_decline`` records why not.
- ``letter_by_code``: the public page's look-up.
"""

import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import (
    DUPLICATE_WINDOW,
    Client,
    Consent,
    DisclosureMethod,
    InformationCategory,
    RecipientType,
)
from clients.services import discharge_dates, disclosure_record
from iop import when
from iop.audit.services import AuditContext, audit_record
from iop.forms import text_problem
from portal.models import AttendanceLetter, LetterStatus
from scheduling.selectors import attendance_summary

# The longest period one letter covers, and how far back it may start.
MAX_PERIOD_DAYS = 366
# Letters' verification codes: 16 characters of an alphabet without look-alikes
# (80 bits from ``secrets``), shown in groups of four.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16


def _categories(include_screens: bool) -> list[str]:
    return [InformationCategory.ATTENDANCE] + (
        [InformationCategory.SCREENS] if include_screens else []
    )


def covering_consents(client: Client, *, include_screens: bool = False) -> list[Consent]:
    today = timezone.localdate()
    discharges = discharge_dates(client)
    return [
        c
        for c in Consent.objects.signed()
        .filter(client=client)
        .exclude(recipient_type=RecipientType.TPO)
        .order_by("recipient_name", "id")
        if c.state_on(today, discharges=discharges) == "active"
        and c.covers_categories(_categories(include_screens))
    ]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())[:40]


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _check_period(start, end) -> None:
    today = timezone.localdate()
    if start is None or end is None:
        raise ValidationError({"period_start": "Give the first and the last day."})
    if end < start:
        raise ValidationError({"period_end": "The last day comes before the first."})
    if end > today:
        raise ValidationError({"period_end": "A letter covers days that have passed."})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValidationError({"period_start": "One letter covers a year at most."})


@transaction.atomic
def letter_request(
    *,
    client: Client,
    consent: Consent | None,
    period_start,
    period_end,
    include_screens: bool,
    audit: AuditContext,
) -> AttendanceLetter:
    """The client asks for a letter; a second identical request moments later returns
    the first (``repeated``)."""
    _check_period(period_start, period_end)
    Client.objects.lock(client)
    allowed = {c.pk: c for c in covering_consents(client, include_screens=include_screens)}
    if consent is None or consent.pk not in allowed:
        raise ValidationError(
            {
                "consent": "Choose a recipient named in a consent you signed that covers "
                + ("attendance and screen results." if include_screens else "attendance.")
            }
        )
    earlier = (
        AttendanceLetter.objects.filter(
            client=client,
            consent=consent,
            period_start=period_start,
            period_end=period_end,
            include_screens=include_screens,
            status=LetterStatus.REQUESTED,
            requested_at__gte=timezone.now() - DUPLICATE_WINDOW,
        )
        .order_by("id")
        .first()
    )
    if earlier is not None:
        earlier.repeated = True
        return earlier
    letter = AttendanceLetter.objects.create(
        client=client,
        consent=consent,
        period_start=period_start,
        period_end=period_end,
        include_screens=include_screens,
    )
    audit_record(
        action="letter.request",
        audit=audit,
        obj=letter,
        client=client,
        detail=f"screens={int(include_screens)}",
    )
    return letter


def letter_content(letter: AttendanceLetter, *, issued_by) -> dict:
    """What the letter says (and all the verification page shows), as plain values."""
    client = letter.client
    summary = attendance_summary(client, start=letter.period_start, end=letter.period_end)
    content = {
        "client_name": client.legal_name,
        "client_born": when.day(client.date_of_birth),
        "recipient": letter.consent.recipient_name,
        "program": settings.IOP_PROGRAM_NAME,
        "program_phone": settings.IOP_PROGRAM_PHONE,
        "period": f"{when.day(letter.period_start)} to {when.day(letter.period_end)}",
        "dates_attended": [when.day(d) for d in summary.dates_attended],
        "sessions_attended": summary.sessions_attended,
        "sessions_scheduled": summary.sessions_scheduled,
        "hours": str(summary.hours),
        "rate": summary.rate,
        "issued_on": when.day(timezone.localdate()),
        "issued_by": str(issued_by),
    }
    if letter.include_screens:
        content["screens"] = _screens(client, letter.period_start, letter.period_end)
    return content


def _screens(client, start, end) -> list[dict]:
    from scheduling.models import clinic_tz
    from screening.models import BreathTest, UrineScreen

    tz = clinic_tz()
    # A day either side in UTC, then the clinic's own day decides.
    low = timezone.make_aware(datetime.combine(start - timedelta(days=1), time.min))
    high = timezone.make_aware(datetime.combine(end + timedelta(days=2), time.min))
    rows = [
        (s.collected_at.astimezone(tz).date(), "Urine screen", s.get_outcome_display())
        for s in UrineScreen.objects.filter(
            client=client, collected_at__gte=low, collected_at__lt=high
        )
    ] + [
        (b.tested_at.astimezone(tz).date(), "Breath test", b.get_outcome_display())
        for b in BreathTest.objects.filter(client=client, tested_at__gte=low, tested_at__lt=high)
    ]
    return [
        {"date": when.day(day), "kind": kind, "result": result}
        for day, kind, result in sorted(rows, key=lambda r: (r[0], r[1]))
        if start <= day <= end
    ]


@transaction.atomic
def letter_approve(
    *, letter: AttendanceLetter, actor, audit: AuditContext | None = None
) -> AttendanceLetter:
    letter = (
        AttendanceLetter.objects.select_for_update(of=("self",))
        .select_related("client", "consent")
        .get(pk=letter.pk)
    )
    if letter.status == LetterStatus.APPROVED:
        letter.repeated = True
        return letter
    if letter.status != LetterStatus.REQUESTED:
        raise ValidationError("This request was already declined.")
    content = letter_content(letter, issued_by=actor)
    categories = _categories(letter.include_screens)
    # Refused (and nothing written) unless the consent still covers it today.
    disclosure = disclosure_record(
        client=letter.client,
        consent=letter.consent,
        recipient_name=letter.consent.recipient_name,
        information_categories=categories,
        description=(
            f"Attendance letter, {content['period']}: dates attended, hours, attendance rate"
            + ("; screen results" if letter.include_screens else "")
        ),
        purpose=letter.consent.purpose,
        method=DisclosureMethod.CLIENT_LETTER,
        disclosed_on=timezone.localdate(),
        actor=actor,
        audit=audit,
    )
    letter.status = LetterStatus.APPROVED
    letter.decided_at = timezone.now()
    letter.decided_by = actor
    letter.content = content
    letter.disclosure = disclosure
    letter.verification_code = new_code()
    letter.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "content",
            "disclosure",
            "verification_code",
        ]
    )
    audit_record(
        action="letter.approve", actor=actor, audit=audit, obj=letter, client=letter.client
    )
    return letter


@transaction.atomic
def letter_decline(
    *, letter: AttendanceLetter, reason: str, actor, audit: AuditContext | None = None
) -> AttendanceLetter:
    letter = (
        AttendanceLetter.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=letter.pk)
    )
    if letter.status != LetterStatus.REQUESTED:
        if letter.status == LetterStatus.DECLINED:
            letter.repeated = True
            return letter
        raise ValidationError("This letter was already approved.")
    problem = text_problem(reason or "", 300)
    if problem:
        raise ValidationError({"reason": problem})
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why, in words the client reads."})
    letter.status = LetterStatus.DECLINED
    letter.decided_at = timezone.now()
    letter.decided_by = actor
    letter.decline_reason = reason
    letter.save(update_fields=["status", "decided_at", "decided_by", "decline_reason"])
    audit_record(
        action="letter.decline", actor=actor, audit=audit, obj=letter, client=letter.client
    )
    return letter


def letter_by_code(typed: str) -> AttendanceLetter | None:
    code = normalise_code(typed)
    if len(code) != CODE_LENGTH:
        return None
    return (
        AttendanceLetter.objects.filter(verification_code=code, status=LetterStatus.APPROVED)
        .select_related("client")
        .first()
    )


def default_period() -> tuple:
    today = timezone.localdate()
    return today - timedelta(days=30), today

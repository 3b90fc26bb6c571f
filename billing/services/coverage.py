"""A client's coverages: add, edit, end. No two coverages of one client in the same
order (primary, secondary, tertiary) overlap in dates: refused here with a message,
under the client's row lock, and by an exclusion constraint on PostgreSQL."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import Coverage, Relationship, SelfPay
from clients.models import Client
from iop import when
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date

COVERAGE_FIELDS = (
    "payer",
    "order",
    "member_id",
    "group_number",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_dob",
    "effective_on",
    "ends_on",
    "verified_on",
    "verified_how",
    # The client's address, which the 837P sends (x12 part).
    "address_line1",
    "city",
    "state",
    "postal_code",
)


def overlapping(coverage: Coverage):
    """The client's other coverages in the same order whose dates meet this one's."""
    others = Coverage.objects.filter(client_id=coverage.client_id, order=coverage.order).exclude(
        pk=coverage.pk
    )
    others = others.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=coverage.effective_on))
    if coverage.ends_on is not None:
        others = others.filter(effective_on__lte=coverage.ends_on)
    return others


def _check(coverage: Coverage, *, actor) -> None:
    errors = {}
    check_date(coverage.effective_on, DateKind.EXPIRY, field="effective_on")
    check_date(coverage.ends_on, DateKind.EXPIRY, field="ends_on")
    check_date(coverage.verified_on, DateKind.RECORD, field="verified_on")
    check_date(coverage.subscriber_dob, DateKind.BIRTH, field="subscriber_dob")
    if coverage.ends_on and coverage.effective_on and coverage.ends_on < coverage.effective_on:
        errors["ends_on"] = "The coverage cannot end before it starts."
    if coverage.verified_on and coverage.verified_on > timezone.localdate():
        errors["verified_on"] = "A verification cannot be dated in the future."
    if coverage.verified_on and not coverage.verified_how:
        errors["verified_how"] = "Say how the coverage was verified."
    if coverage.verified_how and not coverage.verified_on:
        errors["verified_on"] = "Give the day the coverage was verified."
    if coverage.relationship != Relationship.SELF:
        for name, label in (
            ("subscriber_first_name", "The subscriber's first name"),
            ("subscriber_last_name", "The subscriber's last name"),
            ("subscriber_dob", "The subscriber's date of birth"),
        ):
            if not getattr(coverage, name):
                errors[name] = f"{label} is needed when the client is not the subscriber."
    if coverage.payer_id and not coverage.payer.active:
        errors["payer"] = "This payer is no longer active."
    if errors:
        raise ValidationError(errors)
    clash = overlapping(coverage).select_related("payer").first()
    if clash is not None:
        until = when.day(clash.ends_on) if clash.ends_on else "no end date"
        raise ValidationError(
            f"This client's {coverage.get_order_display().lower()} coverage with {clash.payer} "
            f"runs from {when.day(clash.effective_on)} to {until}: the dates overlap. "
            "End that coverage first, or make this one secondary."
        )


def _save(coverage: Coverage, *, action: str, actor, audit) -> Coverage:
    if coverage.relationship == Relationship.SELF:
        # The client is the subscriber: the claim names the client (837P loop 2010BA).
        coverage.subscriber_first_name = coverage.subscriber_last_name = ""
        coverage.subscriber_dob = None
    if coverage.verified_on and coverage.verified_by_id is None:
        coverage.verified_by = actor
    coverage.full_clean(exclude=["created_by", "client"], validate_constraints=False)
    _check(coverage, actor=actor)
    try:
        with transaction.atomic():
            coverage.save()
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint, a race lost
        raise ValidationError("The dates overlap another coverage in the same order.") from exc
    audit_record(
        action=action,
        actor=actor,
        audit=audit,
        obj=coverage,
        client=coverage.client,
        detail=f"payer={coverage.payer.code}; order={coverage.order}",
    )
    return coverage


@transaction.atomic
def coverage_add(*, client: Client, actor, audit: AuditContext | None = None, **fields) -> Coverage:
    Client.objects.lock(client)
    same = Coverage.objects.filter(
        client=client,
        payer=fields.get("payer"),
        order=fields.get("order"),
        member_id=fields.get("member_id"),
        effective_on=fields.get("effective_on"),
    ).first()
    if same is not None:  # the form posted twice: the first one stands
        same.repeated = True
        return same
    coverage = Coverage(client=client, created_by=actor)
    for name in COVERAGE_FIELDS:
        if name in fields:
            setattr(coverage, name, fields[name])
    return _save(coverage, action="billing.coverage.add", actor=actor, audit=audit)


@transaction.atomic
def coverage_update(
    *, coverage: Coverage, actor, audit: AuditContext | None = None, **fields
) -> Coverage:
    Client.objects.lock(coverage.client_id)
    coverage = (
        Coverage.objects.select_for_update().select_related("payer", "client").get(pk=coverage.pk)
    )
    before = coverage.verified_on
    for name in COVERAGE_FIELDS:
        if name in fields:
            setattr(coverage, name, fields[name])
    if coverage.verified_on != before:
        coverage.verified_by = actor if coverage.verified_on else None
    return _save(coverage, action="billing.coverage.change", actor=actor, audit=audit)


@transaction.atomic
def coverage_end(
    *, coverage: Coverage, ends_on: date, actor, audit: AuditContext | None = None
) -> Coverage:
    Client.objects.lock(coverage.client_id)
    coverage = (
        Coverage.objects.select_for_update().select_related("payer", "client").get(pk=coverage.pk)
    )
    if ends_on < coverage.effective_on:
        raise ValidationError(
            {
                "ends_on": f"The coverage starts on {when.day(coverage.effective_on)}: "
                "end it then or later."
            }
        )
    coverage.ends_on = ends_on
    return _save(coverage, action="billing.coverage.end", actor=actor, audit=audit)


def coverage_on(client, day: date, order: int = 1) -> Coverage | None:
    """The client's coverage in ``order`` active on ``day``."""
    return (
        Coverage.objects.filter(client=client, order=order, effective_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("payer")
        .first()
    )


@transaction.atomic
def self_pay_record(*, client: Client, actor, audit: AuditContext | None = None):
    """Intake's "no insurance" answer (once; a second click changes nothing)."""
    Client.objects.lock(client)
    record, created = SelfPay.objects.get_or_create(client=client, defaults={"recorded_by": actor})
    if created:
        audit_record(action="billing.self_pay", actor=actor, audit=audit, obj=record, client=client)
    return record

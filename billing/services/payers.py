"""Payers, their fee schedules and the billing provider: configuration, written by
admins and billing staff, each write audited."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.models import BillingProvider, Fee, Payer
from iop.accounts.npi import validate_npi
from iop.audit.services import AuditContext, audit_record

PAYER_FIELDS = (
    "code",
    "name",
    "payer_id",
    "filing_indicator",
    "h0015_rule",
    "min_hours",
    "min_days",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "active",
)


@transaction.atomic
def payer_save(*, payer: Payer | None = None, actor, audit: AuditContext | None = None, **fields):
    """Create a payer (``payer`` None) or change one; the code is unique."""
    payer = payer or Payer()
    created = payer.pk is None
    for name in PAYER_FIELDS:
        if name in fields:
            setattr(payer, name, fields[name])
    payer.full_clean(validate_unique=False)
    if Payer.objects.filter(code=payer.code).exclude(pk=payer.pk).exists():
        raise ValidationError({"code": "A payer with this code exists already."})
    try:
        with transaction.atomic():
            payer.save()
    except IntegrityError as exc:  # two people adding the same code at once
        raise ValidationError({"code": "A payer with this code exists already."}) from exc
    audit_record(
        action="billing.payer." + ("add" if created else "change"),
        actor=actor,
        audit=audit,
        obj=payer,
        detail=f"code={payer.code}",
    )
    return payer


@transaction.atomic
def fee_add(*, payer: Payer, actor, audit: AuditContext | None = None, **fields) -> Fee:
    fee = Fee(payer=payer, **fields)
    fee.full_clean(validate_constraints=False)
    if Fee.objects.filter(
        payer=payer, code=fee.code, modifier=fee.modifier, effective_on=fee.effective_on
    ).exists():
        raise ValidationError(
            {"effective_on": "This code already has a fee from that day: give another date."}
        )
    try:
        with transaction.atomic():
            fee.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"effective_on": "This code already has a fee from that day: give another date."}
        ) from exc
    audit_record(
        action="billing.fee.add",
        actor=actor,
        audit=audit,
        obj=fee,
        detail=f"payer={payer.code}; code={fee.code}{fee.modifier}",
    )
    return fee


def fee_for(payer: Payer, code: str, modifier: str = "", *, on):
    """The fee in force on a day for a code (and modifier, falling back to none)."""
    fees = Fee.objects.filter(payer=payer, code=code, effective_on__lte=on).order_by(
        "-effective_on"
    )
    return fees.filter(modifier=modifier).first() or (
        fees.filter(modifier="").first() if modifier else None
    )


PROVIDER_FIELDS = (
    "name",
    "npi",
    "tax_id",
    "taxonomy",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "phone",
)


def billing_provider() -> BillingProvider | None:
    return BillingProvider.objects.filter(key="program").first()


@transaction.atomic
def provider_save(*, actor, audit: AuditContext | None = None, **fields) -> BillingProvider:
    provider = (
        BillingProvider.objects.select_for_update().filter(key="program").first()
        or BillingProvider()
    )
    for name in PROVIDER_FIELDS:
        if name in fields:
            setattr(provider, name, fields[name])
    provider.updated_by = actor
    try:
        validate_npi(provider.npi)
    except ValidationError as exc:
        raise ValidationError({"npi": exc.messages}) from exc
    provider.full_clean()
    provider.save()
    audit_record(action="billing.provider.change", actor=actor, audit=audit, obj=provider)
    return provider

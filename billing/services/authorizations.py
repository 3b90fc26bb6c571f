"""Authorizations: units of a service a payer approved for a client over dates."""

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import Authorization
from clients.models import Client
from iop import when
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date

AUTHORIZATION_FIELDS = (
    "payer",
    "service_code",
    "units_approved",
    "starts_on",
    "ends_on",
    "reference",
)


def _check(authorization: Authorization) -> None:
    check_date(authorization.starts_on, DateKind.EXPIRY, field="starts_on")
    check_date(authorization.ends_on, DateKind.EXPIRY, field="ends_on")
    if (
        authorization.starts_on
        and authorization.ends_on
        and authorization.ends_on < authorization.starts_on
    ):
        raise ValidationError(
            {
                "ends_on": "The authorization cannot end before it starts "
                f"({when.day(authorization.starts_on)})."
            }
        )
    if authorization.pk is not None:
        used = authorization.units_used()
        if authorization.units_approved is not None and authorization.units_approved < used:
            raise ValidationError(
                {
                    "units_approved": f"{used} units are already charged against this "
                    "authorization: approve at least that many."
                }
            )


def _save(authorization, *, action, actor, audit):
    authorization.service_code = (authorization.service_code or "").strip().upper()
    authorization.full_clean(exclude=["created_by", "client"], validate_constraints=False)
    _check(authorization)
    authorization.save()
    audit_record(
        action=action,
        actor=actor,
        audit=audit,
        obj=authorization,
        client=authorization.client,
        detail=f"payer={authorization.payer.code}; code={authorization.service_code}",
    )
    return authorization


@transaction.atomic
def authorization_add(
    *, client: Client, actor, audit: AuditContext | None = None, **fields
) -> Authorization:
    Client.objects.lock(client)
    same = Authorization.objects.filter(
        client=client, payer=fields.get("payer"), reference=fields.get("reference", "")
    ).first()
    if same is not None and same.service_code == (fields.get("service_code") or "").upper():
        same.repeated = True  # the form posted twice
        return same
    authorization = Authorization(client=client, created_by=actor)
    for name in AUTHORIZATION_FIELDS:
        if name in fields:
            setattr(authorization, name, fields[name])
    return _save(authorization, action="billing.authorization.add", actor=actor, audit=audit)


@transaction.atomic
def authorization_update(
    *, authorization: Authorization, actor, audit: AuditContext | None = None, **fields
) -> Authorization:
    Client.objects.lock(authorization.client_id)
    authorization = (
        Authorization.objects.select_for_update()
        .select_related("client", "payer")
        .get(pk=authorization.pk)
    )
    for name in AUTHORIZATION_FIELDS:
        if name in fields:
            setattr(authorization, name, fields[name])
    return _save(authorization, action="billing.authorization.change", actor=actor, audit=audit)

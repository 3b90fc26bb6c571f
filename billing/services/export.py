"""837P export: every ready claim of a payer through a day, as one interchange.

`export_claims` writes the Batch (control numbers unique and increasing, the exact text
kept for a resend) and marks the claims submitted through the claims service's
`mark_submitted` (status, batch, and each claim recorded as a disclosure in the client's
accounting) in one transaction: the file exists only if all of it happened. A second
run finds no ready claim and writes nothing. `resend` gives a batch's text back
byte for byte.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from billing.models import (
    Batch,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimStatus,
    Payer,
    Relationship,
)
from billing.services.claims import mark_submitted
from billing.x12 import p837
from iop.audit.services import AuditContext, audit_record

log = logging.getLogger(__name__)


class ExportError(ValidationError):
    """Nothing was exported; the message says why."""


@dataclass
class Export:
    batch: Batch | None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (claim number, why)

    @property
    def message(self) -> str:
        if self.batch is None:
            text = "No ready claim to export: nothing new was written."
        else:
            text = (
                f"Batch {self.batch.isa_control:09d}: {self.batch.claim_count} claims, "
                f"total {self.batch.total}."
            )
        if self.skipped:
            text += f" {len(self.skipped)} ready claims were left out: " + "; ".join(
                f"{number}: {why}" for number, why in self.skipped[:10]
            )
            if len(self.skipped) > 10:
                text += f"; and {len(self.skipped) - 10} more"
        return text


def _address(obj) -> p837.Address | None:
    if not (obj.address_line1 and obj.city and obj.state and obj.postal_code):
        return None
    return p837.Address(obj.address_line1, obj.city, obj.state, obj.postal_code)


def _provider(user) -> p837.Provider | None:
    if user is None or not user.npi:
        return None
    return p837.Provider(user.last_name, user.first_name, user.npi, user.taxonomy)


# The line columns the 837P needs, read as tuples (a month is tens of thousands of lines).
LINE_COLUMNS = (
    "claim_id",
    "pk",
    "code",
    "modifier1",
    "modifier2",
    "units",
    "amount",
    "service_date",
    "charge__place_of_service",
    "charge__rendering_id",
    "charge__authorization__reference",
)


def _lines(claims: list[Claim]) -> tuple[dict, dict]:
    """Each claim's lines (tuples of LINE_COLUMNS, in line order) and the rendering
    providers they name, in two queries whatever the number of claims."""
    by_claim: dict[int, list] = defaultdict(list)
    rows = (
        ClaimLine.objects.filter(claim_id__in=[c.pk for c in claims])
        .order_by("claim_id", "line_number")
        .values_list(*LINE_COLUMNS)
    )
    for row in rows:
        by_claim[row[0]].append(row)
    ids = {row[9] for lines in by_claim.values() for row in lines if row[9]}
    users = (
        get_user_model()
        .objects.filter(pk__in=ids)
        .only("pk", "first_name", "last_name", "npi", "taxonomy")
    )
    return by_claim, {user.pk: _provider(user) for user in users}


def _claim(claim: Claim, lines: list, providers: dict) -> p837.Claim:
    client, coverage, payer = claim.client, claim.coverage, claim.payer
    if coverage is None:
        raise p837.X12Error(f"Claim {claim.number}: no coverage.")
    if not lines:
        raise p837.X12Error(f"Claim {claim.number}: no service lines.")
    address = _address(coverage)
    patient_person = p837.Person(
        client.legal_last_name, client.legal_first_name, client.date_of_birth, "U", address
    )
    self_pay = coverage.relationship == Relationship.SELF
    subscriber = (
        patient_person
        if self_pay
        else p837.Person(
            coverage.subscriber_last_name,
            coverage.subscriber_first_name,
            coverage.subscriber_dob,
        )
    )
    renderings = {row[9] for row in lines}
    claim_rendering = providers.get(lines[0][9]) if len(renderings) == 1 else None
    auths = {row[10] for row in lines if row[10]}
    claim_auth = next(iter(auths)) if len(auths) == 1 else ""
    others = [code for code in claim.diagnoses if code != claim.principal_diagnosis]
    return p837.Claim(
        number=claim.number,
        subscriber=subscriber,
        member_id=coverage.member_id,
        payer=p837.Payer(payer.name, payer.payer_id, payer.filing_indicator),
        place_of_service=lines[0][8],
        principal_diagnosis=claim.principal_diagnosis,
        other_diagnoses=others,
        relationship="18" if self_pay else coverage.relationship,
        patient=None if self_pay else patient_person,
        group_number=coverage.group_number,
        order=coverage.order,
        prior_authorization=claim_auth,
        rendering=claim_rendering,
        lines=[
            p837.Line(
                code=code,
                amount=amount,
                service_date=day,
                units=units,
                modifiers=tuple(m for m in (mod1, mod2) if m),
                place_of_service=pos,
                control_number=control_number(pk),
                rendering=providers.get(rendering_id),
                prior_authorization=auth or "",
            )
            for _c, pk, code, mod1, mod2, units, amount, day, pos, rendering_id, auth in lines
        ],
    )


def control_number(line_pk: int) -> str:
    """REF*6R, the line item control number the payer echoes in the 835: opaque."""
    return f"L{line_pk}"


def line_control(line: ClaimLine) -> str:
    return control_number(line.pk)


def _interchange(provider: BillingProvider, payer: Payer, claims, control: int, created):
    submitter_id = settings.IOP_X12_SUBMITTER_ID or provider.tax_id
    receiver_id = settings.IOP_X12_RECEIVER_ID or payer.payer_id
    return p837.Interchange(
        sender_id=submitter_id,
        receiver_id=receiver_id,
        isa_control=control,
        gs_control=control,
        st_control=1,
        created=created,
        submitter=p837.Submitter(provider.name, submitter_id, provider.name, provider.phone),
        receiver=p837.Receiver(payer.name, receiver_id),
        billing_provider=p837.BillingProvider(
            provider.name,
            provider.npi,
            provider.tax_id,
            provider.taxonomy,
            p837.Address(
                provider.address_line1, provider.city, provider.state, provider.postal_code
            ),
        ),
        claims=claims,
        production=settings.IOP_X12_USAGE == "P",
    )


def ready_claims(payer: Payer, through: date):
    """Ready claims of ``payer`` whose every date of service is on or before ``through``."""
    return Claim.objects.filter(payer=payer, status=ClaimStatus.READY, period_end__lte=through)


def export_claims(
    *, payer: Payer, through: date, actor, context: AuditContext | None, within=None
) -> Export:
    """One interchange with every ready claim of ``payer`` through ``through``; the
    Batch and the submission in one transaction. No ready claim: no batch. ``within``
    (a queryset of clients: ``clients_for(user, Purpose.BILLING)`` from a page) leaves
    out the claims of clients the person may not reach."""
    with transaction.atomic():
        # One export at a time: the billing provider's row is the lock, so two exports
        # cannot take the same control number or the same claim.
        provider = BillingProvider.objects.select_for_update().first()
        if provider is None:
            raise ExportError("Enter the billing provider (NPI, tax id, address) first.")
        if not provider.phone:
            raise ExportError("Enter the billing provider's phone: the 837P's contact needs it.")
        found = ready_claims(payer, through)
        if within is not None:
            found = found.filter(client__in=within)
        claims = list(
            found.select_for_update(of=("self",))
            .select_related("client", "coverage", "payer")
            .order_by("number")
        )
        lines, providers = _lines(claims)
        written, rows, skipped = [], [], []
        for claim in claims:
            try:
                x12_claim = _claim(claim, lines[claim.pk], providers)
                p837.check_claim(x12_claim)
            except p837.X12Error as exc:
                skipped.append((claim.number, str(exc).removeprefix(f"Claim {claim.number}: ")))
                continue
            written.append(x12_claim)
            rows.append(claim)
        if not rows:
            return Export(batch=None, skipped=skipped)
        control = (Batch.objects.aggregate(m=Max("isa_control"))["m"] or 0) + 1
        if control > 999_999_999:
            raise ExportError("The interchange control numbers are used up (999999999).")
        created = timezone.localtime().replace(second=0, microsecond=0)
        content = p837.render(_interchange(provider, payer, written, control, created))
        total = sum((c.total for c in written), Decimal("0"))
        batch = Batch.objects.create(
            payer=payer,
            through=through,
            isa_control=control,
            gs_control=control,
            st_control=1,
            content=content,
            claim_count=len(rows),
            total=total,
            created_by=actor if actor is not None and actor.pk else None,
        )
        mark_submitted(claims=rows, batch=batch, actor=actor, context=context)
        audit_record(
            action="billing.export",
            actor=actor,
            audit=context,
            obj=batch,
            detail=f"claims={len(rows)}; isa={control}",
        )
    log.info("837P batch %09d: %s claims", control, len(rows))
    return Export(batch=batch, skipped=skipped)


def resend(*, batch: Batch, actor, context: AuditContext | None) -> str:
    """The batch's interchange again, byte for byte (audited)."""
    audit_record(
        action="billing.resend",
        actor=actor,
        audit=context,
        obj=batch,
        detail=f"isa={batch.isa_control}",
    )
    return batch.content

"""Diagnoses per episode: ICD-10-CM codes validated against the code set (billing/icd.py),
at most one current principal per episode. A diagnosis is removed (dated), never deleted:
a claim already sent keeps its snapshot of the codes."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import icd
from billing.models import Diagnosis
from clients.models import Client, Episode
from iop.audit.services import AuditContext, audit_record


@transaction.atomic
def diagnosis_add(
    *, episode: Episode, code: str, principal: bool, actor, audit: AuditContext | None = None
) -> Diagnosis:
    Client.objects.lock(episode.client_id)
    code = icd.normalize(code)
    problem = icd.problem(code)
    if problem:
        raise ValidationError({"code": problem})
    current = Diagnosis.objects.filter(episode=episode, removed_on__isnull=True)
    same = current.filter(code=code).first()
    if same is not None:
        if principal and not same.principal:
            current.filter(principal=True).update(principal=False)
            same.principal = True
            same.save(update_fields=["principal"])
            audit_record(
                action="billing.diagnosis.principal",
                actor=actor,
                audit=audit,
                obj=same,
                client=episode.client_id and episode.client,
                detail=f"code={code}",
            )
        same.repeated = True
        return same
    if principal:
        # The new principal replaces the old one, which stays as a secondary code.
        current.filter(principal=True).update(principal=False)
    diagnosis = Diagnosis(
        episode=episode,
        code=code,
        description=icd.description(code)[:300],
        principal=principal,
        added_on=timezone.localdate(),
        added_by=actor,
    )
    try:
        with transaction.atomic():
            diagnosis.save()
    except IntegrityError as exc:
        raise ValidationError("This diagnosis was just recorded by someone else.") from exc
    audit_record(
        action="billing.diagnosis.add",
        actor=actor,
        audit=audit,
        obj=diagnosis,
        client=episode.client,
        detail=f"code={code}; principal={principal}",
    )
    return diagnosis


@transaction.atomic
def diagnosis_remove(
    *, diagnosis: Diagnosis, actor, audit: AuditContext | None = None
) -> Diagnosis:
    episode = diagnosis.episode
    Client.objects.lock(episode.client_id)
    diagnosis = Diagnosis.objects.select_for_update().get(pk=diagnosis.pk)
    if diagnosis.removed_on is not None:
        return diagnosis  # removed already (a second click)
    diagnosis.removed_on = max(timezone.localdate(), diagnosis.added_on)
    diagnosis.removed_by = actor
    diagnosis.save(update_fields=["removed_on", "removed_by"])
    audit_record(
        action="billing.diagnosis.remove",
        actor=actor,
        audit=audit,
        obj=diagnosis,
        client=episode.client,
        detail=f"code={diagnosis.code}",
    )
    return diagnosis

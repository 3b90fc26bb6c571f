"""Reads the pages need, each scoped through ``clients.access.clients_for``."""

from django.db.models import Exists, OuterRef, Prefetch

from clients.access import clients_for
from clients.models import CareTeamMember, CareTeamRole, ClientStatus, Episode

CLINICAL_CARE_ROLES = (
    CareTeamRole.PRIMARY,
    CareTeamRole.COUNSELLOR,
    CareTeamRole.PRESCRIBER,
    CareTeamRole.CASE_MANAGER,
)


def _with_primary_clinicians(clients):
    return clients.prefetch_related(
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.active()
            .filter(role=CareTeamRole.PRIMARY)
            .select_related("staff"),
            to_attr="primary_clinicians",
        )
    )


def client_list(user, *, text: str = "", status: str = ""):
    clients = clients_for(user).search(text)
    if status:
        clients = clients.filter(status=status)
    return _with_primary_clinicians(clients)


def caseload_for(user):
    """Active and prospect clients on the user's care team in a clinical role."""
    mine = CareTeamMember.objects.active().filter(
        staff=user, client=OuterRef("pk"), role__in=CLINICAL_CARE_ROLES
    )
    return _with_primary_clinicians(
        clients_for(user)
        .filter(Exists(mine))
        .exclude(status=ClientStatus.DISCHARGED)
        .prefetch_related(
            Prefetch("episodes", queryset=Episode.objects.open(), to_attr="open_episodes")
        )
    )


def supervised_caseload_for(user):
    """Clients of the clinicians ``user`` supervises (read only for the supervisor)."""
    theirs = CareTeamMember.objects.active().filter(
        staff__clinical_supervisor=user, client=OuterRef("pk"), role__in=CLINICAL_CARE_ROLES
    )
    return _with_primary_clinicians(
        clients_for(user)
        .filter(Exists(theirs))
        .exclude(status=ClientStatus.DISCHARGED)
        .prefetch_related(
            Prefetch("episodes", queryset=Episode.objects.open(), to_attr="open_episodes")
        )
    )


def intake_worklist(user, today=None):
    """The clients ``user`` reaches that still wait for a step of the intake journey
    (consent, admission, care team, placement: ``clients.intake``), newest first, each
    annotated so that ``clients.intake.missing_step(client)`` names the step (one
    query)."""
    from django.utils import timezone

    from clients.intake import waiting

    return waiting(clients_for(user), today or timezone.localdate()).order_by("-created_at")


def primary_clinician_ids(client_ids) -> dict[int, list[int]]:
    """Client pk -> the user ids of its active primary clinicians (one query): whom a
    staff reminder about the client goes to. The primary clinician holds the chart
    grant, so the reminder never points anyone at a client they cannot open."""
    owners: dict[int, list[int]] = {}
    rows = (
        CareTeamMember.objects.active()
        .filter(role=CareTeamRole.PRIMARY, client_id__in=list(client_ids), staff__is_active=True)
        .values_list("client_id", "staff_id")
        .order_by("client_id", "staff_id")
    )
    for client_id, staff_id in rows:
        owners.setdefault(client_id, []).append(staff_id)
    return owners


def openable_client_labels(user, ids, purpose: str = "clinical") -> dict:
    """Public id -> "name (MRN)" of the clients among ``ids`` that ``user`` may open
    for ``purpose`` (clinical work unless a task source says otherwise; one query): the
    staff task list names only these."""
    from clients.access import Purpose

    if purpose not in Purpose.ALL:
        raise ValueError(f"unknown purpose {purpose!r}")
    return {
        client.public_id: str(client)
        for client in clients_for(user, purpose).filter(public_id__in=list(ids))
    }

"""Reads the pages need, each scoped through Client.objects.visible_to."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from clients.models import CareTeamMember, CareTeamRole, Client, ClientStatus, Episode


def client_list(user, *, text: str = "", status: str = ""):
    clients = Client.objects.visible_to(user).search(text)
    if status:
        clients = clients.filter(status=status)
    return clients.prefetch_related(
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.active()
            .filter(role=CareTeamRole.PRIMARY)
            .select_related("staff"),
            to_attr="primary_clinicians",
        )
    )


def caseload_for(user):
    """Active and prospect clients on the user's care team (or a supervisee's)."""
    mine = CareTeamMember.objects.active().filter(
        Q(staff=user) | Q(staff__clinical_supervisor=user),
        client=OuterRef("pk"),
        role__in=[
            CareTeamRole.PRIMARY,
            CareTeamRole.COUNSELLOR,
            CareTeamRole.PRESCRIBER,
            CareTeamRole.CASE_MANAGER,
        ],
    )
    return (
        Client.objects.visible_to(user)
        .filter(Exists(mine))
        .exclude(status=ClientStatus.DISCHARGED)
        .prefetch_related(
            Prefetch(
                "episodes",
                queryset=Episode.objects.open(),
                to_attr="open_episodes",
            ),
            Prefetch(
                "care_team",
                queryset=CareTeamMember.objects.active()
                .filter(role=CareTeamRole.PRIMARY)
                .select_related("staff"),
                to_attr="primary_clinicians",
            ),
        )
    )


def intake_worklist(user):
    """Prospects and clients without a primary clinician yet."""
    return (
        Client.objects.visible_to(user)
        .exclude(status=ClientStatus.DISCHARGED)
        .annotate(
            primaries=Count(
                "care_team",
                filter=Q(care_team__role=CareTeamRole.PRIMARY, care_team__ended_on__isnull=True),
            )
        )
        .filter(Q(status=ClientStatus.PROSPECT) | Q(primaries=0))
        .order_by("-created_at")
    )

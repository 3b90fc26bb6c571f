"""The reads billing pages and reports need, scoped through clients.access."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from billing.models import Authorization, Charge, Claim, Coverage, Diagnosis
from clients.access import Purpose, billing_reach_since, clients_for
from clients.models import Episode
from scheduling.models import ATTENDED, Attendance

# Warnings (issue 22): at 80 % of the units used, 7 days before the last day.
USED_SHARE_WARNING = 0.8
EXPIRY_WARNING_DAYS = 7


def billing_clients(user):
    """The clients this person may open the billing page of, each with their primary
    coverage's payer (one query, whatever the number)."""
    today = timezone.localdate()
    primary = Coverage.objects.filter(
        client=OuterRef("pk"), order=1, effective_on__lte=today
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    return (
        clients_for(user, Purpose.BILLING)
        .annotate(
            primary_payer=primary.values("payer__name")[:1],
        )
        .order_by("legal_last_name", "legal_first_name", "pk")
    )


def billing_episodes(client):
    """The client's episodes that billing works on (open, or discharged within reach)."""
    return Episode.objects.filter(client=client).filter(
        Q(discharged_on__isnull=True) | Q(discharged_on__gte=billing_reach_since())
    )


def client_billing(client) -> dict:
    """Everything on the client's billing page: a fixed number of queries."""
    episodes = list(billing_episodes(client).order_by("-admitted_on"))
    diagnoses = list(
        Diagnosis.objects.filter(episode__in=[e.pk for e in episodes])
        .select_related("added_by")
        .order_by("episode_id", "removed_on", "-principal", "code")
    )
    for episode in episodes:
        episode.billing_diagnoses = [d for d in diagnoses if d.episode_id == episode.pk]
    return {
        "coverages": list(
            Coverage.objects.filter(client=client)
            .select_related("payer", "verified_by")
            .order_by("order", "-effective_on")
        ),
        "episodes": episodes,
        "authorizations": list(
            Authorization.objects.filter(client=client)
            .with_usage()
            .select_related("payer")
            .order_by("-ends_on", "service_code")
        ),
        "charges": list(
            Charge.objects.filter(client=client)
            .select_related("payer", "rendering")
            .order_by("-service_date", "-id")[:50]
        ),
        "claims": list(
            Claim.objects.filter(client=client).select_related("payer").order_by("-period_end")[:50]
        ),
        "today": timezone.localdate(),
    }


def authorization_warnings(user, *, today=None):
    """Authorizations of the clients ``user`` may bill for that need attention: units
    80 % used or more, or the last day within a week (current ones only). Usage is
    summed in the database."""
    today = today or timezone.localdate()
    return (
        Authorization.objects.filter(
            client__in=clients_for(user, Purpose.BILLING).values("pk"), ends_on__gte=today
        )
        .with_usage()
        .filter(
            Q(used_units__gte=F("units_approved") * USED_SHARE_WARNING)
            | Q(ends_on__lte=today + timedelta(days=EXPIRY_WARNING_DAYS))
        )
        .select_related("client", "payer")
        .order_by("ends_on", "pk")
    )


def delivered_without_authorization(client_ids, *, since, through, service_code="H0015"):
    """(client pk, day) of each attended day in [since, through] of these clients with
    no authorization for ``service_code`` covering it (one query)."""
    covered = Authorization.objects.filter(
        client_id=OuterRef("client_id"),
        service_code=service_code,
        starts_on__lte=OuterRef("session__date"),
        ends_on__gte=OuterRef("session__date"),
    )
    return (
        Attendance.objects.filter(
            client_id__in=client_ids,
            status__in=ATTENDED,
            session__date__gte=since,
            session__date__lte=through,
            session__cancelled_at__isnull=True,
        )
        .filter(~Exists(covered))
        .order_by("client_id", "session__date")
        .values_list("client_id", "session__date")
        .distinct()
    )

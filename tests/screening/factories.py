"""Helpers for screening tests: the seeded panels and policies, clients on a track,
screens recorded through the services."""

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

from django.apps import apps as django_apps
from django.utils import timezone

from scheduling.services import enrollment_create
from screening import services
from screening.models import Analyte, Panel, RandomSelection, TestingPolicy
from tests.clinical.factories_meds import treated_client
from tests.scheduling.factories import GroupFactory, _ensure_program_defaults, track


def ensure_screening_defaults():
    """Analytes, panels and policies come from migration screening.0002; a
    transactional test's flush removes them, so put them back the same way."""
    _ensure_program_defaults()
    if not Analyte.objects.exists() or not TestingPolicy.objects.exists():
        seed = import_module("screening.migrations.0002_panels_and_policies").seed
        seed(django_apps, None)


def panel(code="iop") -> Panel:
    ensure_screening_defaults()
    return Panel.objects.get(code=code)


def enrolled_client(*staff, track_code="iop6", start_days_ago=30, actor=None, role="primary"):
    """An active, admitted client on ``track_code`` with each of ``staff`` on the team."""
    ensure_screening_defaults()
    client = treated_client(*staff, role=role)
    client.status = "active"
    client.save(update_fields=["status"])
    group = GroupFactory(track=track(track_code))
    enrollment_create(
        client=client,
        group=group,
        start_on=timezone.localdate() - timedelta(days=start_days_ago),
        actor=actor or staff[0],
    )
    return client


def selection_for(client, *, on=None, track_code="iop6") -> RandomSelection:
    ensure_screening_defaults()
    return RandomSelection.objects.create(
        client=client,
        date=on or timezone.localdate(),
        track=track(track_code),
        probability=Decimal("0.4000"),
    )


_SPECIMENS = iter(range(100_000, 999_999))


def collect(client, actor, *, at=None, temperature="34.5", observed=False, **kwargs):
    kwargs.setdefault("order_kind", "random" if kwargs.get("selection") else "scheduled")
    return services.urine_collect(
        client=client,
        collected_at=at or timezone.now() - timedelta(minutes=5),
        specimen_id=kwargs.pop("specimen_id", f"CCF-{next(_SPECIMENS)}"),
        panel=kwargs.pop("panel", None) or panel(),
        temperature_c=Decimal(temperature),
        observed=observed,
        actor=actor,
        **kwargs,
    )


def all_negative(screen, **positives):
    """Results for every analyte on the screen's panel: negative but the ones named
    (``code=("positive", value)``)."""
    return {a.code: positives.get(a.code, ("negative", None)) for a in screen.panel.analytes.all()}


def screen_with(client, actor, *, creatinine=None, gravity=None, at=None, **positives):
    screen = collect(client, actor, at=at)
    return services.urine_results_record(
        screen=screen,
        results=all_negative(screen, **positives),
        creatinine_mg_dl=creatinine,
        specific_gravity=gravity,
        actor=actor,
    )

"""Helpers for screening tests: the seeded panels and policies, clients on a track,
screens recorded through the services."""

from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module

from django.apps import apps as django_apps
from django.utils import timezone

from scheduling.models import Enrollment
from scheduling.services import enrollment_create
from screening import services
from screening.models import (
    Analyte,
    AnalyteResult,
    Panel,
    RandomSelection,
    TestingPolicy,
    UrineScreen,
)
from tests.clients.factories import EpisodeFactory
from tests.clinical.factories_meds import treated_client
from tests.scheduling.factories import GroupFactory, _ensure_program_defaults, track


def ensure_screening_defaults():
    """Analytes, panels and policies come from migration screening.0002; a
    transactional test's flush removes them, so put them back the same way."""
    _ensure_program_defaults()
    if not Analyte.objects.exists() or not TestingPolicy.objects.exists():
        seed = import_module("screening.migrations.0002_panels_and_policies").seed
        seed(django_apps, None)
        editions = import_module("screening.migrations.0004_per_analyte_cutoffs_and_panel_edition")
        editions.seed(django_apps, None)


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
        temperature=Decimal(temperature),
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


REPORT_CODES = ("thc", "cocaine", "buprenorphine")
POS_EXPECTED = ("positive", True, "")
POS = ("positive", False, "")


class ReportRows:
    """Screens written straight to the tables on given days, for the report tests
    (the services date a collection now); a small panel of THC, cocaine and
    buprenorphine."""

    def __init__(self, admin_user, *, since=date(2026, 8, 24)):
        self.since = since
        ensure_screening_defaults()
        self.admin = admin_user
        self.analytes = {a.code: a for a in Analyte.objects.filter(code__in=REPORT_CODES)}
        self.panel = Panel.objects.create(code="report-mini", name="Report test panel")
        self.panel.analytes.add(*self.analytes.values())
        self.n = 0
        self.groups = {code: GroupFactory(track=track(code)) for code in ("iop6", "iop3")}

    def client(self, track_code, status="active"):
        client = EpisodeFactory(admitted_on=self.since).client
        group = self.groups[track_code]
        Enrollment.objects.create(
            client=client, episode=client.episodes.get(), track=group.track, group=group,
            start_on=self.since, created_by=self.admin,
        )  # fmt: skip
        if status != "active":
            client.status = status
            client.save(update_fields=["status"])
        return client

    def selection(self, client, day, track_code, status):
        return RandomSelection.objects.create(
            client=client, date=day, track=track(track_code), probability=Decimal("0.4"),
            status=status,
        )  # fmt: skip

    def screen(self, client, when, kind, outcome="negative", selection=None, **results):
        self.n += 1
        screen = UrineScreen.objects.create(
            client=client, order_kind=kind, status="collected", collected_at=when,
            collector=self.admin, panel=self.panel, specimen_id=f"RPT-{self.n}",
            outcome=outcome, selection=selection,
            cause="Observed signs" if kind == "for_cause" else "",
        )  # fmt: skip
        for code, analyte in self.analytes.items():
            outcome_, expected, confirmation = results.get(code, ("negative", False, ""))
            AnalyteResult.objects.create(
                screen=screen, analyte=analyte, outcome=outcome_, cutoff=analyte.initial_cutoff,
                expected=expected, confirmation=confirmation,
            )  # fmt: skip
        return screen

    def missed(self, client, day, status, when, track_code):
        selection = self.selection(
            client, day, track_code, "missed" if status == "no_show" else status
        )
        return UrineScreen.objects.create(
            client=client, order_kind="random", selection=selection, status=status,
            collected_at=when, outcome=status,
        )  # fmt: skip

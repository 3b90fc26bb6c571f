"""Demo screens (fake people only), idempotent.

- Random selections for each of the past 8 weeks and today, drawn by the real service
  (a seeded generator stands in for the system's so the demo is the same each time).
- Each past selection collected at the start of the client's session by the demo
  medical staff (``medical``): mostly negative; buprenorphine expected for the MAT
  clients; one unexpected positive (cocaine, lab-confirmed) with its follow-up on the
  primary clinician's dashboard; one dilute specimen (the next collection observed);
  one invalid specimen (creatinine 1.9 mg/dL with SG 1.0199: the two disagree, HHS
  2017 s. 3.8); one MAT client's screen negative for buprenorphine (the MAT
  non-adherence flag); one missed random test.
- One breath-alcohol test at 0.032 with its confirmation 16 minutes later.
- Today's selections stay pending: the collection list and the pending notice show.

A day already drawn (its ``SelectionRun`` exists) is left alone, and each special case
is made only if the demo has none yet: running twice adds nothing.
"""

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from clients.models import CareTeamRole, Client, ClientStatus
from clinical.meds.selectors import expected_analytes
from iop.accounts.models import User
from iop.audit.services import AuditContext
from scheduling.models import Enrollment
from screening import services
from screening.models import (
    BreathTest,
    FollowUpReason,
    Panel,
    RandomSelection,
    ScreenFollowUp,
    SelectionRun,
    SelectionStatus,
    UrineScreen,
)
from screening.rules import Outcome, Validity

DAYS = 56
AUDIT = AuditContext.system("seed_demo")


def _slot_start(client, day) -> datetime:
    enrollment = (
        Enrollment.objects.on(day)
        .filter(client=client)
        .select_related("group__slot")
        .order_by("-start_on")
        .first()
    )
    start = enrollment.group.slot.start_time if enrollment else time(9)
    moment = datetime.combine(day, start) + timedelta(minutes=10)
    return timezone.make_aware(moment)


def seed(*, stdout):
    today = timezone.localdate()
    medical = User.objects.filter(username="medical").first()
    panel = Panel.objects.filter(active=True, is_default=True).first()
    demo = Client.objects.filter(mrn__startswith="D", status=ClientStatus.ACTIVE)
    if medical is None or panel is None or not demo.exists():
        return
    rng = random.Random(2026)  # noqa: S311  (fake data; production draws use secrets)
    drawn = set(SelectionRun.objects.values_list("date", flat=True))
    want = {
        "unexpected": not UrineScreen.objects.filter(
            client__in=demo, outcome=Outcome.UNEXPECTED_POSITIVE
        ).exists(),
        "dilute": not UrineScreen.objects.filter(client__in=demo, outcome=Outcome.DILUTE).exists(),
        "missed": not UrineScreen.objects.filter(client__in=demo, status="no_show").exists(),
        "invalid": not UrineScreen.objects.filter(
            client__in=demo, validity=Validity.INVALID
        ).exists(),
        "mat": not ScreenFollowUp.objects.filter(
            client__in=demo, reason=FollowUpReason.MAT_ABSENT
        ).exists(),
    }
    # The unexpected positive goes to a client of the demo clinician ``clinician`` so
    # that it shows on their dashboard.
    casey = set(
        demo.filter(
            care_team__staff__username="clinician",
            care_team__role=CareTeamRole.PRIMARY,
            care_team__ended_on__isnull=True,
        ).values_list("pk", flat=True)
    )
    screens = 0
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        if day in drawn:
            continue
        run = services.selection_draw_day(on=day, rng=rng, audit=AUDIT)
        if run is None:
            continue
        for selection in (
            RandomSelection.objects.filter(run=run, client__in=demo)
            .select_related("client")
            .order_by("client__mrn")
        ):
            client = selection.client
            if want["missed"] and back <= 6:
                want["missed"] = False
                services.urine_not_collected(selection=selection, status="no_show", audit=AUDIT)
                continue
            screen = services.urine_collect(
                client=client,
                order_kind="random",
                selection=selection,
                collected_at=_slot_start(client, day),
                specimen_id=f"DEMO-{day:%y%m%d}-{client.mrn}",
                panel=panel,
                temperature=f"{rng.uniform(33.0, 36.5):.1f}",
                observed=bool(services.observation_required(client)),
                actor=medical,
                audit=AUDIT,
            )
            positives, creatinine, gravity = {}, "95", "1.0150"
            if want["unexpected"] and back <= 12 and client.pk in casey:
                want["unexpected"] = False
                positives["cocaine"] = ("positive", "420")
            elif want["dilute"] and back <= 20:
                want["dilute"] = False
                creatinine, gravity = "14", "1.0020"
            elif want["invalid"] and back <= 16:
                want["invalid"] = False
                creatinine, gravity = "1.9", "1.0199"
            results = {
                a.code: positives.get(a.code, ("negative", None)) for a in panel.analytes.all()
            }
            expected = expected_analytes(client, on=day)
            if want["mat"] and back <= 20 and "buprenorphine" in expected:
                # Negative for the buprenorphine the client is prescribed.
                want["mat"] = False
                expected = set()
            for code in expected & set(results):
                results[code] = ("positive", None)
            services.urine_results_record(
                screen=screen,
                results=results,
                creatinine_mg_dl=creatinine,
                specific_gravity=gravity,
                actor=medical,
                audit=AUDIT,
            )
            if "cocaine" in positives:
                for state in ("sent", "confirmed_positive"):
                    services.urine_confirmation_record(
                        screen=screen,
                        analyte_code="cocaine",
                        confirmation=state,
                        actor=medical,
                        audit=AUDIT,
                    )
            screens += 1
    if today not in drawn:
        services.selection_draw_day(on=today, rng=rng, audit=AUDIT)
        # The demo always has someone to collect today.
        if not RandomSelection.objects.filter(date=today, client__in=demo).exists():
            client = demo.order_by("mrn").first()
            enrollment = Enrollment.objects.on(today).filter(client=client).first()
            if enrollment is not None:
                RandomSelection.objects.create(
                    client=client, date=today, track=enrollment.track, probability="0.4000"
                )
    breath = 0
    if not BreathTest.objects.filter(client__in=demo, confirm_bac__isnull=False).exists():
        client = demo.order_by("-mrn").first()
        tested_at = timezone.now() - timedelta(days=3, hours=2)
        test = services.breath_record(
            client=client,
            tested_at=tested_at,
            bac="0.032",
            device="Alco-Sensor FST #2",
            actor=medical,
            audit=AUDIT,
        )
        services.breath_confirm(
            test=test,
            confirm_at=tested_at + timedelta(minutes=16),
            confirm_bac="0.028",
            actor=medical,
            audit=AUDIT,
        )
        breath = 1
    pending = RandomSelection.objects.filter(
        date=today, status=SelectionStatus.PENDING, client__in=demo
    ).count()
    stdout.write(
        f"Screening: {screens} urine screens, {breath} breath test with confirmation, "
        f"{pending} random tests due today, "
        f"{ScreenFollowUp.objects.open().filter(client__in=demo).count()} open follow-ups."
    )

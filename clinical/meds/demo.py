"""Demo medications and measures (fake people only), idempotent.

- Buprenorphine (MAT) for the active demo clients whose care team has the demo
  prescriber (``medical``), recorded by them from the admission day.
- A PHQ-9 and a GAD-7 every week of the past 8 (from admission) for every active
  client, recorded by the primary clinician, improving over the weeks for most and
  not for a few; one client's latest PHQ-9 has item 9 answered 1, so the safety flag
  shows on the chart and on ``clinician``'s dashboard.

A client who already has a medication or a measure is left alone: running twice adds
nothing.
"""

import random
from datetime import timedelta

from django.utils import timezone

from clients.models import CareTeamRole, Client, ClientStatus
from clinical.meds.models import Measure, Medication
from clinical.meds.services import measure_record, medication_add

WEEKS = 8


def seed(*, stdout):
    today = timezone.localdate()
    rng = random.Random(2026)  # noqa: S311  (fake data, not security)
    clients = (
        Client.objects.filter(status=ClientStatus.ACTIVE, mrn__startswith="D")
        .prefetch_related("care_team__staff", "episodes")
        .order_by("mrn")
    )
    medications = measures = 0
    for index, client in enumerate(clients):
        team = {m.role: m.staff for m in client.care_team.all() if m.ended_on is None}
        episode = next((e for e in client.episodes.all() if e.discharged_on is None), None)
        primary = team.get(CareTeamRole.PRIMARY)
        if episode is None or primary is None:
            continue
        prescriber = team.get(CareTeamRole.PRESCRIBER)
        if prescriber is not None and not Medication.objects.filter(client=client).exists():
            medication_add(
                client=client,
                mat_agent="buprenorphine",
                name="Buprenorphine/naloxone film",
                dose="8 mg/2 mg",
                schedule="once daily, sublingual",
                prescriber=prescriber,
                started_on=episode.admitted_on,
                actor=prescriber,
            )
            medications += 1
        if Measure.objects.filter(client=client).exists():
            continue
        improving = index % 5 != 3
        start_phq, start_gad = rng.randint(12, 20), rng.randint(9, 16)
        for week in range(WEEKS, -1, -1):
            day = today - timedelta(weeks=week, days=index % 3)
            if day < episode.admitted_on:
                continue
            progress = (WEEKS - week) / WEEKS if improving else 0.1
            phq = max(0, round(start_phq * (1 - 0.65 * progress)) + rng.randint(-1, 1))
            gad = max(0, round(start_gad * (1 - 0.6 * progress)) + rng.randint(-1, 1))
            item9 = 1 if (index == 0 and week == 0) else 0
            measure_record(client=client, instrument="phq9", administered_on=day,
                           items=_spread(phq, 9, 3, last=item9), actor=primary)  # fmt: skip
            measure_record(client=client, instrument="gad7", administered_on=day,
                           items=_spread(gad, 7, 3), actor=primary)  # fmt: skip
            measures += 2
    stdout.write(
        f"Clinical (medications and measures): {medications} MAT records, {measures} measures."
    )


def _spread(total: int, count: int, top: int, *, last: int = 0) -> dict[str, int]:
    """Answers summing to ``total`` (capped at what the items allow), item ``count`` = last."""
    answers = [0] * count
    answers[-1] = last
    remaining = min(total, top * (count - 1) + last) - last
    position = 0
    while remaining > 0:
        if answers[position] < top:
            answers[position] += 1
            remaining -= 1
        position = (position + 1) % (count - 1)
    return {str(n): value for n, value in enumerate(answers, start=1)}

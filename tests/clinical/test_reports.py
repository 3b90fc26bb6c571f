"""Census and outcomes, and documentation compliance, against small hand-worked fixtures.

Census: range Wednesday 1 July to Wednesday 30 September 2026, active census on 15 Sep.
Tracks and slots are migration scheduling.0002's (IOP 6 steps down to IOP 3).

  client  profession  admitted  start track/slot  step-down      discharged  reason        LOS
  Ann     physician   07-06     iop6 evening      iop3 08-03     08-31       completed     56
  Bo      nurse       07-13     iop6 evening      iop3 08-10     09-21       completed     70
  Cy      attorney    08-03     iop6 midday       -              08-17       ama           14
  Di      physician   08-10     iop6 midday       -              open
  Ed      pilot       09-01     iop3 evening      -              open
  Fay     nurse       05-04     iop6 evening      -              07-10       higher_level  67
        (admitted before the range: a discharge in it, not an admission)

Admitted cohort (Ann, Bo, Cy, Di, Ed): 5. Left early = discharged by 30 Sep, not completed.
  by track: iop6 admitted 4, discharged 3, completed 2, left early 1, retention 3/4 = 75 %,
    completion 2/3 = 67 %; iop3 1, 0, 0, 0, 100 %, "" (no discharge to divide by).
  by slot: evening (Ann, Bo, Ed) 3, 2, 2, 0, 100 %, 100 %; midday (Cy, Di) 2, 1, 0, 1,
    50 %, 0 %.
  by profession: attorney 1, 1, 0, 1, 0 %, 0 %; nurse 1, 1, 1, 0, 100 %, 100 %;
    physician 2, 1, 1, 0, 100 %, 100 %; pilot 1, 0, 0, 0, 100 %, "".
  slot/profession: evening/physician, evening/nurse 100 %; midday/attorney 0 %.
Active on 15 Sep: Bo and Ed on iop3 evening (2), Di on iop6 midday (1): 3.
By month: admissions Jul 2 (Ann, Bo), Aug 2 (Cy, Di), Sep 1 (Ed);
  discharges Jul 1 (Fay), Aug 2 (Cy, Ann), Sep 1 (Bo).
Discharged cohort (Fay, Ann, Cy, Bo): completion 2/4 = 50 %.
  LOS: completed 2 stays, median (56 + 70) / 2 = 63.0, 56 to 70; ama 1, 14; higher level 1, 67.
  Step-down IOP 6 -> IOP 3: all four were on IOP 6, Ann and Bo stepped down: 2/4 = 50 %.
  PHQ-9: Ann 15 (07-06) -> 6 (08-28) [a 22 on 06-30, before admission, and a 3 on 09-05,
    after discharge, are outside the window; a 12 on 07-20 is between], Bo 20 -> 8, Cy
    18 -> 18, Fay none: 3 stays, mean 17.7 -> 10.7, change (-9 - 12 + 0) / 3 = -7.0,
    2 improved.
  GAD-7: Ann 12 -> 5; Bo has one administration only (left out): 1 stay, 12.0 -> 5.0,
    -7.0, 1 improved.

Documentation: range 1 to 30 September 2026. Alice (supervised by Carol, needs co-sign):
  notes of appointments ending 2 Sep (signed 10 h later, co-signature waiting), 3 Sep
  (30 h), 4 Sep (80 h), 5 Sep (unsigned), and 20 Aug (outside the range).
  -> notes 4, signed 3, within 24 h 1 (25 %), within 72 h 2 (50 %), unsigned 1,
  co-signatures waiting 1.
Bob (no supervisor): one note ending 10 Sep signed 2 h later -> 1, 1, 1 (100 %), 1
  (100 %), 0, 0. Mira (medical, no supervisor): a medication note on Bob's client ending
  11 Sep, signed 50 h later -> 1, 1, 0 (0 %), 1 (100 %), 0, 0 (admins only).
  All (admin): 6 notes, 2 within 24 h (33 %), 4 within 72 h (67 %).
Plans overdue today (review every 30 days): Alice's client signed 45 days ago (due 15
  days ago: overdue 15), Alice's other client signed 10 days ago (not due), Bob's client
  signed 31 days ago (due yesterday: overdue 1). Admin sees 2, Carol sees Alice's 1.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Episode
from clinical import reports
from clinical.meds.models import Measure
from clinical.notes.models import NoteStatus, ProgressNote, is_late_entry
from clinical.plans.models import TreatmentPlan, TreatmentPlanVersion
from iop.audit.models import AuditEvent
from scheduling.models import Appointment, Enrollment, EnrollmentStatus, clinic_tz
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.iop.report_csv import report_csv_rows
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, slot, track

pytestmark = pytest.mark.django_db

CENSUS = {"start": "2026-07-01", "end": "2026-09-30", "on": "2026-09-15"}
DOCS = {"start": "2026-09-01", "end": "2026-09-30"}


def d(month, day):
    return date(2026, month, day)


# --- Census fixture ------------------------------------------------------------------------


@pytest.fixture
def census(admin_user):
    groups = {
        ("iop6", "evening"): GroupFactory(track=track("iop6"), slot=slot("evening")),
        ("iop6", "midday"): GroupFactory(track=track("iop6"), slot=slot("midday")),
        ("iop3", "evening"): GroupFactory(track=track("iop3"), slot=slot("evening")),
    }

    def stay(profession, admitted, placements, discharged=None, reason=""):
        client = ClientFactory(profession=profession)
        episode = EpisodeFactory(
            client=client, admitted_on=admitted, discharged_on=discharged, discharge_reason=reason
        )
        for n, (key, start) in enumerate(placements):
            last = n == len(placements) - 1
            ended = discharged if last else placements[n + 1][1]
            if last:
                status = EnrollmentStatus.ACTIVE if discharged is None else "discharged"
            else:
                status = EnrollmentStatus.STEPPED_DOWN
            Enrollment.objects.create(
                client=client, episode=episode, track=groups[key].track, group=groups[key],
                start_on=start, ended_on=ended, status=status, created_by=admin_user,
            )  # fmt: skip
        return client

    people = {
        "ann": stay(
            "physician",
            d(7, 6),
            [(("iop6", "evening"), d(7, 6)), (("iop3", "evening"), d(8, 3))],
            d(8, 31),
            "completed",
        ),
        "bo": stay(
            "nurse",
            d(7, 13),
            [(("iop6", "evening"), d(7, 13)), (("iop3", "evening"), d(8, 10))],
            d(9, 21),
            "completed",
        ),
        "cy": stay("attorney", d(8, 3), [(("iop6", "midday"), d(8, 3))], d(8, 17), "ama"),
        "di": stay("physician", d(8, 10), [(("iop6", "midday"), d(8, 10))]),
        "ed": stay("pilot", d(9, 1), [(("iop3", "evening"), d(9, 1))]),
        "fay": stay("nurse", d(5, 4), [(("iop6", "evening"), d(5, 4))], d(7, 10), "higher_level"),
    }

    def measure(who, instrument, on, score):
        Measure.objects.create(
            client=people[who], instrument=instrument, administered_on=on, items={},
            score=score, band="x", recorded_by=admin_user,
        )  # fmt: skip

    measure("ann", "phq9", d(6, 30), 22)  # before admission: outside the window
    measure("ann", "phq9", d(7, 6), 15)
    measure("ann", "phq9", d(7, 20), 12)
    measure("ann", "phq9", d(8, 28), 6)
    measure("ann", "phq9", d(9, 5), 3)  # after discharge: outside the window
    measure("ann", "gad7", d(7, 6), 12)
    measure("ann", "gad7", d(8, 28), 5)
    measure("bo", "phq9", d(7, 13), 20)
    measure("bo", "phq9", d(9, 18), 8)
    measure("bo", "gad7", d(7, 13), 14)  # one administration: no pair
    measure("cy", "phq9", d(8, 3), 18)
    measure("cy", "phq9", d(8, 14), 18)
    measure("bo", "bam", d(7, 13), None)  # the BAM has no total: never counted
    return {"people": people, "groups": groups}


def _census(admin_user, **extra):
    filters = {"start": d(7, 1), "end": d(9, 30), "on": d(9, 15), **extra}
    return reports.run_census(user=admin_user, filters=filters)


def _by_key(rows, *fields):
    return {r["key"]: tuple(r[f] for f in fields) for r in rows}


RETENTION = ("admitted", "discharged", "completed", "left_early", "retention_pct", "completion_pct")


def test_retention_and_completion_by_track_slot_and_profession(census, admin_user):
    retention = _census(admin_user)["retention"]
    assert _by_key(retention["track"], *RETENTION) == {
        "iop3": (1, 0, 0, 0, 100, ""),
        "iop6": (4, 3, 2, 1, 75, 67),
    }
    assert _by_key(retention["slot"], *RETENTION) == {
        "evening": (3, 2, 2, 0, 100, 100),
        "midday": (2, 1, 0, 1, 50, 0),
    }
    assert _by_key(retention["profession"], *RETENTION) == {
        "attorney": (1, 1, 0, 1, 0, 0),
        "nurse": (1, 1, 1, 0, 100, 100),
        "physician": (2, 1, 1, 0, 100, 100),
        "pilot": (1, 0, 0, 0, 100, ""),
    }
    assert _by_key(retention["slot_profession"], "admitted", "retention_pct") == {
        "evening/nurse": (1, 100),
        "evening/physician": (1, 100),
        "evening/pilot": (1, 100),
        "midday/attorney": (1, 0),
        "midday/physician": (1, 100),
    }


def test_active_census_and_months(census, admin_user):
    result = _census(admin_user)
    assert _by_key(result["active"], "clients") == {"iop3/evening": (2,), "iop6/midday": (1,)}
    assert result["active_total"] == 3
    assert [(m["key"], m["admissions"], m["discharges"]) for m in result["months"]] == [
        ("2026-07", 2, 1),
        ("2026-08", 2, 2),
        ("2026-09", 1, 1),
    ]
    # The active day defaults to the range's end: Di and Ed (Bo left on 21 Sep).
    blank_on = reports.run_census(user=admin_user, filters={"start": d(7, 1), "end": d(9, 30)})
    assert blank_on["active_total"] == 2


def test_discharges_length_of_stay_and_completion(census, admin_user):
    result = _census(admin_user)
    assert [
        (r["key"], r["stays"], r["median_days"], r["min_days"], r["max_days"])
        for r in result["length_of_stay"]
    ] == [
        ("completed", 2, Decimal("63.0"), 56, 70),
        ("ama", 1, Decimal("14.0"), 14, 14),
        ("higher_level", 1, Decimal("67.0"), 67, 67),
    ]
    assert result["completion"] == {"discharged": 4, "completed": 2, "completion_pct": 50}


@pytest.mark.parametrize("percentile", [True, False])
def test_the_median_is_the_same_with_and_without_percentile_cont(census, admin_user, percentile):
    """The SQLite fallback (window functions) and percentile_cont agree, odd and even."""
    from django.db import connection

    if percentile and connection.vendor != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    scope = reports._census_scope(admin_user, {})
    # Widen to Fay's admission so every stay is in: completed 56, 70; add a third.
    extra = ClientFactory(profession="pilot")
    EpisodeFactory(
        client=extra, admitted_on=d(6, 1), discharged_on=d(7, 1), discharge_reason="completed"
    )
    rows = reports.length_of_stay(scope, {"start": d(7, 1), "end": d(9, 30)}, percentile=percentile)
    completed = next(r for r in rows if r["key"] == "completed")
    assert (completed["stays"], completed["median_days"]) == (3, Decimal("56.0"))  # 30, 56, 70


def test_step_down_rate(census, admin_user):
    rows = {r["key"]: r for r in _census(admin_user)["step_down"]}
    assert (rows["iop6->iop3"]["stays"], rows["iop6->iop3"]["stepped_down"]) == (4, 2)
    assert rows["iop6->iop3"]["rate_pct"] == 50


def test_phq9_and_gad7_change_between_admission_and_discharge(census, admin_user):
    rows = {r["key"]: r for r in _census(admin_user)["measures"]}
    phq = rows["phq9"]
    assert (phq["pairs"], phq["mean_admission"], phq["mean_discharge"]) == (
        3,
        Decimal("17.7"),
        Decimal("10.7"),
    )
    assert (phq["mean_change"], phq["improved"]) == (Decimal("-7.0"), 2)
    gad = rows["gad7"]
    assert (gad["pairs"], gad["mean_admission"], gad["mean_discharge"]) == (
        1,
        Decimal("12.0"),
        Decimal("5.0"),
    )
    assert (gad["mean_change"], gad["improved"]) == (Decimal("-7.0"), 1)


def test_a_profession_filter_narrows_every_cohort(census, admin_user):
    result = _census(admin_user, profession="nurse")
    assert _by_key(result["retention"]["track"], "admitted", "completed") == {"iop6": (1, 1)}
    assert result["completion"] == {"discharged": 2, "completed": 1, "completion_pct": 50}
    assert result["active_total"] == 1  # Bo


def test_census_csv_equals_the_page(census, admin_user, client_as):
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["census"]), CENSUS)
    assert page.status_code == 200
    html = page.content.decode()
    for testid in ("chart-months", "table-months", "retention-slot", "table-los", "table-measures"):
        assert f'data-testid="{testid}"' in html
    response = web.get(reverse("reports:csv", args=["census"]), CENSUS)
    assert response.status_code == 200
    parsed = report_csv_rows(b"".join(response.streaming_content).decode("utf-8-sig"), "census")
    assert tuple(parsed[0]) == reports.CENSUS_COLUMNS
    expected = [
        {k: str(r[k]) for k in reports.CENSUS_COLUMNS} for r in page.context["result"]["rows"]
    ]
    assert parsed == expected
    # In the page's words: no code ("midday", "retention_pct") in the file.
    assert {
        "figure": "Retention by slot",
        "group": "Midday",
        "measure": "Retention %",
        "value": "50",
    } in parsed
    assert {
        "figure": "Length of stay by discharge reason",
        "group": "Completed",
        "measure": "Median days",
        "value": "63.0",
    } in parsed
    assert {
        "figure": "Retention by slot and referral profession",
        "group": "Evening · Physician",
        "measure": "Admitted",
        "value": "1",
    } in parsed
    assert {"figure": "Step-down", "group": "IOP 6 → IOP 3", "measure": "Stays", "value": "4"} in (
        parsed
    )
    assert not any(code in row["group"] for row in parsed for code in ("iop3", "iop6", "/"))
    runs = AuditEvent.objects.filter(action="report.run", actor=admin_user)
    assert runs.count() == 2
    names = [c.legal_last_name for c in Client.objects.all()]
    assert not any(name in e.detail for e in runs for name in names)


def _more_stays(admin_user, group, n):
    for i in range(n):
        client = ClientFactory(profession="executive")
        episode = EpisodeFactory(
            client=client, admitted_on=d(7, 1 + i), discharged_on=d(9, 1 + i),
            discharge_reason="completed",
        )  # fmt: skip
        Enrollment.objects.create(
            client=client, episode=episode, track=group.track, group=group, start_on=d(7, 1 + i),
            ended_on=d(9, 1 + i), status="discharged", created_by=admin_user,
        )  # fmt: skip
        for on, score in ((d(7, 1 + i), 14), (d(8, 30), 7)):
            Measure.objects.create(
                client=client, instrument="phq9", administered_on=on, items={}, score=score,
                band="x", recorded_by=admin_user,
            )  # fmt: skip


def test_the_census_query_count_does_not_grow(
    census, admin_user, client_as, django_assert_max_num_queries
):
    web = client_as(admin_user)
    url = reverse("reports:report", args=["census"])
    # session, user with roles, OTP device (3); retention (1); length of stay (1);
    # admissions and discharges by month (2); active on the day (1); step-down (1);
    # PHQ-9/GAD-7 (1); the audit row: savepoint, chain lock, head, insert, release (5): 15.
    with django_assert_max_num_queries(15) as before:
        assert web.get(url, CENSUS).status_code == 200
    _more_stays(admin_user, census["groups"][("iop6", "evening")], 6)
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = web.get(url, CENSUS)
    assert response.status_code == 200
    assert _by_key(response.context["result"]["measures"], "pairs")["phq9"] == (9,)


# --- Documentation fixture ----------------------------------------------------------------


def _at(month, day, hour=10):
    return datetime(2026, month, day, hour, tzinfo=clinic_tz())


def mark(session, client, status):
    from iop.accounts.models import User
    from scheduling.models import Attendance

    recorder = session.group.facilitators.first() or User.objects.first()
    return Attendance.objects.create(
        session=session, client=client, status=status, minutes=180, recorded_by=recorder
    )


@pytest.fixture
def documentation(admin_user, clinician, other_clinician, medical_user):
    def note(author, client, ended, signed_after_hours=None, cosign=""):
        appointment = Appointment.objects.create(
            kind="individual", client=client, clinician=author,
            starts_at=ended - timedelta(hours=1), ends_at=ended, status="completed",
            booked_by=admin_user,
        )  # fmt: skip
        signed = signed_after_hours is not None
        signed_at = ended + timedelta(hours=signed_after_hours) if signed else None
        return ProgressNote.objects.create(
            kind="individual", format="DAP", author=author, client=client, appointment=appointment,
            status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
            signed_at=signed_at, signed_by=author if signed else None,
            late_entry=signed and is_late_entry(signed_at=signed_at, service_ended=ended),
            cosign_required=bool(cosign), cosign_status=cosign,
        )  # fmt: skip

    alices = [EpisodeFactory().client for _ in range(2)]
    bobs = EpisodeFactory().client
    for c in alices:
        with_care_team(c, clinician)
    with_care_team(bobs, other_clinician)
    note(clinician, alices[0], _at(9, 2), 10, cosign="pending")
    note(clinician, alices[0], _at(9, 3), 30)
    note(clinician, alices[1], _at(9, 4), 80)
    note(clinician, alices[1], _at(9, 5))
    note(clinician, alices[1], _at(8, 20), 1)  # outside the range
    note(other_clinician, bobs, _at(9, 10), 2)
    note(medical_user, bobs, _at(9, 11), 50)  # a prescriber's note: admins count it

    # Sessions held without a note. Alice's group met on 8 Sep and nobody wrote its
    # note; bob kept an appointment on 12 Sep and recorded neither note nor no-show.
    group = GroupFactory(facilitator=clinician, name="Evening IOP 6")
    met = GroupSessionFactory(group=group, date=d(9, 8))
    mark(met, alices[0], "present")
    mark(met, alices[1], "unexcused")
    # Not held, so no note is missing: a session where everyone was absent, a
    # cancelled one, a no-show and a cancelled appointment.
    nobody = GroupSessionFactory(group=group, date=d(9, 9))
    mark(nobody, alices[0], "excused")
    GroupSessionFactory(group=group, date=d(9, 10), cancelled_at=_at(9, 1))
    Appointment.objects.create(
        kind="individual", client=bobs, clinician=other_clinician, starts_at=_at(9, 12, 9),
        ends_at=_at(9, 12, 10), status="scheduled", booked_by=admin_user,
    )  # fmt: skip
    for status in ("no_show", "cancelled"):
        Appointment.objects.create(
            kind="individual", client=bobs, clinician=other_clinician, starts_at=_at(9, 13, 9),
            ends_at=_at(9, 13, 10), status=status, booked_by=admin_user,
        )  # fmt: skip

    today = timezone.localdate()

    def plan(client, author, signed_days_ago):
        episode = client.episodes.get()
        treatment = TreatmentPlan.objects.create(client=client, episode=episode, created_by=author)
        TreatmentPlanVersion.objects.create(
            plan=treatment, client=client, number=1, created_by=author, client_agreement="agrees",
            client_signed_on=today - timedelta(days=signed_days_ago),
            reviewed_on=today - timedelta(days=signed_days_ago),
        )  # fmt: skip

    plan(alices[0], clinician, 45)
    plan(alices[1], clinician, 10)
    plan(bobs, other_clinician, 31)
    return {"alices": alices, "bobs": bobs}


DOC_FIGURES = (
    "sessions_held",
    "signed_on_time",
    "signed_late",
    "missing",
    "missing_draft",
    "missing_no_note",
    "signed_24h",
    "pct_24h",
    "signed_72h",
    "pct_72h",
    "cosign_waiting",
)


def _docs(client_as, user, query=DOCS):
    return client_as(user).get(reverse("reports:report", args=["documentation"]), query)


def test_documentation_per_clinician(documentation, admin_user, client_as):
    response = _docs(client_as, admin_user)
    assert response.status_code == 200
    result = response.context["result"]
    rows = {r["clinician"]: tuple(r[k] for k in DOC_FIGURES) for r in result["rows"]}
    # Alice: 4 appointments (signed after 10, 30 and 80 hours, one a draft) and the
    # group session without a note: 5 held, 2 on time, 1 late, 2 missing.
    assert rows == {
        "alice": (5, 2, 1, 2, 1, 1, 1, 20, 2, 40, 1),
        "bob": (2, 1, 0, 1, 0, 1, 1, 50, 1, 50, 0),
        "mira": (1, 1, 0, 0, 0, 0, 0, 0, 1, 100, 0),
    }
    # All: 8 held, 2 within 24 h (25 %), 4 within 72 h (50 %), 3 missing.
    totals = result["totals"]
    assert (totals["sessions_held"], totals["pct_24h"], totals["pct_72h"]) == (8, 25, 50)
    assert (totals["missing"], totals["missing_no_note"]) == (3, 2)
    groups = {r["group"]: tuple(r[k] for k in DOC_FIGURES) for r in result["groups"]}
    assert groups == {"Evening IOP 6": (1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0)}
    html = response.content.decode()
    assert 'data-testid="documentation-groups"' in html and "Evening IOP 6" in html
    overdue = [(p["mrn"], p["days_overdue"]) for p in result["plans_overdue"]]
    assert overdue == [
        (documentation["alices"][0].mrn, 15),
        (documentation["bobs"].mrn, 1),
    ]


def test_a_supervisor_sees_their_team_only(documentation, supervisor, client_as):
    result = _docs(client_as, supervisor).context["result"]
    assert [r["clinician"] for r in result["rows"]] == ["alice"]
    assert [p["mrn"] for p in result["plans_overdue"]] == [documentation["alices"][0].mrn]
    assert result["team_only"]


def test_a_supervisor_may_not_pick_someone_outside_their_team(
    documentation, supervisor, other_clinician, client_as
):
    response = _docs(client_as, supervisor, {**DOCS, "clinician": str(other_clinician.pk)})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_clinician_filter(documentation, admin_user, other_clinician, client_as):
    result = _docs(client_as, admin_user, {**DOCS, "clinician": str(other_clinician.pk)})
    rows = result.context["result"]["rows"]
    assert [r["clinician"] for r in rows] == ["bob"]
    assert [p["mrn"] for p in result.context["result"]["plans_overdue"]] == [
        documentation["bobs"].mrn
    ]


def test_documentation_csv_equals_the_page(documentation, admin_user, client_as):
    web = client_as(admin_user)
    page = _docs(client_as, admin_user)
    with CaptureQueriesContext(connection) as queries:
        response = web.get(reverse("reports:csv", args=["documentation"]), DOCS)
    # The CSV has the per-clinician rows only: the overdue plans are not read for it.
    assert not [q for q in queries.captured_queries if "treatmentplanversion" in q["sql"]]
    parsed = report_csv_rows(
        b"".join(response.streaming_content).decode("utf-8-sig"), "documentation"
    )
    assert tuple(parsed[0]) == reports.DOCUMENTATION_COLUMNS
    expected = [
        {k: str(r[k]) for k in reports.DOCUMENTATION_COLUMNS}
        for r in page.context["result"]["rows"]
    ]
    assert parsed == expected
    alice = next(r for r in parsed if r["clinician"] == "alice")
    assert (alice["sessions_held"], alice["pct_24h"], alice["missing"]) == ("5", "20", "2")


@pytest.mark.parametrize(
    "username", ["-2+3", '=HYPERLINK("http://evil.example","x")', "+1", "@SUM(1)", "\t=1", "\r=1"]
)
def test_a_formula_looking_username_is_defused_in_the_documentation_csv(
    documentation, admin_user, clinician, client_as, username
):
    """Issue 18 item 7: the CSV carried a username ``-2+3`` as-is, which a spreadsheet
    runs as a formula. It comes out as text; the counts beside it stay numbers."""
    clinician.username = username
    clinician.save(update_fields=["username"])
    response = client_as(admin_user).get(reverse("reports:csv", args=["documentation"]), DOCS)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = report_csv_rows(raw.decode("utf-8-sig"), "documentation")
    by_clinician = {r["clinician"]: r for r in parsed}
    assert set(by_clinician) == {"'" + username, "bob", "mira"}
    row = by_clinician["'" + username]
    assert (row["sessions_held"], row["pct_24h"], row["pct_72h"]) == ("5", "20", "40")


def test_a_background_documentation_run_defuses_the_username(
    documentation, admin_user, clinician, settings, tmp_path
):
    from iop.reports.models import ReportRun
    from iop.reports.services import report_storage
    from iop.reports.tasks import run_report

    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    clinician.username = "-2+3"
    clinician.save(update_fields=["username"])
    run = ReportRun.objects.create(
        report="documentation",
        owner=admin_user,
        filters=DOCS,
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert run_report(run.pk) == "done"
    run.refresh_from_db()
    raw = report_storage().open(run.file_name).read()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Clinician (username),Sessions held,Signed,Signed on time")
    assert sum(line.startswith("'-2+3,5,3,2,1,2,") for line in lines) == 1
    assert not any(line.startswith("-2+3") for line in lines)


def test_the_documentation_query_count_does_not_grow(
    documentation, admin_user, clinician, client_as, django_assert_max_num_queries
):
    web = client_as(admin_user)
    # session, user with roles, OTP device (3); per clinician, per group and the totals
    # in one statement (1); overdue plans with their clients (1); the audit row (5); the
    # clinician choices rendered (1): 11.
    url = reverse("reports:report", args=["documentation"])
    with django_assert_max_num_queries(11) as before:
        assert web.get(url, DOCS).status_code == 200
    client = Episode.objects.filter(client__in=documentation["alices"]).first().client
    for day in range(11, 20):
        ended = _at(9, day)
        appointment = Appointment.objects.create(
            kind="individual", client=client, clinician=clinician,
            starts_at=ended - timedelta(hours=1), ends_at=ended, booked_by=admin_user,
        )  # fmt: skip
        ProgressNote.objects.create(
            kind="individual", format="DAP", author=clinician, client=client,
            appointment=appointment,
        )  # fmt: skip
    group = GroupFactory(facilitator=clinician)
    for day in range(21, 25):
        mark(GroupSessionFactory(group=group, date=d(9, day)), client, "present")
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = web.get(url, DOCS)
    result = response.context["result"]
    assert {r["clinician"]: r["sessions_held"] for r in result["rows"]}["alice"] == 18
    assert len(result["groups"]) == 2


# --- Who may run them -----------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ["clinician", "supervisor", "intake_user", "medical_user"])
def test_census_is_for_admins(role_user, request, client_as):
    user = request.getfixturevalue(role_user)
    for name in ("report", "csv", "print"):
        response = client_as(user).get(reverse(f"reports:{name}", args=["census"]), CENSUS)
        assert response.status_code == 403


@pytest.mark.parametrize("role_user", ["clinician", "intake_user", "medical_user"])
def test_documentation_is_for_admins_and_supervisors(role_user, request, client_as):
    user = request.getfixturevalue(role_user)
    response = client_as(user).get(reverse("reports:report", args=["documentation"]), DOCS)
    assert response.status_code == 403


def test_the_index_lists_them_by_role(admin_user, supervisor, client_as):
    admin_page = client_as(admin_user).get(reverse("reports:index")).content.decode()
    assert "Census and outcomes" in admin_page and "Documentation compliance" in admin_page
    team_page = client_as(supervisor).get(reverse("reports:index")).content.decode()
    assert "Census and outcomes" not in team_page and "Documentation compliance" in team_page


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "query", "message"),
    [
        ("census", {"start": "2026-09-30", "end": "2026-07-01"}, "ends before it starts"),
        ("census", {"start": "2023-01-01", "end": "2026-09-30"}, "at most 2 years"),
        ("census", {**CENSUS, "profession": "astronaut"}, "Select a valid choice"),
        ("census", {**CENSUS, "profession": "x" * 10_000}, "Select a valid choice"),
        ("census", {**CENSUS, "on": "9999-12-31"}, "too far"),
        ("census", {**CENSUS, "on": "2026-02-30"}, "valid date"),
        ("census", {"start": "\x00", "end": "2026-09-30"}, ""),
        ("documentation", {"start": "2026-09-30", "end": "2026-09-01"}, "ends before it starts"),
        ("documentation", {"start": "2024-01-01", "end": "2026-09-30"}, "at most 2 years"),
        ("documentation", {**DOCS, "clinician": "999999"}, "Select a valid choice"),
        ("documentation", {**DOCS, "clinician": "\x00"}, ""),
        ("documentation", {"start": "0001-01-01", "end": "0001-01-02"}, "too far"),
    ],
)
def test_bad_filters_answer_400_with_a_message(admin_user, client_as, key, query, message):
    for name in ("report", "csv", "print"):
        response = client_as(admin_user).get(reverse(f"reports:{name}", args=[key]), query)
        assert response.status_code == 400, (name, query)
        assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="report.run").exists()


def test_a_background_run_writes_the_same_csv(census, admin_user, client_as, settings, tmp_path):
    """The worker path: the run's file in private storage holds the page's rows."""
    from iop.reports.models import ReportRun
    from iop.reports.services import report_run_execute, report_storage

    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["census"]), CENSUS)
    run = ReportRun.objects.create(
        report="census",
        owner=admin_user,
        filters=CENSUS,
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "done"
    run.refresh_from_db()
    body = report_storage().open(run.file_name).read().decode("utf-8-sig")
    parsed = report_csv_rows(body, "census")
    assert len(parsed) == len(page.context["result"]["rows"]) == run.row_count


def test_a_supervisor_finds_reports_in_the_menu(supervisor, intake_user, client_as):
    page = client_as(supervisor).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("reports:index")}"' in page
    intake = client_as(intake_user).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("reports:index")}"' not in intake


def test_a_group_note_is_measured_from_its_session_end(admin_user, clinician, client_as):
    session = GroupSessionFactory(group=GroupFactory(), date=d(9, 8))
    ProgressNote.objects.create(
        kind="group", format="BIRP", author=clinician, session=session,
        status=NoteStatus.SIGNED, signed_at=session.ends_at + timedelta(hours=25),
        signed_by=clinician,
    )  # fmt: skip
    mark(session, ClientFactory(), "present")
    rows = reports.documentation_by_clinician(admin_user, {"start": d(9, 1), "end": d(9, 30)})
    assert [(r["clinician"], r["signed_24h"], r["signed_72h"]) for r in rows] == [("alice", 0, 1)]


@pytest.mark.parametrize(("key", "query"), [("census", CENSUS), ("documentation", DOCS)])
def test_the_print_views(census, admin_user, client_as, key, query):
    response = client_as(admin_user).get(reverse("reports:print", args=[key]), query)
    assert response.status_code == 200
    assert 'data-testid="report-filters"' not in response.content.decode()


def test_a_repeated_run_gives_the_same_numbers(census, admin_user, client_as):
    """Double submission: a report is a read; running it twice changes nothing but the
    audit trail (two report.run rows)."""
    web = client_as(admin_user)
    first = web.get(reverse("reports:report", args=["census"]), CENSUS)
    second = web.get(reverse("reports:report", args=["census"]), CENSUS)
    assert first.context["result"]["rows"] == second.context["result"]["rows"]
    assert AuditEvent.objects.filter(action="report.run", actor=admin_user).count() == 2


def test_one_of_eight_is_13_percent_in_the_census_as_in_every_report():
    """The worked example of the percentages: 1 of 8 is 12.5 %, shown 13 (half up)."""
    figures = reports._retention_figures([{"admitted": 8, "discharged": 8, "completed": 1}])
    assert (figures["left_early"], figures["retention_pct"], figures["completion_pct"]) == (
        7,
        13,
        13,
    )


def test_a_session_without_a_note_counts_for_each_facilitator_and_once_in_the_totals(
    admin_user, clinician, other_clinician, supervisor
):
    """The issue's clinician showed "Notes 3, Signed 3, Unsigned 0" beside 35 sessions
    that met without a note: every session that met is counted, written or not."""
    group = GroupFactory(facilitator=clinician, name="Midday IOP 3")
    group.facilitators.add(other_clinician)
    client = ClientFactory()
    for day in (14, 15, 16):
        mark(GroupSessionFactory(group=group, date=d(9, day)), client, "present")
    written = GroupSessionFactory(group=group, date=d(9, 17))
    mark(written, client, "late")
    ProgressNote.objects.create(
        kind="group", format="BIRP", author=clinician, session=written,
        status=NoteStatus.SIGNED, signed_at=written.ends_at + timedelta(hours=2),
        signed_by=clinician,
    )  # fmt: skip
    f = {"start": d(9, 1), "end": d(9, 30)}
    rows = {r["clinician"]: r for r in reports.documentation_by_clinician(admin_user, f)}
    assert (rows["alice"]["sessions_held"], rows["alice"]["missing_no_note"]) == (4, 3)
    assert (rows["bob"]["sessions_held"], rows["bob"]["missing_no_note"]) == (3, 3)
    (by_group,) = reports.documentation_by_group(admin_user, f)
    assert (by_group["sessions_held"], by_group["missing"], by_group["signed_on_time"]) == (4, 3, 1)
    totals = reports.documentation_totals(admin_user, f)
    assert (totals["sessions_held"], totals["missing"], totals["pct_24h"]) == (4, 3, 25)
    # Carol supervises alice, not bob: her report counts alice's part only, and the
    # group's sessions alice answers for (all four).
    team = reports.documentation_by_clinician(supervisor, f)
    assert [r["clinician"] for r in team] == ["alice"]
    (team_group,) = reports.documentation_by_group(supervisor, f)
    assert team_group["sessions_held"] == 4


def test_the_documentation_figures_of_someone_who_covers_nobody_are_empty(clinician):
    """A clinician (no admin, supervising nobody) covers no one: no row, zero totals."""
    figures = reports.documentation_figures(clinician, {"start": d(9, 1), "end": d(9, 30)})
    assert figures["rows"] == [] and figures["groups"] == []
    assert figures["totals"]["sessions_held"] == 0


def test_the_census_page_says_names_not_codes(census, admin_user, client_as):
    """Track, slot and profession in words ("IOP 3", "Evening · Physician"), never their
    codes ("iop3", "evening/physician") nor a header run together ("Slotprofession")."""
    html = client_as(admin_user).get(reverse("reports:report", args=["census"]), CENSUS)
    html = html.content.decode()
    assert "Slotprofession" not in html and "Slot · referral profession" in html
    assert '<th scope="row">IOP 3</th>' in html
    assert '<th scope="row">Evening · Physician</th>' in html
    assert '<th scope="row">IOP 3 · Evening</th>' in html  # active on the day
    assert '<th scope="row">IOP 6 → IOP 3</th>' in html  # step-down
    for code in (">iop3<", ">iop6<", "iop3/", "evening/", "iop6-&gt;iop3", ">physician<"):
        assert code not in html, code


def test_the_print_view_says_its_filters_in_words(census, admin_user, client_as):
    from iop import when

    response = client_as(admin_user).get(
        reverse("reports:print", args=["census"]), {**CENSUS, "profession": "pilot"}
    )
    html = response.content.decode()
    start, end, on = (when.day(d(7, 1)), when.day(d(9, 30)), when.day(d(9, 15)))
    assert f"From {start} to {end} · Active on: {on} · Referral profession: Pilot" in html
    assert "start=" not in html and "profession=pilot" not in html

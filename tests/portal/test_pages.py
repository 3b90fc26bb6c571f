"""The client's pages: schedule and hours, the calendar file, the plan, reminders and
who looked at the record. Each shows the signed-in client's own rows only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from clinical.plans import services as plans
from iop import when
from iop.audit.models import AuditEvent
from iop.audit.services import AuditContext, audit_record
from iop.notifications.models import OutboxMessage, OutboxStatus
from scheduling.models import local_datetime
from tests.clock import TUESDAY, at, shown

pytestmark = pytest.mark.django_db


def test_my_schedule_shows_what_is_ahead_and_the_weeks_hours(
    week, portal_client, portal_as, settings
):
    html = portal_as(portal_client).get(reverse("portal:schedule")).content.decode()
    assert "3 of 9 hours" in html  # Monday's 3 h against the adults' 9 h floor
    assert "6 hours to go" in html
    # Wednesday's and Thursday's groups, Friday's appointment: each led by its date.
    listed = html.split('data-testid="portal-schedule"')[1]
    days = [when.day(TUESDAY + timedelta(days=n)) for n in (1, 2, 3)]
    assert listed.count('<li class="portal-item">') == 3
    assert [listed.index(day) for day in days] == sorted(listed.index(day) for day in days)
    assert listed.index(days[0]) < listed.index(shown("18:00"))
    assert "Join by video" in html and "https://video.example/room/abc" in html
    assert settings.IOP_REMINDER_PLACE in html


def test_the_calendar_file_has_neutral_titles(week, portal_client, portal_as, settings):
    response = portal_as(portal_client).get(reverse("portal:calendar"))
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.count("BEGIN:VEVENT") == 3  # Wednesday, Thursday, Friday
    assert {line for line in text.splitlines() if line.startswith("SUMMARY")} == {
        "SUMMARY:Appointment"
    }
    for word in ("Evening professionals", "Individual", "alice", settings.IOP_PROGRAM_NAME):
        assert word not in text


def test_my_plan_is_the_client_copy(portal_client, portal_as, clinician):
    plans.relapse_plan_save(
        client=portal_client,
        content={"warning_signs": ["Skipping lunch"], "coping_strategies": ["Call Dana"]},
        of_version=0,
        actor=clinician,
    )
    html = portal_as(portal_client).get(reverse("portal:plan")).content.decode()
    assert "My relapse-prevention plan" in html
    assert "Skipping lunch" in html and "Call Dana" in html and "988" in html


def test_my_reminders_saves_with_staffs_rules_as_the_clients_own_change(portal_client, portal_as):
    portal_client.reminder_channel, portal_client.reminder_consent = "sms", True
    portal_client.save()
    pending = OutboxMessage.objects.create(
        idempotency_key="session:x:1",
        audience="client",
        client=portal_client.public_id,
        channel="sms",
        recipient=portal_client.phone,
        subject="Reminder",
        body="Reminder",
        scheduled_for=local_datetime(TUESDAY, at(TUESDAY, "08:00").time()),
    )
    web = portal_as(portal_client)
    # Email without consent: refused with staff's rule, nothing saved.
    response = web.post(
        reverse("portal:reminders"), {"reminder_channel": "email", "quiet_hours_start": ""}
    )
    assert response.status_code == 400
    assert "Tick the box to agree" in response.content.decode()
    portal_client.refresh_from_db()
    assert portal_client.reminder_channel == "sms"
    # Opting out: saved, the pending text cancelled, audited as the client's change.
    response = web.post(reverse("portal:reminders"), {"reminder_channel": "none"})
    assert response.status_code == 302
    portal_client.refresh_from_db()
    assert (portal_client.reminder_channel, portal_client.reminder_consent) == ("none", False)
    pending.refresh_from_db()
    assert pending.status == OutboxStatus.CANCELLED
    change = AuditEvent.objects.get(action="client.update")
    assert change.actor_id is None
    assert change.actor_username == f"client:{portal_client.public_id}"
    assert change.client_id == portal_client.public_id


def test_who_looked_at_my_record_names_roles_not_people(
    portal_client, portal_as, clinician, settings, django_assert_max_num_queries
):
    for _ in range(3):
        audit_record(
            action="access.clinical", audit=AuditContext(actor=clinician), client=portal_client
        )
    audit_record(action="access.chart", audit=AuditContext(actor=clinician), client=portal_client)
    web = portal_as(portal_client)
    web.get(reverse("portal:home"))  # the client's own visit: not listed
    with django_assert_max_num_queries(12):
        html = web.get(reverse("portal:record_access")).content.decode()
    assert "Clinician" in html and "alice" not in html.lower()
    assert "Your clinical record" in html and "(3 times)" in html
    assert "Your record (contact details" in html
    settings.IOP_PORTAL_SHOW_STAFF_NAMES = True
    html = web.get(reverse("portal:record_access")).content.decode()
    assert str(clinician) in html


def test_who_looked_keeps_its_query_count_as_the_trail_grows(
    portal_client, portal_as, clinician, other_clinician, django_assert_max_num_queries
):
    web = portal_as(portal_client)
    for staff in (clinician, other_clinician):
        for action in ("access.chart", "access.clinical", "access.attendance"):
            audit_record(action=action, audit=AuditContext(actor=staff), client=portal_client)
    with django_assert_max_num_queries(12):
        assert web.get(reverse("portal:record_access")).status_code == 200


def test_the_weekly_floor_comes_from_the_scheduling_selector(week, portal_client):
    from portal.selectors import schedule

    data = schedule(portal_client)
    assert data["week"]["hours"] == Decimal("3.0")
    assert data["week"]["floor"] == Decimal("9.00")


def test_my_schedule_costs_the_same_however_many_sessions(
    week, portal_client, portal_as, django_assert_max_num_queries
):
    from tests.scheduling.factories import GroupSessionFactory

    web = portal_as(portal_client)
    with django_assert_max_num_queries(14):
        web.get(reverse("portal:schedule"))
    for offset in range(4, 20):
        GroupSessionFactory(group=week, date=TUESDAY + timedelta(days=offset))
    with django_assert_max_num_queries(14):
        html = web.get(reverse("portal:schedule")).content.decode()
    assert html.count('<li class="portal-item">') == 3 + 16


def test_a_telehealth_link_is_https_only(portal_client, clinician, week):
    from django.core.exceptions import ValidationError

    from scheduling.services import appointment_book

    start = local_datetime(TUESDAY + timedelta(days=7), at(TUESDAY, "09:00").time())
    with pytest.raises(ValidationError) as refused:
        appointment_book(
            client=portal_client,
            clinician=clinician,
            kind="individual",
            starts_at=start,
            ends_at=start + timedelta(minutes=50),
            telehealth_url="http://video.example/x",
            actor=clinician,
        )
    assert "https://" in str(refused.value)


def test_home_shows_what_is_next_and_the_weeks_hours(week, portal_client, portal_as):
    html = portal_as(portal_client).get(reverse("portal:home")).content.decode()
    next_up = html.split('data-testid="portal-next"')[1].split("</section>")[0]
    assert when.day(TUESDAY + timedelta(days=1)) in next_up and shown("18:00") in next_up
    assert "Group session" in next_up and "Evening professionals" not in next_up
    assert "This week: 3 of 9 hours" in next_up

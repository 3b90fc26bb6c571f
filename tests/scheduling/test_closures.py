"""Clinic closures (issue 8): no session on a closed day, and closing a day cancels
the sessions already generated with the closure's reason, all or nothing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from scheduling import services
from scheduling.models import Attendance, ClinicClosure, GroupSession
from scheduling.selectors import federal_holidays
from tests.clients.factories import ClientFactory
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily(clinician):
    return GroupFactory(name="Daily group", facilitator=clinician)


def _in_two_days():
    return timezone.localdate() + timedelta(days=2)


def test_no_session_is_generated_on_a_closed_day(daily, admin_user):
    closed = _in_two_days()
    services.closure_create(day=closed, reason="Thanksgiving Day", actor=admin_user)
    services.sessions_generate(weeks=1)
    dates = set(daily.sessions.values_list("date", flat=True))
    assert closed not in dates
    assert len(dates) == 6


def test_a_new_closure_cancels_the_days_sessions_with_its_reason(daily, admin_user):
    other = GroupFactory(name="Other group", facilitator=admin_user)
    services.sessions_generate(weeks=1)
    closed = _in_two_days()
    services.closure_create(day=closed, reason=" Snow storm ", actor=admin_user)
    cancelled = GroupSession.objects.filter(date=closed)
    assert {s.group for s in cancelled} == {daily, other}
    assert all(s.is_cancelled and s.cancel_reason == "Snow storm" for s in cancelled)
    assert GroupSession.objects.held().exclude(date=closed).count() == 12
    assert AuditEvent.objects.filter(action="session.cancel").count() == 2
    assert AuditEvent.objects.filter(action="closure.create").count() == 1


def test_a_closure_is_refused_whole_when_a_session_that_day_happened(daily, clinician, admin_user):
    other = GroupFactory(name="Other group", facilitator=admin_user)
    today = timezone.localdate()
    services.sessions_generate(weeks=1, today=today)
    session = daily.sessions.get(date=today)
    Attendance.objects.create(
        session=session,
        client=ClientFactory(),
        status="present",
        minutes=180,
        recorded_by=clinician,
    )
    with pytest.raises(ValidationError, match="Attendance was taken"):
        services.closure_create(day=today, reason="Power cut", actor=admin_user)
    assert not ClinicClosure.objects.exists()
    assert other.sessions.get(date=today).cancelled_at is None


@pytest.mark.parametrize(("reason", "message"), [("", "Say why"), ("Again", "already closed")])
def test_a_closure_needs_a_reason_and_a_day_not_yet_closed(admin_user, reason, message):
    day = _in_two_days()
    ClinicClosure.objects.create(date=day, reason="First", created_by=admin_user)
    with pytest.raises(ValidationError, match=message):
        services.closure_create(
            day=day if reason else day + timedelta(days=1), reason=reason, actor=admin_user
        )


def test_the_admin_adds_a_closure_through_the_service(daily, admin_user, client_as):
    services.sessions_generate(weeks=1)
    closed = _in_two_days()
    http = client_as(admin_user)
    url = reverse("admin:scheduling_clinicclosure_add")
    response = http.post(url, {"date": closed.isoformat(), "reason": "Staff training"})
    assert response.status_code == 302
    closure = ClinicClosure.objects.get(date=closed)
    assert closure.created_by == admin_user
    assert daily.sessions.get(date=closed).cancel_reason == "Staff training"
    again = http.post(url, {"date": closed.isoformat(), "reason": "Twice"})
    assert again.status_code == 200
    assert "already closed" in again.content.decode()
    far = http.post(url, {"date": "9999-12-31", "reason": "Far"})
    assert "too far ahead" in far.content.decode()
    assert ClinicClosure.objects.count() == 1


def test_federal_holidays_are_offered_and_accepted_one_by_one(admin_user, client_as):
    http = client_as(admin_user)
    url = reverse("admin:scheduling_clinicclosure_holidays")
    offered = federal_holidays(today=date(2026, 11, 24))
    assert (date(2026, 11, 26), "Thanksgiving Day") in offered
    assert (date(2026, 12, 25), "Christmas Day") in offered
    assert all(date(2026, 11, 24) <= day < date(2027, 11, 25) for day, _ in offered)
    page = http.get(url)
    assert page.status_code == 200
    day, name = federal_holidays()[0]
    response = http.post(url, {"day": day.isoformat(), "reason": "ignored: the name is used"})
    assert response.status_code == 302
    assert ClinicClosure.objects.get(date=day).reason == name
    assert f"Closed: {name}" in http.get(url).content.decode()
    # Only a coming federal holiday can be accepted from this page.
    not_offered = day + timedelta(days=1)
    http.post(url, {"day": not_offered.isoformat(), "reason": "x"})
    assert not ClinicClosure.objects.filter(date=not_offered).exists()


def test_only_admins_reach_the_federal_holiday_page(clinician, client_as):
    response = client_as(clinician).get(reverse("admin:scheduling_clinicclosure_holidays"))
    assert response.status_code == 302  # to the admin's sign-in: not staff


def test_the_demo_closes_thanksgiving_2026(admin_user):
    from scheduling.demo import _closures

    assert _closures(date(2026, 9, 28), date(2026, 12, 21), actor=admin_user) >= 1
    assert ClinicClosure.objects.get(date=date(2026, 11, 26)).reason == "Thanksgiving Day"
    GroupFactory(name="Thursday group", weekdays=[3])
    services.sessions_generate(weeks=2, today=date(2026, 11, 23))
    assert not GroupSession.objects.filter(date=date(2026, 11, 26)).exists()
    assert _closures(date(2026, 9, 28), date(2026, 12, 21), actor=admin_user) == 0  # idempotent

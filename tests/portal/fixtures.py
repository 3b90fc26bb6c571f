"""Fixtures of the portal tests, imported by tests/portal/conftest.py and the browser tests."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from iop.audit.services import AuditContext
from portal import services
from scheduling.models import Appointment, Attendance, local_datetime
from scheduling.services import enrollment_create
from tests.clients.factories import ClientFactory, EpisodeFactory
from tests.clock import TUESDAY, at
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

MONDAY = TUESDAY - timedelta(days=1)

LINK = re.compile(r"/my/sign-in/[A-Za-z0-9_-]+/")


def link_path(url: str) -> str:
    return LINK.search(url).group(0)


@pytest.fixture
def portal_client(db, intake_user):
    """A client with portal access."""
    client = ClientFactory(legal_first_name="Rosalind", legal_last_name="Vantongeren")
    services.account_enable(client=client, actor=intake_user)
    return client


@pytest.fixture
def other_portal_client(db, intake_user):
    client = ClientFactory(legal_first_name="Bartholomew", legal_last_name="Quennell")
    services.account_enable(client=client, actor=intake_user)
    return client


@pytest.fixture
def link_for(db):
    """A fresh one-time link path for a client (what portal_link prints)."""

    def make(client) -> str:
        return link_path(services.staff_link(client=client, audit=AuditContext.system("test")))

    return make


@pytest.fixture
def portal_as(client, link_for):
    """The Django test client signed in to the portal as ``who`` (by a real link)."""

    def sign_in(who):
        response = client.post(link_for(who))
        assert response.status_code == 302, response.content[:400]
        return client

    return sign_in


def printed_link(mrn: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("portal_link", mrn=mrn, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def week(time_machine, portal_client, intake_user, clinician):
    """Tuesday noon: the client attended Monday's evening group (3 h), has Wednesday's
    and Thursday's ahead, and a video appointment on Friday."""
    time_machine.move_to(at(TUESDAY, "12:00"), tick=True)
    EpisodeFactory(client=portal_client, admitted_on=MONDAY - timedelta(days=14))
    group = GroupFactory(name="Evening professionals", facilitator=clinician)
    enrollment_create(
        client=portal_client, group=group, start_on=MONDAY - timedelta(days=14), actor=intake_user
    )
    monday = GroupSessionFactory(group=group, date=MONDAY)
    Attendance.objects.create(
        session=monday, client=portal_client, status="present", minutes=180, recorded_by=clinician
    )
    for offset in (1, 2):
        GroupSessionFactory(group=group, date=TUESDAY + timedelta(days=offset))
    friday = local_datetime(TUESDAY + timedelta(days=3), at(TUESDAY, "10:00").time())
    Appointment.objects.create(
        client=portal_client,
        clinician=clinician,
        kind="individual",
        starts_at=friday,
        ends_at=friday + timedelta(minutes=50),
        booked_by=clinician,
        telehealth_url="https://video.example/room/abc",
    )
    return group

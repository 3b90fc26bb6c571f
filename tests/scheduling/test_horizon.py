"""Sessions are generated at least as far as any page promises (issue 20): the printed
schedule shows the weeks it says, across a year's end, whether or not the beat task has
run; the beat task's horizon rolls with the day. And the printout carries the clinic's
address and phone."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from iop import when
from scheduling import services, tasks
from scheduling.models import SCHEDULE_WEEKS, GroupSession
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import at
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db

# A Sunday eleven days before the year ends: six weeks reach into February.
LATE_DECEMBER = date(2026, 12, 20)


@pytest.fixture
def december(time_machine):
    time_machine.move_to(at(LATE_DECEMBER, "09:00"), tick=False)
    return LATE_DECEMBER


@pytest.fixture
def member(december, clinician, admin_user):
    group = GroupFactory(name="IOP 3 Midday", facilitator=clinician, weekdays=[0, 2, 4])
    client = ClientFactory(status="active", preferred_name="Ari")
    EpisodeFactory(client=client, admitted_on=december - timedelta(days=10))
    with_care_team(client, clinician)
    services.enrollment_create(client=client, group=group, start_on=december, actor=admin_user)
    return client


def _meeting_days(first, last):
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() in (0, 2, 4)
    ]


def test_the_printed_schedule_shows_every_week_it_says_across_the_year_end(
    december, member, clinician, client_as
):
    assert not GroupSession.objects.exists()  # the beat task has not run
    last = december + timedelta(weeks=SCHEDULE_WEEKS, days=-1)
    assert last == date(2027, 1, 30)
    url = reverse("scheduling:client_schedule", args=[member.public_id])
    html = client_as(clinician).get(url).content.decode()
    assert f"The next 6 weeks: {when.day(december)} to {when.day(last)}." in html
    days = _meeting_days(december, last)
    assert html.count("IOP 3 Midday") == len(days) == 18
    assert when.day(days[-1]) in html and when.day(date(2027, 1, 29)) in html
    # A second look generates nothing more.
    count = GroupSession.objects.count()
    client_as(clinician).get(url)
    assert GroupSession.objects.count() == count


def test_the_printout_carries_the_clinics_address_and_phone(member, clinician, client_as, settings):
    settings.IOP_REMINDER_PLACE = "12 Quay Lane, Suite 3"
    settings.IOP_REMINDER_PHONE = "(555) 010-7788"
    url = reverse("scheduling:client_schedule", args=[member.public_id])
    html = client_as(clinician).get(url).content.decode()
    contact = html[html.index('data-testid="clinic-contact"') : html.index("</address>")]
    assert "12 Quay Lane, Suite 3" in contact and "Phone (555) 010-7788" in contact
    # The program's name only for a client who agreed to be reminded with it.
    assert settings.IOP_PROGRAM_NAME not in contact
    member.reminder_may_name_program = True
    member.save()
    html = client_as(clinician).get(url).content.decode()
    assert settings.IOP_PROGRAM_NAME in html[html.index('data-testid="clinic-contact"') :]


def test_the_beat_task_keeps_sessions_past_the_printed_weeks_across_the_year_end(december, member):
    tasks.generate_sessions()
    furthest = GroupSession.objects.order_by("-date").values_list("date", flat=True).first()
    assert furthest >= december + timedelta(weeks=SCHEDULE_WEEKS)
    assert furthest.year == 2027
    assert services.SESSIONS_AHEAD_WEEKS > SCHEDULE_WEEKS


def test_a_schedule_already_generated_costs_two_queries(
    december, member, django_assert_num_queries
):
    last = december + timedelta(weeks=SCHEDULE_WEEKS, days=-1)
    assert services.sessions_generate_through(last, today=december) == 18
    # the closures in the range, the active groups with their last session
    with django_assert_num_queries(2):
        assert services.sessions_generate_through(last, today=december) == 0

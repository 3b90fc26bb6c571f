"""The intake journey's steps (clients.intake): each prospect shows, on the intake
coordinator's dashboard and as a task, the step it waits for (consent, admission, care
team, placement on a track); taking the step moves it on, the last one takes it off.
Lists ask clients.access: a coordinator sees only the prospects they reach."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import ClientStatus
from iop.notifications.models import OutboxMessage
from iop.notifications.services import reminders_schedule
from scheduling.services import enrollment_create
from tests.clients.factories import ClientFactory, ConsentFactory, EpisodeFactory, with_care_team
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db

TASKS = "/notifications/tasks/"


def _register(intake_user, **fields):
    return services.client_register(
        actor=intake_user,
        legal_first_name=fields.get("first", "Morgan"),
        legal_last_name=fields.get("last", "Ashdown"),
        date_of_birth=date(1979, 6, 15),
        profession="physician",
    )


def _steps(html):
    import re

    return re.findall(r'data-testid="intake-step" data-step="([a-z_]+)"', html)


def _intake_tasks(**filters):
    return OutboxMessage.objects.open_tasks().filter(refs__kind="clients.intake_step", **filters)


def test_each_step_shows_on_the_dashboard_and_as_a_task_until_the_client_is_placed(
    intake_user, clinician, admin_user, client_as
):
    client = _register(intake_user)
    web = client_as(intake_user)

    def step_now():
        reminders_schedule()
        html = web.get(reverse("dashboard")).content.decode()
        tasks = list(_intake_tasks())
        assert all(t.staff == intake_user for t in tasks)
        return _steps(html), [t.idempotency_key.split(":")[-1] for t in tasks]

    assert step_now() == (["consent"], ["consent"])
    task = _intake_tasks().get()
    assert task.refs["url"] == reverse("clients:consent_add", args=[client.public_id])
    assert client.legal_last_name not in task.body and client.mrn not in task.body
    # The coordinator's task list names the prospect (the chart is theirs to open).
    tasks_page = web.get(TASKS).content.decode()
    assert client.mrn in tasks_page and 'data-kind="clients.intake_step"' in tasks_page
    assert "Mark done" not in tasks_page  # it closes itself when the step is taken

    ConsentFactory(client=client, recorded_by=intake_user)
    assert step_now() == (["admission"], ["admission"])
    services.episode_admit(
        client=client, actor=intake_user, admitted_on=timezone.localdate(),
        asam_level="2.1", dimension_ratings={str(n): 1 for n in range(1, 7)},
    )  # fmt: skip
    assert step_now() == (["care_team"], ["care_team"])
    with_care_team(client, clinician, actor=intake_user)
    assert step_now() == (["placement"], ["placement"])
    assert _intake_tasks().get().refs["url"] == reverse(
        "scheduling:enroll", args=[client.public_id]
    )
    # Only the intake coordinator gets it, not the primary clinician who also manages.
    assert not _intake_tasks(staff=clinician).exists()
    enrollment_create(
        client=client, group=GroupFactory(facilitator=clinician),
        start_on=timezone.localdate(), actor=intake_user,
    )  # fmt: skip
    assert step_now() == ([], [])
    assert "Nobody waiting." in web.get(reverse("dashboard")).content.decode()


def test_a_coordinator_sees_only_the_prospects_they_reach(intake_user, client_as):
    mine = _register(intake_user)
    colleague = UserFactory(username="ivan", roles=["intake"])
    theirs = _register(colleague, first="Quinn", last="Vexley")
    reminders_schedule()
    html = client_as(intake_user).get(reverse("dashboard")).content.decode()
    assert mine.mrn in html and theirs.mrn not in html
    assert {t.staff for t in _intake_tasks()} == {intake_user, colleague}
    # The colleague leaves the prospect's team: their task closes with the reason.
    member = theirs.care_team.get(staff=colleague)
    services.care_team_end(member=member, actor=colleague, ended_on=timezone.localdate())
    reminders_schedule()
    assert {t.staff for t in _intake_tasks()} == {intake_user}


def test_discharged_and_placed_clients_wait_for_nothing(intake_user, clinician, client_as):
    discharged = EpisodeFactory(discharged_on=timezone.localdate() - timedelta(days=2)).client
    with_care_team(discharged, intake_user, role="intake")
    assert discharged.status == ClientStatus.DISCHARGED
    reminders_schedule()
    assert not _intake_tasks().exists()
    assert "Nobody waiting." in client_as(intake_user).get(reverse("dashboard")).content.decode()


def test_the_intake_dashboard_keeps_its_query_count(
    intake_user, client_as, django_assert_max_num_queries, read_audit_queries
):
    web = client_as(intake_user)
    _register(intake_user)
    web.get(reverse("dashboard"))
    # session, user with roles, OTP device (3); the prospects with every step's state (1);
    # the read audit of the clients shown.
    with django_assert_max_num_queries(4 + read_audit_queries) as few:
        assert web.get(reverse("dashboard")).status_code == 200
    for n in range(6):
        client = ClientFactory(legal_last_name=f"Waiting{n}")
        with_care_team(client, intake_user, role="intake")
        if n % 2:
            ConsentFactory(client=client)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = web.get(reverse("dashboard")).content.decode()
    assert len(_steps(html)) == 7

"""The intake journey's steps (clients.intake): each prospect shows, on the intake
coordinator's dashboard and as a task, the step it waits for (consent, admission, care
team, placement on a track); taking the step moves it on, the last one takes it off.
Lists ask clients.access: a coordinator sees only the prospects they reach."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services.coverage import self_pay_record
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

    # Issue 22: coverage comes first (a coverage, or "no insurance").
    assert step_now() == (["coverage"], ["coverage"])
    assert _intake_tasks().get().refs["url"] == reverse(
        "billing:intake_coverage", args=[client.public_id]
    )
    self_pay_record(client=client, actor=intake_user)
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


# --- Each step's page (issue 20): the indicator, the next step, the words on the forms ----


def _indicator(html):
    """(current step, steps marked done) from a page's intake indicator, or None."""
    import re

    if 'data-testid="intake-progress"' not in html:
        return None
    start = html.index('data-testid="intake-progress"')
    nav = html[start : html.index("</nav>", start)]
    items = re.findall(r'<li [^>]*data-step="([a-z_]+)"([^>]*)>(.*?)</li>', nav, re.S)
    current = [key for key, attrs, _ in items if 'aria-current="step"' in attrs]
    done = [key for key, _, text in items if "(done)" in text]
    assert [key for key, _, _ in items] == [
        "register",
        "coverage",
        "consent",
        "admission",
        "care_team",
        "placement",
    ]
    return current[0], done


def test_every_step_page_shows_where_the_client_stands(intake_user, clinician, client_as):
    web = client_as(intake_user)
    page = web.get(reverse("clients:register")).content.decode()
    assert _indicator(page) == ("register", [])
    assert "Intake, step 1 of 6: registration" in page

    client = _register(intake_user)
    ids = [client.public_id]
    page = web.get(reverse("clients:consent_add", args=ids)).content.decode()
    assert _indicator(page) == ("consent", ["register"])
    assert "Intake, step 3 of 6: consent" in page
    consent = ConsentFactory(client=client, recorded_by=intake_user)
    page = web.get(reverse("clients:consent_detail", args=[*ids, consent.public_id]))
    assert _indicator(page.content.decode()) == ("consent", ["register", "consent"])

    page = web.get(reverse("clients:admit", args=ids)).content.decode()
    assert _indicator(page) == ("admission", ["register", "consent"])
    services.episode_admit(
        client=client, actor=intake_user, admitted_on=timezone.localdate(),
        asam_level="2.1", dimension_ratings={f"d{n}": 1 for n in range(1, 7)},
    )  # fmt: skip
    page = web.get(reverse("clients:care_team", args=ids)).content.decode()
    assert _indicator(page) == ("care_team", ["register", "consent", "admission"])
    with_care_team(client, clinician, actor=intake_user)
    page = web.get(reverse("scheduling:enroll", args=ids)).content.decode()
    assert _indicator(page) == ("placement", ["register", "consent", "admission", "care_team"])
    assert "Intake, step 6 of 6: placement on a track" in page
    page = web.get(reverse("billing:intake_coverage", args=ids)).content.decode()
    assert _indicator(page) == (
        "coverage",
        ["register", "consent", "admission", "care_team"],
    )
    assert "Intake, step 2 of 6: coverage" in page
    self_pay_record(client=client, actor=intake_user)

    # Placed: every step taken, a later consent or care-team change is no intake.
    enrollment_create(
        client=client, group=GroupFactory(facilitator=clinician),
        start_on=timezone.localdate(), actor=intake_user,
    )  # fmt: skip
    for name in ("clients:consent_add", "clients:care_team"):
        assert _indicator(web.get(reverse(name, args=ids)).content.decode()) is None


def test_next_from_the_care_team_is_the_placement_form(intake_user, clinician, client_as):
    client = EpisodeFactory(client=_register(intake_user)).client
    ConsentFactory(client=client)
    with_care_team(client, clinician, actor=intake_user)
    web = client_as(intake_user)
    page = web.get(reverse("clients:care_team", args=[client.public_id])).content.decode()
    placement = reverse("scheduling:enroll", args=[client.public_id])
    assert f'href="{placement}" data-testid="next-step">Next: place on a track and slot</a>' in page
    assert web.get(placement).status_code == 200  # the coordinator may open it


def test_the_care_team_choice_shows_each_persons_role(
    intake_user, clinician, medical_user, supervisor, admin_user, client_as
):
    client = EpisodeFactory(client=_register(intake_user)).client
    page = client_as(intake_user).get(reverse("clients:care_team", args=[client.public_id]))
    html = page.content.decode()
    choices = html[html.index('name="staff"') : html.index("</select>", html.index('name="staff"'))]
    assert f">{clinician} (Clinician)</option>" in choices
    assert f">{medical_user} (Medical staff)</option>" in choices
    assert f">{supervisor} (Clinical supervisor)</option>" in choices
    assert f">{intake_user} (Intake coordinator)</option>" in choices
    assert str(admin_user) not in choices


def test_each_asam_note_is_labelled_with_its_dimension(intake_user, client_as):
    client = _register(intake_user)
    html = client_as(intake_user).get(reverse("clients:admit", args=[client.public_id]))
    html = html.content.decode()
    for n, name in [
        (1, "acute intoxication and/or withdrawal potential"),
        (2, "biomedical conditions and complications"),
        (3, "emotional, behavioral, or cognitive conditions and complications"),
        (4, "readiness to change"),
        (5, "relapse, continued use, or continued problem potential"),
        (6, "recovery/living environment"),
    ]:
        assert f'for="id_d{n}_note"' in html
        label = html[html.index(f'for="id_d{n}_note"') :]
        label = " ".join(label[label.index(">") + 1 : label.index("</label>")].split())
        assert label == f"Dimension {n} note: {name}"
    assert ">Note<" not in html.replace(" ", "").replace("\n", "")

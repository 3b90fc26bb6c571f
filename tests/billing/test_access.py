"""The billing role (issue 22): Purpose.BILLING through the client's episode, never the
chart, a note, a screen or a measure; out of reach a year after discharge."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.access import Purpose, clients_for, holders
from clients.models import Episode
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, EpisodeFactory
from tests.clients.test_access_urls import POST_ONLY, ROUTES, _is_billing, _url
from tests.clients.test_access_urls import chart as chart  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("clients:chart", "client_id"),
        ("notes:appointment_note", "appointment_id"),
        ("notes:client_notes", "client_id"),
        ("screening:urine_detail", "screen_id"),
        ("meds:measure_detail", "measure_id"),
        ("plans:treatment_version", "plan_version_id"),
    ],
)
def test_billing_opening_a_chart_note_screen_or_measure_gets_404_audited(
    name, key, chart, client_as, billing_user
):
    url = reverse(name, kwargs={key: chart[key]})
    response = client_as(billing_user).get(url)
    assert response.status_code == 404
    assert "Quillmarsh" not in response.content.decode()
    denied = AuditEvent.objects.filter(actor=billing_user, outcome="denied")
    assert denied.count() == 1
    assert denied.get().action.startswith("access.")


def test_billing_opens_the_billing_page_and_it_is_audited_as_billing(
    chart, client_as, billing_user
):
    response = client_as(billing_user).get(reverse("billing:client", args=[chart["client_id"]]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quillmarsh" in html and "F10.20" in html and "Walk Health" in html
    # No clinical content: no substances, no note, no screen.
    for word in ("Substances", "Progress note", "Urine", "PHQ"):
        assert word not in html
    event = AuditEvent.objects.get(actor=billing_user, action="access.billing")
    assert event.outcome == "allowed"


def _out_of_reach(client, days_ago):
    today = timezone.localdate()
    Episode.objects.filter(client=client).update(
        admitted_on=today - timedelta(days=days_ago + 60),
        discharged_on=today - timedelta(days=days_ago),
    )


BILLING_ROUTES = [r for r in ROUTES if _is_billing(r[2])]


@pytest.mark.parametrize(
    ("name", "kwargs", "callback"), BILLING_ROUTES, ids=[r[0] for r in BILLING_ROUTES]
)
def test_billing_out_of_reach_gets_404_on_every_billing_page(
    name, kwargs, callback, chart, client_as, billing_user, settings
):
    """Discharged longer ago than IOP_BILLING_REACH_DAYS: billing's reason has ended."""
    from clients.models import Client

    client = Client.objects.get(public_id=chart["client_id"])
    _out_of_reach(client, settings.IOP_BILLING_REACH_DAYS + 1)
    web = client_as(billing_user)
    url = _url(name, kwargs, chart)
    attempts = [web.post(url, {"member_id": "x"})]
    if name not in POST_ONLY:
        attempts.append(web.get(url))
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    denied = AuditEvent.objects.filter(actor=billing_user, outcome="denied").count()
    assert denied == len(attempts)


def test_reach_is_an_open_episode_or_one_discharged_within_the_reach(billing_user, settings):
    settings.IOP_BILLING_REACH_DAYS = 365
    today = timezone.localdate()
    open_ = EpisodeFactory().client
    recent = EpisodeFactory(
        admitted_on=today - timedelta(days=200), discharged_on=today - timedelta(days=100)
    ).client
    edge = EpisodeFactory(
        admitted_on=today - timedelta(days=400), discharged_on=today - timedelta(days=365)
    ).client
    old = EpisodeFactory(
        admitted_on=today - timedelta(days=500), discharged_on=today - timedelta(days=366)
    ).client
    prospect = ClientFactory()
    reached = set(clients_for(billing_user, Purpose.BILLING))
    assert reached == {open_, recent, edge}
    assert not set(clients_for(billing_user, Purpose.CHART))
    # holders (whom a task goes to) agrees, client by client.
    held = holders([c.pk for c in (open_, recent, edge, old, prospect)], Purpose.BILLING)
    assert {pk for pk, staff in held.items() if billing_user.pk in staff} == {
        open_.pk,
        recent.pk,
        edge.pk,
    }
    assert held[open_.pk][billing_user.pk] == "billing"


def test_clinical_roles_do_not_hold_billing(chart, clinician, intake_user, supervisor):
    for user in (clinician, intake_user, supervisor):
        assert not clients_for(user, Purpose.BILLING).exists()


def test_the_billing_menu_is_the_billing_roles(client_as, billing_user, clinician):
    html = client_as(billing_user).get(reverse("dashboard")).content.decode()
    assert reverse("billing:clients") in html
    clients_page = client_as(billing_user).get(reverse("billing:clients")).content.decode()
    assert reverse("billing:payers") in clients_page
    assert f'href="{reverse("clients:list")}"' not in html
    assert client_as(clinician).get(reverse("billing:clients")).status_code == 403
    assert client_as(clinician).get(reverse("billing:payers")).status_code == 403


def test_the_billing_client_list_shows_only_clients_in_reach(
    chart, client_as, billing_user, django_assert_max_num_queries
):
    today = date.today()
    for n in range(6):
        EpisodeFactory(admitted_on=today - timedelta(days=n))
    old = EpisodeFactory(
        admitted_on=today - timedelta(days=900), discharged_on=today - timedelta(days=800)
    ).client
    web = client_as(billing_user)
    web.get(reverse("billing:clients"))
    with django_assert_max_num_queries(14):
        html = web.get(reverse("billing:clients")).content.decode()
    assert "Quillmarsh" in html
    assert old.mrn not in html


def test_staff_for_billing_is_the_billing_role_in_reach(billing_user, clinician, admin_user):
    from clients.access import staff_for

    today = timezone.localdate()
    open_ = EpisodeFactory().client
    old = EpisodeFactory(
        admitted_on=today - timedelta(days=900), discharged_on=today - timedelta(days=800)
    ).client
    assert set(staff_for(open_, Purpose.BILLING)) == {billing_user, admin_user}
    assert set(staff_for(old, Purpose.BILLING)) == {admin_user}

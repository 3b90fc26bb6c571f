"""Who may see a client: the scoping queryset, break-the-glass, and the permission rebuild."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.access import Purpose, client_access, clients_for
from clients.models import ClientUserObjectPermission, EmergencyAccess
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.iop.factories import UserFactory

pytestmark = pytest.mark.django_db

REASON = "Client collapsed in the lobby; paramedics ask about substances and medications."


def _visible(user):
    return set(clients_for(user))


@pytest.fixture
def alices_client(clinician):
    client = EpisodeFactory().client
    with_care_team(client, clinician)
    return client


@pytest.fixture
def bobs_client(other_clinician):
    client = EpisodeFactory().client
    with_care_team(client, other_clinician)
    return client


# --- clients_for (the list scope), one test per role ------------------------------------------


def test_care_team_member_sees_their_clients_and_no_others(clinician, alices_client, bobs_client):
    assert _visible(clinician) == {alices_client}


def test_stranger_sees_nothing_of_another_caseload(other_clinician, alices_client):
    assert alices_client not in _visible(other_clinician)
    assert not client_access(other_clinician, alices_client, Purpose.CHART).allowed


def test_supervisor_sees_the_supervisees_clients(supervisor, alices_client, bobs_client):
    assert _visible(supervisor) == {alices_client}
    assert client_access(supervisor, alices_client, Purpose.CLINICAL).allowed
    # A supervisor reads through the supervisee; edits need a reason of their own.
    assert not client_access(supervisor, alices_client, Purpose.EDIT).allowed


def test_supervisor_does_not_see_clients_a_supervisee_only_facilitates(
    supervisor, clinician, client_as
):
    """Facilitating a group is not being on the care team: the supervisor has no reason
    to open that chart, so the list must not offer it."""
    client = EpisodeFactory().client
    with_care_team(client, clinician, "facilitator")

    assert client in set(clients_for(clinician, Purpose.ATTENDANCE))
    assert client not in _visible(supervisor)
    response = client_as(supervisor).get(reverse("clients:chart", args=[client.public_id]))
    assert response.status_code == 404


def test_admin_sees_every_client(admin_user, alices_client, bobs_client):
    nobodys = ClientFactory()
    assert _visible(admin_user) == {alices_client, bobs_client, nobodys}


def test_intake_sees_the_clients_they_registered(intake_user, admin_user):
    theirs = services.client_register(
        actor=intake_user,
        legal_first_name="Sam",
        legal_last_name="Okafor",
        date_of_birth=timezone.localdate() - timedelta(days=365 * 40),
        profession="pilot",
    )
    ClientFactory()  # registered by someone else

    assert _visible(intake_user) == {theirs}


def test_facilitator_takes_attendance_but_the_client_list_offers_no_chart(
    other_clinician, client_as
):
    """A facilitator's reason is attendance only: the list must not show a chart link
    that answers 404 (issue 8)."""
    client = EpisodeFactory().client
    with_care_team(client, other_clinician, "facilitator")
    assert set(clients_for(other_clinician, Purpose.ATTENDANCE)) == {client}
    assert _visible(other_clinician) == set()
    page = client_as(other_clinician).get(reverse("clients:list")).content.decode()
    assert client.mrn not in page


def test_ended_membership_and_deactivated_account_see_nothing(clinician, admin_user):
    client = ClientFactory()
    member = with_care_team(client, clinician)
    services.care_team_end(member=member, actor=admin_user)
    assert _visible(clinician) == set()

    with_care_team(client, clinician)
    clinician.is_active = False
    assert _visible(clinician) == set()


# --- Break the glass ---------------------------------------------------------------------


def _break_the_glass(web, client, reason=REASON):
    return web.post(reverse("clients:emergency_access"), {"mrn": client.mrn, "reason": reason})


def test_emergency_access_opens_the_chart_for_60_minutes(other_clinician, alices_client, client_as):
    web = client_as(other_clinician)
    chart_url = reverse("clients:chart", args=[alices_client.public_id])
    assert web.get(chart_url).status_code == 404

    response = _break_the_glass(web, alices_client)

    assert response.status_code == 302
    assert response.url == chart_url
    access = EmergencyAccess.objects.get()
    assert (access.staff, access.client, access.reason) == (other_clinician, alices_client, REASON)
    assert access.expires_at - access.started_at == timedelta(minutes=60)
    chart = web.get(chart_url)
    assert chart.status_code == 200
    assert "You are here through emergency access" in chart.content.decode()
    # Emergency opens the record, not the right to change it.
    assert web.get(reverse("clients:edit", args=[alices_client.public_id])).status_code == 404

    access.expires_at = timezone.now() - timedelta(seconds=1)
    access.save(update_fields=["expires_at"])
    assert web.get(chart_url).status_code == 404


def test_emergency_access_is_audited(other_clinician, alices_client, client_as):
    _break_the_glass(client_as(other_clinician), alices_client)

    event = AuditEvent.objects.get(action="client.emergency_access")
    assert event.outcome == "allowed"
    assert event.actor == other_clinician
    assert event.client_id == alices_client.public_id
    # The reason is free text about the client: it stays out of the audit detail.
    assert "paramedics" not in event.detail


def test_emergency_access_needs_a_real_reason(other_clinician, alices_client, client_as):
    web = client_as(other_clinician)
    response = _break_the_glass(web, alices_client, reason="  need it   ")

    assert response.status_code == 400
    assert "Emergency access was not opened" in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    assert web.get(reverse("clients:chart", args=[alices_client.public_id])).status_code == 404


def test_emergency_access_to_an_unknown_mrn_is_refused_and_audited(other_clinician, client_as):
    response = client_as(other_clinician).post(
        reverse("clients:emergency_access"), {"mrn": "0000000", "reason": REASON}
    )
    assert response.status_code == 400
    assert "Emergency access was not opened" in response.content.decode()
    event = AuditEvent.objects.get(action="client.emergency_access")
    assert (event.outcome, event.actor) == ("denied", other_clinician)


def test_admin_reviews_emergency_access_until_marked_reviewed(
    other_clinician, admin_user, alices_client, client_as
):
    _break_the_glass(client_as(other_clinician), alices_client)
    access = EmergencyAccess.objects.get()
    web = client_as(admin_user)

    review = web.get(reverse("clients:emergency_review"))
    assert review.status_code == 200
    assert list(review.context["pending"]) == [access]
    assert alices_client.mrn in review.content.decode()

    response = web.post(
        reverse("clients:emergency_review_mark", args=[access.public_id]),
        {"note": "Confirmed with the ED report."},
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert (access.reviewed_by, access.review_note) == (admin_user, "Confirmed with the ED report.")
    review = web.get(reverse("clients:emergency_review"))
    assert list(review.context["pending"]) == []
    assert list(review.context["reviewed"]) == [access]
    assert AuditEvent.objects.filter(action="client.emergency_review").count() == 1


@pytest.mark.parametrize("role", ["clinician", "supervisor", "intake", "medical"])
def test_only_admins_may_review_emergency_access(role, other_clinician, alices_client, client_as):
    _break_the_glass(client_as(other_clinician), alices_client)
    access = EmergencyAccess.objects.get()
    web = client_as(UserFactory(roles=[role]))

    assert web.get(reverse("clients:emergency_review")).status_code == 403
    response = web.post(reverse("clients:emergency_review_mark", args=[access.public_id]))
    # Reviewing is about one client's record: the one access path answers 404, audited.
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="access.review", outcome="denied", client_id=alices_client.public_id
    ).exists()
    access.refresh_from_db()
    assert access.reviewed_at is None


# --- rebuild_client_permissions --------------------------------------------------------------


def _rows():
    return set(
        ClientUserObjectPermission.objects.values_list(
            "content_object_id", "user__username", "permission__codename"
        )
    )


def _run(*args):
    out = StringIO()
    call_command("rebuild_client_permissions", *args, stdout=out)
    return out.getvalue()


def test_rebuild_restores_the_permissions_the_care_team_grants(
    clinician, other_clinician, alices_client
):
    expected = _rows()
    ClientUserObjectPermission.objects.filter(
        user=clinician, permission__codename="view_client"
    ).delete()
    ClientUserObjectPermission.objects.create(
        content_object=alices_client,
        user=other_clinician,
        permission=Permission.objects.get(
            codename="view_client", content_type__app_label="clients"
        ),
    )
    tampered = _rows()

    report = _run("--dry-run")
    assert f"client #{alices_client.pk}: +1 granted, -1 revoked" in report
    assert "1 clients would change: 1 permissions granted, 1 revoked." in report
    assert _rows() == tampered

    report = _run()
    assert "1 clients changed: 1 permissions granted, 1 revoked." in report
    assert _rows() == expected
    assert client_access(clinician, alices_client, Purpose.CLINICAL).allowed
    assert not client_access(other_clinician, alices_client, Purpose.CHART).allowed

    assert "0 clients changed" in _run()


def test_rebuild_removes_a_permission_no_care_team_role_grants(other_clinician, alices_client):
    expected = _rows()
    ClientUserObjectPermission.objects.create(
        content_object=alices_client,
        user=other_clinician,
        permission=Permission.objects.get(
            codename="delete_client", content_type__app_label="clients"
        ),
    )

    assert "1 clients changed: 0 permissions granted, 1 revoked." in _run()
    assert _rows() == expected

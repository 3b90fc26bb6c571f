"""A request builds each client scope once (clients.access.RequestScopeMiddleware):
the same clients as building it afresh, grants changed during the request still
count, and nothing is kept outside a request."""

from unittest import mock

import pytest
from django.urls import reverse

from clients import access
from clients.access import Purpose, clients_for
from tests.clients.factories import ClientFactory, with_care_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_a_request():
    token = access._request_scopes.set({})
    yield
    access._request_scopes.reset(token)


def _spy():
    return mock.patch.object(access, "_grant_sources", wraps=access._grant_sources)


def test_a_kept_scope_still_sees_a_care_team_added_later_in_the_request(
    in_a_request, clinician, admin_user
):
    mine = ClientFactory()
    with_care_team(mine, clinician, actor=admin_user)
    with _spy() as built:
        assert list(clients_for(clinician, Purpose.CLINICAL)) == [mine]
        added = ClientFactory()
        with_care_team(added, clinician, actor=admin_user)
        assert set(clients_for(clinician, Purpose.CLINICAL)) == {mine, added}
    assert built.call_count == 1


def test_each_purpose_and_person_has_its_own_scope(in_a_request, clinician, intake_user):
    client = ClientFactory()
    with_care_team(client, intake_user, role="intake")
    assert list(clients_for(intake_user, Purpose.CHART)) == [client]
    assert list(clients_for(intake_user, Purpose.CLINICAL)) == []
    assert list(clients_for(clinician, Purpose.CHART)) == []


def test_outside_a_request_every_call_builds_the_scope(clinician):
    with _spy() as built:
        clients_for(clinician, Purpose.CHART)
        clients_for(clinician, Purpose.CHART)
    assert built.call_count == 2


def test_the_dashboard_builds_each_scope_once(client_as, clinician, admin_user):
    with_care_team(ClientFactory(), clinician, actor=admin_user)
    http = client_as(clinician)
    http.get(reverse("dashboard"))
    with _spy() as built:
        assert http.get(reverse("dashboard")).status_code == 200
    purposes = {call.args[0].pk for call in built.call_args_list}
    assert purposes == {clinician.pk}
    # One build per purpose the dashboard lists by (chart, clinical, clinical write; it
    # built six before), and the safety flags' own grants, each flag's access in the
    # flags' query (with_access: the acknowledge form is the care team's).
    assert built.call_count <= 4, built.call_count

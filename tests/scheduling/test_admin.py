"""The admin's group page moves facilitators through ``group_facilitators_set``, the
service every path shares (issue 8: the rule lived in the admin class)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients.access import Purpose, client_access
from iop.audit.models import AuditEvent
from scheduling import services
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db


def _members(group, clinician, admin_user, n=2):
    clients = []
    for _ in range(n):
        client = ClientFactory(status="active")
        EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=10))
        with_care_team(client, UserFactory(roles=["clinician"]), actor=admin_user)
        services.enrollment_create(
            client=client, group=group, start_on=timezone.localdate(), actor=admin_user
        )
        clients.append(client)
    return clients


def test_group_facilitators_set_moves_attendance_access(clinician, other_clinician, admin_user):
    group = GroupFactory(facilitator=clinician)
    clients = _members(group, clinician, admin_user)
    assert all(client_access(clinician, c, Purpose.ATTENDANCE).allowed for c in clients)
    services.group_facilitators_set(group=group, facilitators=[other_clinician], actor=admin_user)
    assert list(group.facilitators.all()) == [other_clinician]
    for client in clients:
        assert client_access(other_clinician, client, Purpose.ATTENDANCE).allowed
        assert not client_access(clinician, client, Purpose.ATTENDANCE).allowed
    assert AuditEvent.objects.filter(action="group.facilitators_set").count() == 1


def test_group_facilitators_set_refuses_a_facilitator_busy_elsewhere(
    clinician, other_clinician, admin_user
):
    GroupFactory(name="Busy group", facilitator=other_clinician)
    group = GroupFactory(facilitator=clinician)
    with pytest.raises(ValidationError, match="already facilitates Busy group"):
        services.group_facilitators_set(
            group=group, facilitators=[other_clinician], actor=admin_user
        )
    assert list(group.facilitators.all()) == [clinician]


def test_the_admin_changes_facilitators_through_the_service(
    clinician, other_clinician, admin_user, client_as
):
    group = GroupFactory(facilitator=clinician)
    (client,) = _members(group, clinician, admin_user, n=1)
    data = {
        "name": group.name,
        "track": group.track.pk,
        "slot": group.slot.pk,
        "weekdays": [str(d) for d in group.weekdays],
        "room": group.room.pk,
        "facilitators": [other_clinician.pk],
        "capacity": group.capacity,
        "active": "on",
    }
    response = client_as(admin_user).post(
        reverse("admin:scheduling_group_change", args=[group.pk]), data
    )
    assert response.status_code == 302
    assert client_access(other_clinician, client, Purpose.ATTENDANCE).allowed
    assert not client_access(clinician, client, Purpose.ATTENDANCE).allowed
    event = AuditEvent.objects.get(action="group.facilitators_set")
    assert event.actor == admin_user

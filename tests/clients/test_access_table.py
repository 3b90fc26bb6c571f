"""The role × purpose table: for each cell the page check, the list scope and the
chart's sections agree, because all three ask clients/access.py.

Mutations this table catches (issue 8): giving facilitators EDIT, or letting a
supervisor read through any supervisee grant instead of the chart permission.
SUPERVISION (issue 18): the facilitator wrote a group note with the client's section,
waiting for co-signature; their supervisor reads that section through SUPERVISION and
through nothing else (no chart), the primary's supervisor, with no such note, does not.
"""

from datetime import timedelta

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.access import Purpose, client_access, clients_for, get_client_for_user
from clients.models import EmergencyAccess
from clinical.notes.models import CosignStatus
from iop.audit.models import AuditEvent
from scheduling import services as scheduling
from tests.clients.factories import EpisodeFactory, with_care_team
from tests.clinical.notes_factories import signed_group_note
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory, ended_session

pytestmark = pytest.mark.django_db

C, K, E, M, A, S, B = (
    Purpose.CHART,
    Purpose.CLINICAL,
    Purpose.EDIT,
    Purpose.MANAGE,
    Purpose.ATTENDANCE,
    Purpose.SUPERVISION,
    Purpose.BILLING,
)
PURPOSES = (C, K, E, M, A, S, B)

# Who holds which purpose on the client (the table the tests assert).
TABLE = {
    "intake": {C, E, M},
    "primary clinician": {C, K, E, M, A},
    "clinician not on the team": set(),
    "facilitator only": {A},
    "prescriber": {C, K, E, A},
    "supervisor of the primary": {C, K},
    # The facilitator's group note with the client's section waits for co-signature.
    "supervisor of a facilitator only": {S},
    "supervisor of nobody there": set(),
    "break the glass": {C, K},
    # Issue 22: billing, through the client's open episode (or one discharged within
    # IOP_BILLING_REACH_DAYS), and nothing else: never the chart or clinical content.
    "billing specialist": {B},
    "admin": {C, K, E, M, A, S, B},
}


@pytest.fixture
def people(db):
    registrar = UserFactory(username="reg", roles=["intake"])
    primary = UserFactory(username="prim", roles=["clinician"])
    facilitator = UserFactory(username="facil", roles=["clinician"])
    sup_primary = UserFactory(username="sup1", roles=["supervisor"])
    sup_facil = UserFactory(username="sup2", roles=["supervisor"])
    primary.clinical_supervisor = sup_primary
    primary.save()
    facilitator.clinical_supervisor = sup_facil
    facilitator.requires_cosign = True
    facilitator.save()
    client = EpisodeFactory().client
    with_care_team(client, registrar, "intake", actor=registrar)
    with_care_team(client, primary, "primary", actor=registrar)
    with_care_team(client, facilitator, "facilitator", actor=registrar)
    # The facilitator's group note, the client's section in it, waiting for sup2.
    group = GroupFactory(facilitator=facilitator)
    scheduling.enrollment_create(
        client=client,
        group=group,
        start_on=timezone.localdate() - timedelta(days=1),
        actor=registrar,
    )
    session = ended_session(group)  # over: its note may be signed
    scheduling.attendance_record(
        session=session, client=client, status="present", minutes=None, actor=facilitator
    )
    note = signed_group_note(session, [client], facilitator)
    assert note.cosign_status == CosignStatus.PENDING
    prescriber = UserFactory(username="presc", roles=["medical"])
    with_care_team(client, prescriber, "prescriber", actor=registrar)
    glass = UserFactory(username="glass", roles=["clinician"])
    EmergencyAccess.objects.create(
        client=client,
        staff=glass,
        reason="Collapsed in the lobby, paramedics ask",
        expires_at=timezone.now() + timedelta(minutes=60),
    )
    return client, {
        "intake": registrar,
        "primary clinician": primary,
        "clinician not on the team": UserFactory(username="strange", roles=["clinician"]),
        "facilitator only": facilitator,
        "prescriber": prescriber,
        "supervisor of the primary": sup_primary,
        "supervisor of a facilitator only": sup_facil,
        "supervisor of nobody there": UserFactory(username="sup3", roles=["supervisor"]),
        "break the glass": glass,
        "billing specialist": UserFactory(username="bill", roles=["billing"]),
        "admin": UserFactory(username="adm", roles=["admin"]),
    }


def _page_check(user, client, purpose) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    try:
        get_client_for_user(request, client.public_id, purpose=purpose)
    except Http404:
        return False
    return True


@pytest.mark.parametrize("who", list(TABLE))
def test_page_check_list_scope_and_chart_sections_agree(who, people, client_as):
    client, staff = people
    user = staff[who]
    expected = TABLE[who]
    for purpose in PURPOSES:
        held = purpose in expected
        assert client_access(user, client, purpose).allowed is held, (who, purpose)
        assert (client in clients_for(user, purpose)) is held, (who, purpose)
        assert _page_check(user, client, purpose) is held, (who, purpose)
    response = client_as(user).get(reverse("clients:chart", args=[client.public_id]))
    if C in expected:
        assert response.status_code == 200
        assert set(response.context["purposes"]) & set(PURPOSES) == expected
        html = response.content.decode()
        # The chart's clinical fields show exactly to CLINICAL.
        assert ("Substances" in html) is (K in expected)
        # Write buttons show exactly to those whose pages would answer 200.
        assert ("Edit details" in html) is (E in expected)
        assert ("Care team</a>" in html) is (M in expected)
    else:
        assert response.status_code == 404
        # Nothing lists a client whose chart answers 404.
        listing = client_as(user).get(reverse("clients:list")).content.decode()
        assert client.mrn not in listing


def test_every_page_check_is_audited_as_an_access_with_its_purpose(people):
    client, staff = people
    _page_check(staff["facilitator only"], client, E)
    _page_check(staff["primary clinician"], client, E)
    rows = list(
        AuditEvent.objects.filter(action="access.edit").values_list("actor_username", "outcome")
    )
    assert rows == [("facil", "denied"), ("prim", "allowed")]


def test_prescriber_cannot_discharge_or_change_the_care_team(people, client_as):
    """Discharge and care-team changes belong to the primary clinician, intake, admins."""
    client, staff = people
    web = client_as(staff["prescriber"])
    episode = client.episodes.get()
    assert web.get(reverse("clients:care_team", args=[client.public_id])).status_code == 404
    url = reverse("clients:discharge", args=[client.public_id, episode.public_id])
    response = web.post(
        url,
        {
            "discharged_on": timezone.localdate().isoformat(),
            "reason": "completed",
            "summary": "Done",
            "continuing_care": "alumni",
        },
    )
    assert response.status_code == 404
    episode.refresh_from_db()
    assert episode.discharged_on is None
    # The primary clinician may.
    assert (
        client_as(staff["primary clinician"])
        .get(reverse("clients:care_team", args=[client.public_id]))
        .status_code
        == 200
    )


def test_case_manager_edits_but_does_not_manage(people):
    client, staff = people
    manager = UserFactory(username="cm", roles=["clinician"])
    services.care_team_add(client=client, staff=manager, role="case_manager", actor=staff["intake"])
    assert client_access(manager, client, E).allowed
    assert not client_access(manager, client, M).allowed

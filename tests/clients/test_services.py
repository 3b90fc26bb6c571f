"""Registration, admission, discharge and the care team that drives permissions."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.access import Purpose, client_access
from clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    ClientUserObjectPermission,
    Episode,
)
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _register_form(**overrides):
    data = {
        "legal_first_name": "Dana",
        "legal_last_name": "Whitfield",
        "preferred_name": "",
        "pronouns": "she/her",
        "date_of_birth": "1989-04-12",
        "phone": "(617) 555-0134",
        "email": "dana.whitfield@mail.example",
        "profession": "nurse",
        "employer": "St. Anne's Hospital",
        "monitoring_program": "",
        "monitoring_contact": "",
        "referral_source": "Nursing board",
        "primary_substances": ["alcohol"],
        "co_occurring_conditions": "",
        "reminder_channel": "none",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
    }
    data.update(overrides)
    return data


def _register(actor, **overrides):
    fields = {
        "legal_first_name": "Dana",
        "legal_last_name": "Whitfield",
        "date_of_birth": date(1989, 4, 12),
        "profession": "nurse",
    }
    fields.update(overrides)
    return services.client_register(actor=actor, **fields)


def _codenames(client, user):
    return set(
        ClientUserObjectPermission.objects.filter(content_object=client, user=user).values_list(
            "permission__codename", flat=True
        )
    )


def _form_errors(response):
    form = response.context["form"]
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- Registration ---------------------------------------------------------------------


def test_intake_coordinator_who_registers_joins_the_care_team_for_intake_only(
    intake_user, client_as
):
    client = _register(intake_user)

    assert client.status == ClientStatus.PROSPECT
    member = CareTeamMember.objects.get(client=client)
    assert (member.staff, member.role) == (intake_user, CareTeamRole.INTAKE)
    assert client_access(intake_user, client, Purpose.CHART).allowed
    assert client_access(intake_user, client, Purpose.EDIT).allowed
    assert not client_access(intake_user, client, Purpose.CLINICAL).allowed
    assert (
        client_as(intake_user).get(reverse("clients:chart", args=[client.public_id])).status_code
        == 200
    )


def test_registering_through_the_page_opens_the_new_chart(intake_user, client_as):
    response = client_as(intake_user).post(reverse("clients:register"), _register_form())

    client = Client.objects.get(legal_last_name="Whitfield")
    assert response.status_code == 302
    assert response.url == reverse("clients:chart", args=[client.public_id])
    assert client.created_by == intake_user


@pytest.mark.parametrize(
    ("dob", "message"),
    [
        (lambda: TODAY() + timedelta(days=1), "That date is in the future."),
        (lambda: TODAY().replace(year=TODAY().year - 11), "Clients must be at least 12 years old."),
    ],
    ids=["future", "age-11"],
)
def test_impossible_date_of_birth_is_refused_and_nothing_saved(
    intake_user, client_as, dob, message
):
    with pytest.raises(ValidationError, match=message):
        _register(intake_user, date_of_birth=dob())

    response = client_as(intake_user).post(
        reverse("clients:register"), _register_form(date_of_birth=dob().isoformat())
    )
    assert response.status_code == 400
    assert message in _form_errors(response)
    assert not Client.objects.exists()
    assert not CareTeamMember.objects.exists()


def test_twelfth_birthday_is_old_enough(intake_user):
    today = TODAY()
    twelve = today.replace(year=today.year - 12, day=min(today.day, 28))
    assert _register(intake_user, date_of_birth=twelve).pk


def test_duplicate_name_and_birth_date_warns_until_confirmed(intake_user, client_as):
    ClientFactory(
        legal_first_name="Dana", legal_last_name="Whitfield", date_of_birth=date(1989, 4, 12)
    )
    web = client_as(intake_user)

    # Case and spacing differ: still the same person as far as intake can tell.
    first = web.post(
        reverse("clients:register"),
        _register_form(legal_first_name=" dana", legal_last_name="WHITFIELD "),
    )
    assert first.status_code == 400
    assert "A client with this name and date of birth exists" in first.content.decode()
    assert first.context["form"].duplicate_count == 1
    assert Client.objects.count() == 1

    second = web.post(reverse("clients:register"), _register_form(confirm_not_duplicate="on"))
    assert second.status_code == 302
    assert Client.objects.filter(legal_last_name="Whitfield").count() == 2


def test_same_name_with_another_birth_date_is_no_duplicate(intake_user, client_as):
    ClientFactory(
        legal_first_name="Dana", legal_last_name="Whitfield", date_of_birth=date(1990, 1, 1)
    )
    response = client_as(intake_user).post(reverse("clients:register"), _register_form())
    assert response.status_code == 302


def test_clinician_cannot_register(clinician, client_as):
    response = client_as(clinician).post(reverse("clients:register"), _register_form())
    assert response.status_code == 403
    assert not Client.objects.exists()


# --- Admission and discharge ------------------------------------------------------------


def _admit_form(**overrides):
    data = {"admitted_on": TODAY().isoformat(), "asam_level": "2.1", "planned_length_days": "60"}
    for n in range(1, 7):
        data[f"d{n}_rating"] = "2"
        data[f"d{n}_note"] = ""
    data.update(overrides)
    return data


def test_admission_makes_the_client_active_with_the_asam_placement(intake_user, client_as):
    client = _register(intake_user)
    response = client_as(intake_user).post(
        reverse("clients:admit", args=[client.public_id]), _admit_form(d5_rating="4")
    )

    assert response.status_code == 302
    client.refresh_from_db()
    episode = client.episodes.get()
    assert client.status == ClientStatus.ACTIVE
    assert episode.asam_level == "2.1"
    assert episode.dimension_ratings["d5"] == 4
    assert episode.admitted_by == intake_user


def test_admitting_twice_is_refused(intake_user, client_as):
    client = _register(intake_user)
    services.episode_admit(
        client=client,
        actor=intake_user,
        admitted_on=TODAY(),
        asam_level="2.1",
        dimension_ratings={"d1": 1},
    )
    with pytest.raises(ValidationError, match="already has an open episode"):
        services.episode_admit(
            client=client,
            actor=intake_user,
            admitted_on=TODAY(),
            asam_level="2.5",
            dimension_ratings={"d1": 1},
        )

    response = client_as(intake_user).post(
        reverse("clients:admit", args=[client.public_id]), _admit_form()
    )
    assert response.status_code == 400
    assert "already has an open episode" in response.content.decode()
    assert client.episodes.count() == 1


def test_readmission_after_discharge_opens_a_second_episode(intake_user):
    client = _register(intake_user)
    first = EpisodeFactory(
        client=client,
        admitted_on=TODAY() - timedelta(days=90),
        discharged_on=TODAY() - timedelta(days=30),
        discharge_reason="ama",
    )
    second = services.episode_admit(
        client=client,
        actor=intake_user,
        admitted_on=TODAY(),
        asam_level="2.1",
        dimension_ratings={"d1": 1},
    )
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE
    assert list(client.episodes.all()) == [second, first]


def test_discharge_before_admission_is_refused_and_the_episode_unchanged(clinician, client_as):
    episode = EpisodeFactory(admitted_on=TODAY() - timedelta(days=10))
    with_care_team(episode.client, clinician)
    url = reverse("clients:discharge", args=[episode.client.public_id, episode.public_id])

    response = client_as(clinician).post(
        url,
        {
            "discharged_on": (TODAY() - timedelta(days=11)).isoformat(),
            "reason": "completed",
            "summary": "Completed the program.",
            "continuing_care": "alumni",
        },
    )

    assert response.status_code == 400
    assert "Discharge cannot be before admission" in response.content.decode()
    episode.refresh_from_db()
    assert episode.discharged_on is None and episode.discharge_reason == ""
    assert Client.objects.get(pk=episode.client_id).status == ClientStatus.ACTIVE
    with pytest.raises(ValidationError, match="before admission"):
        services.episode_discharge(
            episode=episode,
            discharged_on=TODAY() - timedelta(days=11),
            reason="completed",
            summary="",
            continuing_care="alumni",
            actor=clinician,
        )


def test_discharge_closes_the_episode_and_the_client(clinician, client_as):
    episode = EpisodeFactory()
    with_care_team(episode.client, clinician)
    response = client_as(clinician).post(
        reverse("clients:discharge", args=[episode.client.public_id, episode.public_id]),
        {
            "discharged_on": TODAY().isoformat(),
            "reason": "completed",
            "summary": "Completed all phases.",
            "continuing_care": "alumni",
        },
    )
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.discharged_on == TODAY()
    assert Client.objects.get(pk=episode.client_id).status == ClientStatus.DISCHARGED


# --- Care team and permissions ------------------------------------------------------------


def test_care_team_add_grants_and_end_revokes_the_object_permissions(clinician, admin_user):
    client = ClientFactory()

    member = with_care_team(client, clinician, "counsellor")
    assert _codenames(client, clinician) == {"view_client", "change_client", "attend_client"}

    services.care_team_end(member=member, actor=admin_user)
    assert _codenames(client, clinician) == set()
    assert not client_access(clinician, client, Purpose.CHART).allowed


def test_ending_one_role_keeps_what_another_role_grants(clinician, admin_user):
    client = ClientFactory()
    with_care_team(client, clinician, "primary")
    counsellor = with_care_team(client, clinician, "counsellor")

    services.care_team_end(member=counsellor, actor=admin_user)

    assert _codenames(client, clinician) == {
        "view_client",
        "change_client",
        "intake_client",
        "attend_client",
    }


def test_removing_the_last_primary_of_an_active_client_is_refused(
    clinician, other_clinician, admin_user, client_as
):
    client = EpisodeFactory().client
    member = with_care_team(client, clinician, "primary")
    web = client_as(admin_user)
    url = reverse("clients:care_team_end", args=[client.public_id, member.public_id])

    response = web.post(url)

    assert response.status_code == 409
    assert "needs a primary clinician" in response.content.decode()
    member.refresh_from_db()
    assert member.ended_on is None
    assert "view_client" in _codenames(client, clinician)

    with_care_team(client, other_clinician, "primary", actor=admin_user)
    response = web.post(url)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.ended_on == TODAY()
    assert _codenames(client, clinician) == set()
    assert "view_client" in _codenames(client, other_clinician)


def test_last_primary_of_a_prospect_may_leave(clinician, admin_user):
    client = ClientFactory(status=ClientStatus.PROSPECT)
    member = with_care_team(client, clinician)
    services.care_team_end(member=member, actor=admin_user)
    member.refresh_from_db()
    assert member.ended_on == TODAY()


def test_same_person_twice_in_the_same_role_is_refused(clinician):
    client = ClientFactory()
    with_care_team(client, clinician)
    with pytest.raises(ValidationError, match="already on the care team"):
        with_care_team(client, clinician)
    assert CareTeamMember.objects.filter(client=client).count() == 1


def test_a_facilitator_may_take_attendance_but_not_open_the_chart(other_clinician, client_as):
    client = ClientFactory()
    with_care_team(client, other_clinician, CareTeamRole.FACILITATOR)

    assert _codenames(client, other_clinician) == {"attend_client"}
    assert client_access(other_clinician, client, Purpose.ATTENDANCE).allowed
    assert not client_access(other_clinician, client, Purpose.CHART).allowed
    assert not client_access(other_clinician, client, Purpose.CLINICAL).allowed
    response = client_as(other_clinician).get(reverse("clients:chart", args=[client.public_id]))
    assert response.status_code == 404


def test_care_team_page_refuses_a_role_the_staff_member_cannot_hold(
    medical_user, admin_user, client_as
):
    client = ClientFactory()
    response = client_as(admin_user).post(
        reverse("clients:care_team", args=[client.public_id]),
        {"staff": medical_user.pk, "role": "primary", "started_on": TODAY().isoformat()},
    )
    assert response.status_code == 400
    assert "does not hold a role that can be Primary clinician" in response.content.decode()
    assert not CareTeamMember.objects.filter(client=client).exists()
    assert not Episode.objects.exists()


def test_a_care_team_planned_ahead_takes_effect_on_its_start_day(intake_user, clinician):
    from clients.tasks import sync_due_care_team_permissions

    client = ClientFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)
    services.care_team_add(
        client=client, staff=clinician, role="primary", actor=intake_user, started_on=tomorrow
    )
    assert not client_access(clinician, client, Purpose.CHART).allowed
    assert sync_due_care_team_permissions() == 0  # nothing starts today
    assert services.permissions_sync_due(on=tomorrow) == 1
    assert client_access(clinician, client, Purpose.CHART).allowed
    # The task's change of access is on the trail, under a system context, with counts only.
    event = AuditEvent.objects.get(action="careteam.permissions_sync")
    assert (event.actor, event.actor_username) == (None, "system:careteam-sync")
    assert event.client_id == client.public_id
    assert event.detail.startswith("granted=")


def test_bulk_sync_grants_and_revokes_as_the_per_client_sync_does(
    clinician, other_clinician, intake_user
):
    """client_permissions_sync_bulk (seed_scale, fixtures) is the same rule set-wise:
    after it, the per-client sync finds nothing to change."""
    kept = ClientFactory()
    with_care_team(kept, clinician)
    ended = ClientFactory()
    member = with_care_team(ended, other_clinician, "counsellor")
    # Behind the service's back: a membership ended without a sync, a stray row, and a
    # membership whose permissions were never written.
    CareTeamMember.objects.filter(pk=member.pk).update(
        started_on=TODAY() - timedelta(days=9), ended_on=TODAY() - timedelta(days=1)
    )
    stray = ClientUserObjectPermission.objects.filter(content_object=kept, user=clinician).first()
    ClientUserObjectPermission.objects.create(
        content_object=kept, user=intake_user, permission=stray.permission
    )
    unsynced = ClientFactory()
    CareTeamMember.objects.create(
        client=unsynced, staff=clinician, role=CareTeamRole.FACILITATOR, source="group:x"
    )

    diff = services.client_permissions_sync_bulk()

    assert (diff.granted, diff.revoked) == (1, 4)  # attend on unsynced; 3 ended + 1 stray
    assert _codenames(kept, clinician) == {
        "view_client",
        "change_client",
        "intake_client",
        "attend_client",
    }
    assert _codenames(kept, intake_user) == set()
    assert _codenames(ended, other_clinician) == set()
    assert _codenames(unsynced, clinician) == {"attend_client"}
    for client in (kept, ended, unsynced):
        assert not services.client_permissions_sync(client=client)


def test_bulk_sync_touches_only_the_clients_given_and_reads_the_day_given(clinician, intake_user):
    """The bulk sync's scope and day on this database's SQL (CI runs the suite on
    PostgreSQL and on SQLite): a client outside ``clients`` keeps its rows, and a
    membership that ends tomorrow still grants ``on`` today but not ``on`` tomorrow."""
    mine = ClientFactory()
    member = with_care_team(mine, clinician)
    CareTeamMember.objects.filter(pk=member.pk).update(ended_on=TODAY() + timedelta(days=1))
    other = ClientFactory()
    with_care_team(other, clinician)
    grant = ClientUserObjectPermission.objects.filter(content_object=other).first()
    ClientUserObjectPermission.objects.create(
        content_object=other, user=intake_user, permission=grant.permission
    )
    before = _codenames(mine, clinician)
    only_mine = Client.objects.filter(pk=mine.pk)

    today = services.client_permissions_sync_bulk(clients=only_mine)
    assert (today.granted, today.revoked) == (0, 0)
    assert _codenames(mine, clinician) == before != set()

    tomorrow = services.client_permissions_sync_bulk(
        clients=only_mine, on=TODAY() + timedelta(days=1)
    )
    assert (tomorrow.granted, tomorrow.revoked) == (0, len(before))
    assert _codenames(mine, clinician) == set()
    # Outside the scope: the stray row stays until a sync covers that client.
    assert _codenames(other, intake_user) == {grant.permission.codename}

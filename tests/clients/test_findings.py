"""The attacks and stumbles of issues 7 and 8 on the clients app, each replayed."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import (
    CareTeamMember,
    Client,
    Consent,
    Disclosure,
    EmergencyAccess,
    SupportContact,
)
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, ConsentFactory, EpisodeFactory, with_care_team
from tests.iop.factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
REASON = "Client collapsed in the lobby; paramedics ask about medications."


@pytest.fixture
def admitted(clinician, intake_user):
    client = EpisodeFactory().client
    with_care_team(client, intake_user, "intake", actor=intake_user)
    with_care_team(client, clinician, "primary", actor=intake_user)
    return client


def _chart(client):
    return reverse("clients:chart", args=[client.public_id])


# --- 7.2 Intake cannot give itself clinical access -------------------------------------------


def test_intake_cannot_add_itself_as_case_manager(admitted, intake_user, client_as):
    web = client_as(intake_user)
    assert "Substances" not in web.get(_chart(admitted)).content.decode()
    response = web.post(
        reverse("clients:care_team", args=[admitted.public_id]),
        {"staff": intake_user.pk, "role": "case_manager", "started_on": TODAY().isoformat()},
    )
    assert response.status_code == 400
    assert not CareTeamMember.objects.filter(staff=intake_user, role="case_manager").exists()
    assert "Substances" not in web.get(_chart(admitted)).content.decode()


def test_nobody_adds_themselves_in_a_clinical_role(admitted, other_clinician):
    with pytest.raises(ValidationError, match="cannot add yourself"):
        services.care_team_add(
            client=admitted, staff=other_clinician, role="counsellor", actor=other_clinician
        )


def test_care_team_role_eligibility_is_the_services_rule(admitted, intake_user):
    medical = UserFactory(roles=["medical"])
    with pytest.raises(ValidationError, match="does not hold a role"):
        services.care_team_add(client=admitted, staff=medical, role="primary", actor=intake_user)


def test_care_team_start_before_admission_is_refused(admitted, intake_user):
    admitted_on = admitted.episodes.get().admitted_on
    with pytest.raises(ValidationError, match="before the admission"):
        services.care_team_add(
            client=admitted,
            staff=UserFactory(roles=["clinician"]),
            role="counsellor",
            started_on=admitted_on - timedelta(days=1),
            actor=intake_user,
        )


# --- 7.4 The edit form shows only what the viewer's purpose covers --------------------------


def test_intakes_edit_form_has_no_clinical_fields(admitted, intake_user, client_as):
    admitted.co_occurring_conditions = "Generalised anxiety"
    admitted.save()
    web = client_as(intake_user)
    html = web.get(reverse("clients:edit", args=[admitted.public_id])).content.decode()
    assert "primary_substances" not in html
    assert "Generalised anxiety" not in html
    # The clinical intake page is CLINICAL: intake gets 404, audited.
    url = reverse("clients:clinical_edit", args=[admitted.public_id])
    assert web.get(url).status_code == 404
    assert AuditEvent.objects.filter(
        action="access.edit+clinical", outcome="denied", actor=intake_user
    ).exists()


def test_clinician_records_clinical_intake(admitted, clinician, client_as):
    web = client_as(clinician)
    url = reverse("clients:clinical_edit", args=[admitted.public_id])
    response = web.post(
        url, {"primary_substances": ["opioids"], "co_occurring_conditions": "Insomnia"}
    )
    assert response.status_code == 302
    admitted.refresh_from_db()
    assert (admitted.primary_substances, admitted.co_occurring_conditions) == (
        ["opioids"],
        "Insomnia",
    )
    assert AuditEvent.objects.filter(action="client.clinical_update").count() == 1


# --- 7.7 Break the glass ---------------------------------------------------------------------


def _glass(web, mrn, reason):
    return web.post(reverse("clients:emergency_access"), {"mrn": mrn, "reason": reason})


def test_every_attempt_is_audited_and_a_missing_mrn_answers_like_a_bad_form(
    admitted, other_clinician, client_as
):
    web = client_as(other_clinician)
    short = _glass(web, admitted.mrn, "need it now")
    missing = _glass(web, "0000001", REASON)
    assert short.status_code == missing.status_code == 400
    form_of = [r.context["form"].errors for r in (short, missing)]
    assert form_of[0] == form_of[1]
    rows = AuditEvent.objects.filter(action="client.emergency_access", outcome="denied")
    assert rows.count() == 2
    assert rows.filter(client_id=admitted.public_id).count() == 1
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize(
    "reason", ["a" * 40, "asdf asdf asdf asdf asdf", "x y z 1 2 3 4 5 6 7 8 9", "\x00" * 20]
)
def test_reasons_that_are_not_words_are_refused(reason, admitted, other_clinician, client_as):
    assert _glass(client_as(other_clinician), admitted.mrn, reason).status_code == 400
    assert not EmergencyAccess.objects.exists()


def test_intake_cannot_break_the_glass(admitted, client_as):
    other_intake = UserFactory(roles=["intake"])
    assert _glass(client_as(other_intake), admitted.mrn, REASON).status_code == 403
    with pytest.raises(ValidationError, match="role"):
        services.emergency_access_open(client=admitted, actor=other_intake, reason=REASON)


# --- 7.11 Double submission lands on the first record ----------------------------------------


def _consent_post():
    return {
        "recipient_type": "organisation",
        "recipient_name": "Board of Nursing",
        "purpose": "Monitoring",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "discloser": "IOP",
        "expires_on": (TODAY() + timedelta(days=300)).isoformat(),
        "expiry_event": "",
        "revocation_statement": "In writing.",
        "signed_by_name": "Pat Doe",
        "signer_relationship": "self",
        "signed_on": TODAY().isoformat(),
        "signature_confirmed": "on",
    }


def test_posting_the_same_consent_twice_records_it_once(admitted, intake_user, client_as):
    web = client_as(intake_user)
    url = reverse("clients:consent_add", args=[admitted.public_id])
    first = web.post(url, _consent_post())
    second = web.post(url, _consent_post())
    assert Consent.objects.count() == 1
    assert first.url == second.url
    assert AuditEvent.objects.filter(action="consent.record").count() == 1


def test_posting_the_same_disclosure_twice_records_it_once(admitted, clinician, client_as):
    consent = ConsentFactory(client=admitted)
    web = client_as(clinician)
    url = reverse("clients:disclosure_add", args=[admitted.public_id])
    data = {
        "consent": consent.public_id,
        "recipient_name": consent.recipient_name,
        "information_categories": ["attendance"],
        "description": "Attendance letter",
        "purpose": "Letter the client asked for",
        "method": "mail",
        "disclosed_on": TODAY().isoformat(),
    }
    for _ in range(3):
        assert web.post(url, data).status_code == 302
    assert Disclosure.objects.count() == 1


# --- 7.12 The duplicate check is an audited lookup that names nobody --------------------------


def test_duplicate_warning_is_audited_and_names_nobody(intake_user, client_as):
    hidden = ClientFactory(legal_first_name="Quinn", legal_last_name="Harlow")
    response = client_as(intake_user).post(
        reverse("clients:register"),
        {
            "legal_first_name": "Quinn",
            "legal_last_name": "Harlow",
            "date_of_birth": hidden.date_of_birth.isoformat(),
            "profession": "nurse",
            "reminder_channel": "none",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "A client with this name and date of birth exists" in html
    assert hidden.mrn not in html and str(hidden.public_id) not in html
    event = AuditEvent.objects.get(action="client.duplicate_lookup")
    assert event.detail == "matches=1"


# --- Issue 8: reading is not writing ---------------------------------------------------------


def test_opening_a_form_is_an_access_and_saving_it_is_the_write(admitted, intake_user, client_as):
    web = client_as(intake_user)
    url = reverse("clients:contact_add", args=[admitted.public_id])
    web.get(url)
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))[-1] == (
        "access.edit"
    )
    before = AuditEvent.objects.count()
    web.post(url, {"name": "Lee Park", "relationship": "Sponsor", "phone": "617 555 0101"})
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:])
    assert actions == ["access.edit", "contact.add"]
    assert SupportContact.objects.get().phone == "+16175550101"


# --- Issue 8: rules in services, phones, dates -------------------------------------------------


def test_admission_more_than_30_days_ahead_is_refused_by_the_service(intake_user):
    client = ClientFactory()
    with pytest.raises(ValidationError, match="30 days ahead"):
        services.episode_admit(
            client=client,
            actor=intake_user,
            admitted_on=TODAY() + timedelta(days=31),
            asam_level="2.1",
            dimension_ratings={},
        )


def test_discharge_in_the_future_is_refused_by_the_service(admitted, clinician):
    with pytest.raises(ValidationError, match="future"):
        services.episode_discharge(
            episode=admitted.episodes.get(),
            discharged_on=TODAY() + timedelta(days=1),
            reason="completed",
            summary="",
            continuing_care="alumni",
            actor=clinician,
        )


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("call me maybe", "valid phone number"),
        ("1", "valid phone number"),
        ("555-0100", "valid phone number"),
        ("\x00", "contains a null character"),
    ],
)
def test_a_phone_that_is_not_a_number_is_refused(phone, message, admitted, intake_user, client_as):
    response = client_as(intake_user).post(
        reverse("clients:edit", args=[admitted.public_id]),
        {
            "legal_first_name": admitted.legal_first_name,
            "legal_last_name": admitted.legal_last_name,
            "date_of_birth": admitted.date_of_birth.isoformat(),
            "profession": admitted.profession,
            "phone": phone,
            "reminder_channel": "none",
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_reminders_need_consent_and_a_number(intake_user):
    base = {
        "legal_first_name": "Ari",
        "legal_last_name": "Stone",
        "date_of_birth": date(1980, 1, 1),
        "profession": "pilot",
    }
    with pytest.raises(ValidationError, match="consent"):
        services.client_register(
            actor=intake_user, phone="6175550100", reminder_channel="sms", **base
        )
    with pytest.raises(ValidationError, match="phone"):
        services.client_register(
            actor=intake_user, reminder_channel="sms", reminder_consent=True, **base
        )
    client = services.client_register(
        actor=intake_user,
        phone="(617) 555-0100",
        reminder_channel="sms",
        reminder_consent=True,
        **base,
    )
    assert client.phone == "+16175550100"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1850-06-01"])
def test_dates_at_the_ends_of_the_calendar_are_refused_with_a_message(
    day, admitted, intake_user, client_as
):
    web = client_as(intake_user)
    pages = [
        (
            reverse("clients:register"),
            {
                "legal_first_name": "Edge",
                "legal_last_name": "Case",
                "date_of_birth": day,
                "profession": "nurse",
                "reminder_channel": "none",
            },
        ),
        (
            reverse("clients:consent_add", args=[admitted.public_id]),
            {**_consent_post(), "signed_on": day},
        ),
        (
            reverse("clients:care_team", args=[admitted.public_id]),
            {"staff": UserFactory(roles=["clinician"]).pk, "role": "counsellor", "started_on": day},
        ),
    ]
    before = (Client.objects.count(), Consent.objects.count(), CareTeamMember.objects.count())
    for url, data in pages:
        response = web.post(url, data)
        assert response.status_code == 400, url
        assert "That date is" in response.content.decode(), url
    after = (Client.objects.count(), Consent.objects.count(), CareTeamMember.objects.count())
    assert before == after


def test_ten_thousand_characters_and_nul_bytes_answer_400(admitted, intake_user, client_as):
    web = client_as(intake_user)
    response = web.post(
        reverse("clients:contact_add", args=[admitted.public_id]),
        {"name": "x" * 10_000, "relationship": "\x00", "phone": "6175550100"},
    )
    assert response.status_code == 400
    assert not SupportContact.objects.exists()


def test_the_chart_shows_a_stored_e164_number_as_people_read_it(admitted, clinician, client_as):
    Client.objects.filter(pk=admitted.pk).update(phone="+16175550134")
    html = client_as(clinician).get(_chart(admitted)).content.decode()
    assert "(617) 555-0134" in html

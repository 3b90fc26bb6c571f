"""42 CFR Part 2 consents (2.31) and the disclosures made under them (2.32; 2.25 accounting)."""

import html
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import (
    END_OF_TREATMENT,
    REDISCLOSURE_NOTICE,
    TPO_REDISCLOSURE,
    TPO_REFUSAL,
    Consent,
    Disclosure,
    RecipientType,
)
from iop import when
from tests.clients.factories import ConsentFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _days(n):
    return _today() + timedelta(days=n)


def _state(consent, day=None):
    day = day or _today()
    return consent.state_on(day, discharges=services.discharge_dates(consent.client))


def _disclose(consent, actor, **overrides):
    fields = {
        "client": consent.client,
        "consent": consent,
        "recipient_name": "State Physician Health Program",
        "information_categories": ["attendance"],
        "description": "Attendance record, weeks 1-4",
        "purpose": "Monthly monitoring report",
        "method": "secure_email",
        "disclosed_on": _today(),
        "actor": actor,
    }
    fields.update(overrides)
    return services.disclosure_record(**fields)


def _consent_form(**overrides):
    data = {
        "recipient_type": "organisation",
        "recipient_name": "State Physician Health Program",
        "purpose": "Monitoring of return to practice",
        "information_categories": ["attendance", "screens"],
        "information_description": "Attendance and toxicology results since admission",
        "discloser": "Intensive Outpatient Program",
        "expires_on": _days(365).isoformat(),
        "expiry_event": "",
        "revocation_statement": "Revoke in writing to the privacy officer.",
        "signed_by_name": "Dana Whitfield",
        "signer_relationship": "self",
        "signed_on": _today().isoformat(),
        "signature_confirmed": "on",
    }
    data.update(overrides)
    return data


def _disclosure_form(consent, **overrides):
    data = {
        "consent": consent.public_id,
        "recipient_name": "State Physician Health Program",
        "tpo_recipient": "",
        "information_categories": ["attendance"],
        "description": "Attendance record, weeks 1-4",
        "purpose": "Monthly monitoring report",
        "method": "secure_email",
        "disclosed_on": _today().isoformat(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def chart(clinician):
    """An admitted client with alice as primary clinician."""
    client = EpisodeFactory(admitted_on=_days(-60)).client
    with_care_team(client, clinician)
    return client


# --- Validity -----------------------------------------------------------------------------


def test_consent_is_valid_through_its_expiry_date_and_expired_after():
    consent = ConsentFactory(signed_on=_days(-30), expires_on=_days(-1))
    assert _state(consent, _days(-1)) == "active"
    assert _state(consent) == "expired"


def test_consent_is_not_valid_before_it_was_signed():
    consent = ConsentFactory(signed_on=_days(-5))
    assert _state(consent, _days(-6)) == "not yet signed"
    assert _state(consent, _days(-5)) == "active"


def test_revoked_consent_is_valid_only_before_the_revocation(clinician):
    consent = ConsentFactory(signed_on=_days(-30))
    services.consent_revoke(
        consent=consent, revoked_on=_days(-2), note="Letter received", actor=clinician
    )
    consent.refresh_from_db()
    assert consent.revoked_by == clinician
    assert _state(consent, _days(-3)) == "active"
    assert _state(consent, _days(-2)) == "revoked"
    assert _state(consent) == "revoked"


@pytest.mark.parametrize(
    ("revoked_on", "message"),
    [
        (-31, "Revocation cannot precede the signature."),
        (1, "The revocation date is in the future."),
    ],
    ids=["before-signature", "future"],
)
def test_revocation_date_must_fall_between_signature_and_today(clinician, revoked_on, message):
    consent = ConsentFactory(signed_on=_days(-30))
    with pytest.raises(ValidationError, match=message):
        services.consent_revoke(
            consent=consent, revoked_on=_days(revoked_on), note="", actor=clinician
        )
    consent.refresh_from_db()
    assert consent.revoked_on is None


def test_revoking_twice_is_refused_and_keeps_the_first_date(clinician):
    consent = ConsentFactory(signed_on=_days(-30))
    services.consent_revoke(consent=consent, revoked_on=_days(-10), note="", actor=clinician)
    with pytest.raises(ValidationError, match="already revoked"):
        services.consent_revoke(consent=consent, revoked_on=_today(), note="", actor=clinician)
    consent.refresh_from_db()
    assert consent.revoked_on == _days(-10)


def test_revocation_page_answers_a_future_date_with_the_form(chart, clinician, client_as):
    consent = ConsentFactory(client=chart)
    response = client_as(clinician).post(
        reverse("clients:consent_revoke", args=[chart.public_id, consent.public_id]),
        {"revoked_on": _days(3).isoformat(), "note": ""},
    )
    assert response.status_code == 400
    assert "The revocation date is in the future." in response.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_on is None


def _end_of_treatment_consent(client, signed_on):
    return ConsentFactory(
        client=client, signed_on=signed_on, expires_on=None, expiry_event=END_OF_TREATMENT
    )


def test_end_of_treatment_consent_expires_after_discharge(chart, clinician):
    episode = chart.episodes.get()
    consent = _end_of_treatment_consent(chart, _days(-50))
    assert _state(consent) == "active"

    services.episode_discharge(
        episode=episode,
        discharged_on=_days(-3),
        reason="completed",
        summary="Done.",
        continuing_care="alumni",
        actor=clinician,
    )

    assert _state(consent, _days(-3)) == "active"  # through the day treatment ends
    assert _state(consent, _days(-2)) == "expired"
    assert _state(consent) == "expired"


def test_end_of_treatment_consent_stays_expired_after_readmission(chart, clinician):
    """The event happened; a new episode needs a new consent (42 CFR 2.31(a)(7), 2024)."""
    consent = _end_of_treatment_consent(chart, _days(-50))
    services.episode_discharge(
        episode=chart.episodes.get(),
        discharged_on=_days(-20),
        reason="ama",
        summary="Left.",
        continuing_care="none",
        actor=clinician,
    )
    services.episode_admit(
        client=chart,
        actor=clinician,
        admitted_on=_days(-1),
        asam_level="2.1",
        dimension_ratings={"d1": 1},
    )

    assert _state(consent) == "expired"
    with pytest.raises(ValidationError, match="expired"):
        _disclose(consent, clinician)
    # A consent signed during the new episode is unaffected by the old discharge.
    assert _state(_end_of_treatment_consent(chart, _days(-1))) == "active"


def test_disclosure_made_during_treatment_may_be_recorded_after_discharge(chart, clinician):
    consent = _end_of_treatment_consent(chart, _days(-50))
    services.episode_discharge(
        episode=chart.episodes.get(),
        discharged_on=_days(-5),
        reason="completed",
        summary="Done.",
        continuing_care="alumni",
        actor=clinician,
    )
    disclosure = _disclose(consent, clinician, disclosed_on=_days(-10))
    assert disclosure.pk


# --- Recording consents ----------------------------------------------------------------------


def test_tpo_consent_states_redisclosure_and_refusal(chart, clinician):
    consent = services.consent_record(
        client=chart,
        actor=clinician,
        discloser="Intensive Outpatient Program",
        information_categories=["all"],
        information_description="All records of this program",
        recipient_type=RecipientType.TPO,
        recipient_name="ignored for TPO",
        purpose="Treatment, payment and health care operations",
        expiry_event=END_OF_TREATMENT,
        signed_by_name=chart.legal_name,
        signed_on=_today(),
    )
    assert consent.recipient_name == ""
    assert consent.tpo_redisclosure_statement == TPO_REDISCLOSURE
    assert consent.tpo_refusal_statement == TPO_REFUSAL


def test_named_recipient_consent_carries_no_tpo_statements(chart, clinician, client_as):
    response = client_as(clinician).post(
        reverse("clients:consent_add", args=[chart.public_id]), _consent_form()
    )
    assert response.status_code == 302
    consent = chart.consents.get()
    assert consent.recorded_by == clinician
    assert consent.tpo_redisclosure_statement == consent.tpo_refusal_statement == ""


def test_consent_without_expiry_is_refused(chart, clinician, client_as):
    with pytest.raises(ValidationError, match="Give an expiry date or an expiry event"):
        services.consent_record(
            client=chart,
            actor=clinician,
            discloser="Intensive Outpatient Program",
            information_categories=["attendance"],
            information_description="Attendance",
            recipient_type=RecipientType.PERSON,
            recipient_name="Dr. Lee",
            purpose="Coordination of care",
            signed_by_name=chart.legal_name,
            signed_on=_today(),
        )

    response = client_as(clinician).post(
        reverse("clients:consent_add", args=[chart.public_id]),
        _consent_form(expires_on="", expiry_event="  "),
    )
    assert response.status_code == 400
    assert "Give an expiry date or an expiry event." in response.content.decode()
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"signed_on": _days(2).isoformat()}, "The signature date is in the future."),
        ({"expires_on": _days(-1).isoformat()}, "The consent would expire before it was signed."),
        ({"recipient_name": ""}, "Name the person or organisation."),
        ({"signature_confirmed": ""}, "This field is required."),
    ],
    ids=["future-signature", "expires-before-signed", "no-recipient", "unsigned"],
)
def test_consent_page_refuses_an_invalid_consent(chart, clinician, client_as, overrides, message):
    response = client_as(clinician).post(
        reverse("clients:consent_add", args=[chart.public_id]), _consent_form(**overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Consent.objects.exists()


# --- Disclosures ---------------------------------------------------------------------------


def test_valid_disclosure_carries_the_2_32_notice_and_the_consent_scope(chart, clinician):
    consent = ConsentFactory(client=chart)
    # The recipient as typed by staff: case and spacing do not matter.
    disclosure = _disclose(consent, clinician, recipient_name="  state physician  health program")

    assert disclosure.redisclosure_notice == (
        "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )
    assert disclosure.redisclosure_notice == REDISCLOSURE_NOTICE
    assert "State Physician Health Program" in disclosure.consent_scope
    assert "Attendance and participation" in disclosure.consent_scope
    assert consent.purpose in disclosure.consent_scope
    assert disclosure.disclosed_by == clinician


def test_tpo_disclosure_names_the_recipient_class(chart, clinician):
    consent = ConsentFactory(
        client=chart,
        recipient_type=RecipientType.TPO,
        recipient_name="",
        information_categories=["all"],
    )
    with pytest.raises(ValidationError, match="does not name this recipient"):
        _disclose(consent, clinician, recipient_name="Blue Shield")
    disclosure = _disclose(
        consent,
        clinician,
        recipient_name="Blue Shield",
        tpo_recipient="health_plan",
        information_categories=["diagnosis", "treatment_plan"],
    )
    assert disclosure.tpo_recipient == "health_plan"


def _expired(chart, clinician):
    return ConsentFactory(client=chart, signed_on=_days(-40), expires_on=_days(-1))


def _revoked(chart, clinician):
    consent = ConsentFactory(client=chart, signed_on=_days(-40))
    services.consent_revoke(consent=consent, revoked_on=_days(-1), note="", actor=clinician)
    return consent


def _valid(chart, clinician):
    return ConsentFactory(client=chart)


REFUSALS = [
    (_expired, {}, "The consent is expired"),
    (_revoked, {}, "The consent is revoked"),
    (_valid, {"recipient_name": "Acme Airlines HR"}, "does not name this recipient"),
    (_valid, {"information_categories": ["diagnosis"]}, "does not cover all of this information"),
    (_valid, {"information_categories": ["attendance", "medications"]}, "does not cover all"),
    (_valid, {"disclosed_on": _days(-8)}, "The consent is not yet signed"),
]
REFUSAL_IDS = [
    "expired",
    "revoked",
    "other-recipient",
    "other-information",
    "partly-covered",
    "before-signature",
]


@pytest.mark.parametrize(("make", "overrides", "message"), REFUSALS, ids=REFUSAL_IDS)
def test_disclosure_not_covered_by_a_valid_consent_is_refused(
    chart, clinician, make, overrides, message
):
    consent = make(chart, clinician)
    with pytest.raises(ValidationError, match=message):
        _disclose(consent, clinician, **overrides)
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize(("make", "overrides", "message"), REFUSALS, ids=REFUSAL_IDS)
def test_disclosure_page_answers_a_refusal_with_the_form(
    chart, clinician, client_as, make, overrides, message
):
    consent = make(chart, clinician)
    if "disclosed_on" in overrides:
        overrides = {**overrides, "disclosed_on": overrides["disclosed_on"].isoformat()}
    response = client_as(clinician).post(
        reverse("clients:disclosure_add", args=[chart.public_id]),
        _disclosure_form(consent, **overrides),
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Disclosure.objects.exists()


def test_consent_of_another_client_cannot_cover_a_disclosure(chart, clinician, client_as):
    stranger_consent = ConsentFactory()
    response = client_as(clinician).post(
        reverse("clients:disclosure_add", args=[chart.public_id]),
        _disclosure_form(stranger_consent),
    )
    assert response.status_code == 400
    assert not Disclosure.objects.exists()
    with pytest.raises(ValidationError, match="belongs to another client"):
        _disclose(stranger_consent, clinician, client=chart)


def test_disclosure_page_records_a_covered_disclosure(chart, clinician, client_as):
    consent = ConsentFactory(client=chart)
    response = client_as(clinician).post(
        reverse("clients:disclosure_add", args=[chart.public_id]), _disclosure_form(consent)
    )
    assert response.status_code == 302
    assert response.url == reverse("clients:disclosures", args=[chart.public_id])
    disclosure = Disclosure.objects.get()
    assert (disclosure.client, disclosure.consent) == (chart, consent)
    assert disclosure.redisclosure_notice == REDISCLOSURE_NOTICE


def test_accounting_of_disclosures_covers_the_last_three_years(chart, clinician, client_as):
    consent = ConsentFactory(client=chart, signed_on=_days(-5 * 365), expires_on=_days(365))
    today = _today()
    three_years_ago = today.replace(year=today.year - 3, day=min(today.day, 28))
    _disclose(consent, clinician, disclosed_on=three_years_ago, description="Oldest kept")
    _disclose(consent, clinician, disclosed_on=_days(-3), description="Last week's report")
    _disclose(
        consent,
        clinician,
        disclosed_on=three_years_ago - timedelta(days=1),
        description="Too old to list",
    )
    _disclose(consent, clinician, disclosed_on=_days(-4 * 365), description="Far too old")

    response = client_as(clinician).get(reverse("clients:disclosures", args=[chart.public_id]))

    assert response.status_code == 200
    listed = [d.description for d in response.context["disclosures"]]
    assert listed == ["Last week's report", "Oldest kept"]
    body = response.content.decode()
    assert "Too old to list" not in body and "Far too old" not in body
    assert "State Physician Health Program" in body
    assert REDISCLOSURE_NOTICE in body


def test_printable_consent_shows_every_2_31_element(chart, clinician, client_as):
    consent = ConsentFactory(
        client=chart,
        information_description="Attendance and toxicology results since admission",
        purpose="Monitoring of return to practice",
        expires_on=_days(365),
        expiry_event=END_OF_TREATMENT,
        revocation_statement="You may revoke this consent in writing to the privacy officer.",
        signed_by_name="Jordan Whitfield",
        signer_relationship="authorised",
    )

    response = client_as(clinician).get(
        reverse("clients:consent_detail", args=[chart.public_id, consent.public_id])
    )

    assert response.status_code == 200
    body = response.content.decode()
    elements = {
        "client's name": chart.legal_name,
        "who may disclose": "Intensive Outpatient Program",
        "information": "Attendance and toxicology results since admission",
        "information category": "Toxicology (urine and breath) results",
        "recipient": "State Physician Health Program",
        "purpose": "Monitoring of return to practice",
        "right to revoke": "You may revoke this consent in writing to the privacy officer.",
        "expiry date": when.day(_days(365)),
        "expiry event": END_OF_TREATMENT,
        "signature": "Jordan Whitfield",
        "signer's authority": "A personal representative (authorised under state law)",
        "date signed": when.day(consent.signed_on),
    }
    missing = [name for name, text in elements.items() if text not in body]
    assert missing == []


def test_printable_tpo_consent_shows_redisclosure_and_refusal(chart, clinician, client_as):
    consent = services.consent_record(
        client=chart,
        actor=clinician,
        discloser="Intensive Outpatient Program",
        information_categories=["all"],
        information_description="All records",
        recipient_type=RecipientType.TPO,
        purpose="Treatment, payment and operations",
        expiry_event=END_OF_TREATMENT,
        signed_by_name=chart.legal_name,
        signed_on=_today(),
    )
    response = client_as(clinician).get(
        reverse("clients:consent_detail", args=[chart.public_id, consent.public_id])
    )
    body = html.unescape(response.content.decode())
    assert RecipientType.TPO.label in body
    assert TPO_REDISCLOSURE in body
    assert TPO_REFUSAL in body

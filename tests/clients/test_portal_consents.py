"""Part 2 consents the client signs in the portal (42 CFR 2.31, 2024 rule): prepared by
staff, they count as no consent until signed (no disclosure, no intake step); the client
signs with their legal name typed and an attestation, the basis their age allows (2.14),
and the record keeps the words read, the moment and the address; the client revokes in
writing, recorded as a staff revocation is."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.consent_text import consent_text
from clients.models import Consent
from clients.services import consent_text_digest
from iop.audit.models import AuditEvent
from iop.audit.services import AuditContext
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db

CLIENT_AUDIT = AuditContext(actor=None, ip_address="203.0.113.7", username="portal:client")


def _years_ago(years, days=0):
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28)) - timedelta(days=days)


def _prepare(client, actor, **overrides):
    fields = {
        "discloser": "Intensive Outpatient Program",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "recipient_type": "organisation",
        "recipient_name": "State Physician Health Program",
        "purpose": "Monitoring of return to practice",
        "expires_on": timezone.localdate() + timedelta(days=365),
        "expiry_event": "",
        "revocation_statement": "Revoke in writing to the privacy officer.",
    }
    fields.update(overrides)
    return services.consent_prepare(client=client, actor=actor, **fields)


def _sign(consent, **overrides):
    consent = Consent.objects.select_related("client").get(pk=consent.pk)
    text = consent_text(consent)
    fields = {
        "consent": consent,
        "typed_name": consent.client.legal_name,
        "attested": True,
        "text": text,
        "text_digest": consent_text_digest(text),
        "ip_address": "203.0.113.7",
        "audit": CLIENT_AUDIT,
    }
    fields.update(overrides)
    return services.consent_sign_by_client(**fields)


@pytest.fixture
def chart(clinician):
    client = EpisodeFactory(admitted_on=timezone.localdate() - timedelta(days=30)).client
    with_care_team(client, clinician)
    return client


def test_a_prepared_consent_permits_no_disclosure_until_signed(chart, clinician, client_as):
    consent = _prepare(chart, clinician)
    assert consent.awaiting_signature and consent.signed_on is None
    assert not Consent.objects.signed().filter(pk=consent.pk).exists()
    state = consent.state_on(timezone.localdate(), discharges=[])
    assert state == "awaiting the client's signature"
    with pytest.raises(ValidationError, match="awaiting"):
        services.disclosure_record(
            client=chart,
            consent=consent,
            recipient_name="State Physician Health Program",
            information_categories=["attendance"],
            description="Attendance",
            purpose="Monitoring",
            method="mail",
            disclosed_on=timezone.localdate(),
            actor=clinician,
        )
    with pytest.raises(ValidationError, match="never signed"):
        services.consent_revoke(
            consent=consent, revoked_on=timezone.localdate(), note="", actor=clinician
        )
    # The disclosure form does not offer it; a forged post naming it is refused.
    web = client_as(clinician)
    url = reverse("clients:disclosure_add", args=[chart.public_id])
    page = web.get(url).content.decode()
    assert str(consent.public_id) not in page
    response = web.post(
        url,
        {
            "consent": consent.public_id,
            "recipient_name": "State Physician Health Program",
            "information_categories": ["attendance"],
            "description": "Attendance",
            "purpose": "Monitoring",
            "method": "mail",
            "disclosed_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert not chart.disclosures.exists()


def test_the_client_signs_and_the_record_keeps_text_time_and_address(chart, clinician):
    consent = _prepare(chart, clinician)
    signed = _sign(consent)
    assert not signed.awaiting_signature and signed.signed_in_portal
    assert signed.signed_on == timezone.localdate()
    assert signed.signed_ip == "203.0.113.7" and signed.signed_at is not None
    assert "State Physician Health Program" in signed.signed_text
    assert chart.legal_name in signed.signed_text
    assert signed.signer_relationship == "self"
    assert Consent.objects.signed().filter(pk=consent.pk).exists()
    # A second submission keeps the first signature.
    again = _sign(consent)
    assert again.repeated and again.signed_at == signed.signed_at
    event = AuditEvent.objects.filter(action="consent.sign").get()
    assert event.actor_id is None and "by=client" in event.detail
    # It now counts: a disclosure under it is accepted.
    services.disclosure_record(
        client=chart,
        consent=signed,
        recipient_name="State Physician Health Program",
        information_categories=["attendance"],
        description="Attendance",
        purpose="Monitoring",
        method="mail",
        disclosed_on=timezone.localdate(),
        actor=clinician,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"typed_name": "Somebody Else"}, "legal name"),
        ({"typed_name": "x" * 10_000}, "characters"),
        ({"typed_name": "A\x00B"}, "character"),
        ({"attested": False}, "Tick"),
        ({"text_digest": "0" * 64}, "changed"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_saved(chart, clinician, overrides, message):
    consent = _prepare(chart, clinician)
    with pytest.raises(ValidationError, match=message):
        _sign(consent, **overrides)
    consent.refresh_from_db()
    assert consent.awaiting_signature and consent.signed_text == "" and consent.signed_ip is None


def test_a_minor_signs_alone_only_where_state_law_allows(settings, clinician):
    minor = ClientFactory(date_of_birth=_years_ago(16))
    settings.IOP_MINORS_CONSENT_ALONE = 12
    signed = _sign(_prepare(minor, clinician))
    assert signed.signer_relationship == "minor_alone"
    settings.IOP_MINORS_CONSENT_ALONE = None
    consent = _prepare(minor, clinician, recipient_name="Juvenile Court")
    with pytest.raises(ValidationError, match="parent or guardian"):
        _sign(consent)


def test_the_client_revokes_in_writing(chart, clinician):
    consent = _sign(_prepare(chart, clinician))
    with pytest.raises(ValidationError):
        services.consent_revoke_by_client(consent=consent, reason="", audit=CLIENT_AUDIT)
    with pytest.raises(ValidationError):
        services.consent_revoke_by_client(consent=consent, reason="x" * 10_000, audit=CLIENT_AUDIT)
    revoked = services.consent_revoke_by_client(
        consent=consent, reason="I no longer want my employer told.", audit=CLIENT_AUDIT
    )
    assert revoked.revoked_on == timezone.localdate() and revoked.revoked_in_portal
    assert revoked.revocation_text == "I no longer want my employer told."
    assert revoked.state_on(timezone.localdate(), discharges=[]) == "revoked"
    assert AuditEvent.objects.filter(action="consent.revoke", detail="by=client").count() == 1
    again = services.consent_revoke_by_client(
        consent=consent, reason="I no longer want my employer told.", audit=CLIENT_AUDIT
    )
    assert again.repeated


def test_staff_prepare_it_from_the_chart_and_a_stranger_gets_404(
    chart, clinician, other_clinician, client_as
):
    url = reverse("clients:consent_prepare", args=[chart.public_id])
    data = {
        "recipient_type": "organisation",
        "recipient_name": "State Physician Health Program",
        "purpose": "Monitoring of return to practice",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "discloser": "Intensive Outpatient Program",
        "expires_on": (timezone.localdate() + timedelta(days=365)).isoformat(),
        "expiry_event": "",
        "revocation_statement": "Revoke in writing to the privacy officer.",
    }
    assert client_as(other_clinician).post(url, data).status_code == 404
    web = client_as(clinician)
    assert web.post(url, {**data, "purpose": "p" * 10_000}).status_code == 400
    assert web.post(url, {**data, "purpose": "a\x00b"}).status_code == 400
    response = web.post(url, data)
    assert response.status_code == 302
    web.post(url, data)  # a double submission
    consent = Consent.objects.get(client=chart)
    assert consent.awaiting_signature
    page = web.get(response["Location"]).content.decode()
    assert "Awaiting the client&#x27;s signature" in page or "Awaiting the client's" in page

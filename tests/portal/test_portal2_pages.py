"""The client's questionnaires, consents and letters in the portal, and the staff and
public pages of letters: each client reaches only their own (another's id is 404), bad
input is a message and a 4xx with nothing half-saved, a double submission writes once."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Consent, Disclosure
from clinical.meds.models import Measure
from clinical.meds.services import measure_assign
from iop.audit.models import AuditEvent
from iop.notifications.models import Channel, OutboxMessage
from portal import letter_services
from portal.models import AttendanceLetter
from tests.clients.factories import EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated(portal_client, clinician):
    EpisodeFactory(client=portal_client, admitted_on=timezone.localdate() - timedelta(days=40))
    with_care_team(portal_client, clinician)
    return portal_client


def _phq9_post(*values):
    return {f"item_{n}": str(v) for n, v in enumerate(values, start=1)}


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
    return client_services.consent_prepare(client=client, actor=actor, **fields)


# --- Questionnaires ------------------------------------------------------------------------


def test_phq9_item_9_shows_crisis_resources_and_tasks_the_team_at_once(
    treated, clinician, supervisor, portal_as, settings
):
    settings.IOP_PROGRAM_PHONE = "(555) 201-0199"
    assignment = measure_assign(client=treated, instrument="phq9", every_days=14, actor=clinician)
    web = portal_as(treated)
    listing = web.get(reverse("portal:measures")).content.decode()
    url = reverse("portal:measure_answer", args=[assignment.public_id])
    assert url in listing
    response = web.post(url, _phq9_post(1, 1, 0, 0, 0, 0, 0, 0, 1))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="tel:988"' in html and 'href="sms:988"' in html and 'href="tel:911"' in html
    assert "(555) 201-0199" in html
    measure = Measure.objects.get(client=treated)
    assert measure.flag_open and measure.score == 3 and measure.by_client
    tasks = OutboxMessage.objects.filter(refs__kind="clinical.safety_flag", channel=Channel.IN_APP)
    assert {t.staff for t in tasks} == {clinician, supervisor}
    # The double submission stores nothing more and still shows the resources.
    again = web.post(url, _phq9_post(1, 1, 0, 0, 0, 0, 0, 0, 1))
    assert 'href="tel:988"' in again.content.decode()
    assert Measure.objects.filter(client=treated).count() == 1


def test_bad_answers_are_a_400_and_nothing_is_stored(treated, clinician, portal_as):
    assignment = measure_assign(client=treated, instrument="gad7", every_days=None, actor=clinician)
    web = portal_as(treated)
    url = reverse("portal:measure_answer", args=[assignment.public_id])
    for data in (
        {},
        {**_phq9_post(1, 1, 1, 1, 1, 1, 1), "item_1": "x" * 10_000},
        {**_phq9_post(1, 1, 1, 1, 1, 1, 1), "item_2": "\x00"},
        {**_phq9_post(1, 1, 1, 1, 1, 1, 1), "item_3": "9"},
    ):
        response = web.post(url, data)
        assert response.status_code == 400
        assert "Nothing was sent" in response.content.decode()
    assert not Measure.objects.exists()


def test_another_clients_questionnaire_is_404(treated, other_portal_client, clinician, portal_as):
    theirs = measure_assign(
        client=other_portal_client, instrument="phq9", every_days=None, actor=clinician
    )
    web = portal_as(treated)
    url = reverse("portal:measure_answer", args=[theirs.public_id])
    assert web.get(url).status_code == 404
    assert web.post(url, _phq9_post(0, 0, 0, 0, 0, 0, 0, 0, 0)).status_code == 404
    assert not Measure.objects.exists()


# --- Consents ------------------------------------------------------------------------------


def test_the_client_reads_signs_and_revokes_a_consent(treated, clinician, portal_as):
    consent = _prepare(treated, clinician)
    web = portal_as(treated)
    assert (
        reverse("portal:consent", args=[consent.public_id])
        in web.get(reverse("portal:consents")).content.decode()
    )
    page = web.get(reverse("portal:consent", args=[consent.public_id]))
    html = page.content.decode()
    assert "State Physician Health Program" in html and "Monitoring of return to practice" in html
    digest = page.context["sign_form"].initial["digest"]
    url = reverse("portal:consent", args=[consent.public_id])
    wrong = web.post(url, {"typed_name": "Someone Else", "attest": "on", "digest": digest})
    assert wrong.status_code == 400 and "legal name" in wrong.content.decode()
    unticked = web.post(url, {"typed_name": treated.legal_name, "digest": digest})
    assert unticked.status_code == 400
    consent.refresh_from_db()
    assert consent.awaiting_signature
    ok = web.post(
        url,
        {"typed_name": treated.legal_name, "attest": "on", "digest": digest},
        REMOTE_ADDR="198.51.100.23",
    )
    assert ok.status_code == 302
    web.post(url, {"typed_name": treated.legal_name, "attest": "on", "digest": digest})
    consent.refresh_from_db()
    assert consent.signed_in_portal and consent.signed_ip == "198.51.100.23"
    assert consent.signed_text.startswith("Consent for the disclosure")
    event = AuditEvent.objects.get(action="consent.sign")
    assert event.actor_username == f"client:{treated.public_id}"
    revoke = reverse("portal:consent_revoke", args=[consent.public_id])
    assert web.post(revoke, {"reason": "x" * 10_000}).status_code == 400
    assert web.post(revoke, {"reason": "I revoke this consent."}).status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_in_portal and consent.revocation_text == "I revoke this consent."


def test_another_clients_consent_is_404(treated, other_portal_client, clinician, portal_as):
    theirs = _prepare(other_portal_client, clinician)
    web = portal_as(treated)
    assert web.get(reverse("portal:consent", args=[theirs.public_id])).status_code == 404
    response = web.post(
        reverse("portal:consent", args=[theirs.public_id]),
        {"typed_name": other_portal_client.legal_name, "attest": "on", "digest": "0" * 64},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.awaiting_signature


# --- Letters -------------------------------------------------------------------------------


def _signed_consent(client, actor, **overrides):
    consent = _prepare(client, actor, **overrides)
    consent = Consent.objects.get(pk=consent.pk)
    from clients.consent_text import consent_text
    from iop.audit.services import AuditContext

    text = consent_text(consent)
    return client_services.consent_sign_by_client(
        consent=consent,
        typed_name=client.legal_name,
        attested=True,
        text=text,
        text_digest=client_services.consent_text_digest(text),
        ip_address=None,
        audit=AuditContext.client_self(client.public_id),
    )


def test_without_a_covering_consent_the_page_says_what_is_needed(treated, clinician, portal_as):
    _prepare(treated, clinician)  # prepared, not signed: no consent
    web = portal_as(treated)
    html = web.get(reverse("portal:letters")).content.decode()
    assert 'data-testid="letter-needs-consent"' in html and "attendance and participation" in html


def test_a_letter_is_asked_approved_disclosed_and_verified(
    treated, clinician, other_clinician, portal_as, client_as, fresh_throttle
):
    consent = _signed_consent(treated, clinician)
    web = portal_as(treated)
    start = timezone.localdate() - timedelta(days=20)
    data = {
        "consent": str(consent.public_id),
        "period_start": start.isoformat(),
        "period_end": timezone.localdate().isoformat(),
    }
    # Screens are not covered by this consent: refused, nothing asked.
    refused = web.post(reverse("portal:letters"), {**data, "include_screens": "on"})
    assert refused.status_code == 400 and not AttendanceLetter.objects.exists()
    bad = web.post(reverse("portal:letters"), {**data, "period_end": "2999-01-01"})
    assert bad.status_code == 400
    assert web.post(reverse("portal:letters"), data).status_code == 302
    assert web.post(reverse("portal:letters"), data).status_code == 302  # double
    letter = AttendanceLetter.objects.get()
    # Staff: the care team's list shows it; a stranger gets 404 on it.
    staff = client_as(clinician)
    listing = staff.get(reverse("letters:staff_pending")).content.decode()
    assert reverse("letters:staff_letter", args=[letter.public_id]) in listing
    staff.logout()
    stranger = client_as(other_clinician)
    assert (
        str(letter.public_id) not in stranger.get(reverse("letters:staff_pending")).content.decode()
    )
    assert (
        stranger.post(
            reverse("letters:staff_letter", args=[letter.public_id]), {"action": "approve"}
        ).status_code
        == 404
    )
    staff = client_as(clinician)
    response = staff.post(
        reverse("letters:staff_letter", args=[letter.public_id]), {"action": "approve"}
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == "approved" and len(letter.verification_code) == 16
    disclosure = Disclosure.objects.get(client=treated)
    assert disclosure.method == "client_letter" and disclosure.consent_id == consent.pk
    assert letter.disclosure_id == disclosure.pk
    # The client downloads the PDF.
    staff.logout()
    web = portal_as(treated)
    pdf = web.get(reverse("portal:letter_pdf", args=[letter.public_id]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # A recipient verifies it, signed in nowhere.
    web.post(reverse("portal:sign_out"))
    ok = web.post(
        reverse("letter_verify"),
        {"code": letter_services.display_code(letter.verification_code).lower()},
    )
    html = ok.content.decode()
    assert ok.status_code == 200 and 'data-testid="verify-ok"' in html
    assert treated.legal_name in html and "State Physician Health Program" in html
    assert "Monitoring" not in html  # the consent's purpose is not on the letter
    for code in ("ABCD-EFGH-JKLM-NPQR", "", "x" * 10_000, "A\x00B"):
        unknown = web.post(reverse("letter_verify"), {"code": code})
        assert (
            unknown.status_code == 404
            and 'data-testid="verify-unknown"' in unknown.content.decode()
        )


@pytest.fixture
def fresh_throttle():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()  # the next test's look-ups start from nothing


def test_verification_is_throttled(client, fresh_throttle):
    for _ in range(letter_services_limit()):
        client.post(reverse("letter_verify"), {"code": "ABCD-EFGH-JKLM-NPQR"})
    response = client.post(reverse("letter_verify"), {"code": "ABCD-EFGH-JKLM-NPQR"})
    assert response.status_code == 429
    assert "Too many checks" in response.content.decode()


def letter_services_limit():
    from portal.letters import VERIFY_LIMIT

    return VERIFY_LIMIT[0]


def test_another_clients_letter_is_404(treated, other_portal_client, clinician, portal_as):
    consent = _signed_consent(other_portal_client, clinician)
    letter = AttendanceLetter.objects.create(
        client=other_portal_client,
        consent=consent,
        period_start=date.today() - timedelta(days=5),
        period_end=date.today(),
    )
    web = portal_as(treated)
    assert web.get(reverse("portal:letter_pdf", args=[letter.public_id])).status_code == 404


# --- Every portal route with an id, for another client's objects -------------------------


def _portal_uuid_routes():
    from django.urls import URLPattern, get_resolver
    from django.urls.converters import UUIDConverter

    resolver = get_resolver().url_patterns
    portal = next(r for r in resolver if getattr(r, "namespace", None) == "portal")
    return sorted(
        (f"portal:{p.name}", set(p.pattern.converters))
        for p in portal.url_patterns
        if isinstance(p, URLPattern)
        and any(isinstance(c, UUIDConverter) for c in p.pattern.converters.values())
    )


PORTAL_ROUTES = _portal_uuid_routes()


def test_the_portal_walk_knows_the_portal_routes():
    assert {name for name, _ in PORTAL_ROUTES} >= {
        "portal:measure_answer",
        "portal:consent",
        "portal:consent_revoke",
        "portal:letter_pdf",
    }


@pytest.mark.parametrize(("name", "kwargs"), PORTAL_ROUTES, ids=[r[0] for r in PORTAL_ROUTES])
def test_client_a_gets_404_on_client_bs_objects(
    name, kwargs, treated, other_portal_client, clinician, portal_as, client_as
):
    consent = _signed_consent(other_portal_client, clinician)
    theirs = {
        "assignment_id": measure_assign(
            client=other_portal_client, instrument="phq9", every_days=None, actor=clinician
        ).public_id,
        "consent_id": consent.public_id,
        "letter_id": AttendanceLetter.objects.create(
            client=other_portal_client,
            consent=consent,
            period_start=date.today(),
            period_end=date.today(),
        ).public_id,
    }
    assert kwargs <= set(theirs), f"{name}: add an object for {kwargs - set(theirs)}"
    url = reverse(name, kwargs={k: theirs[k] for k in kwargs})
    web = portal_as(treated)
    assert web.get(url).status_code == 404
    assert (
        web.post(url, {"reason": "I revoke", "typed_name": "x", "attest": "on"}).status_code == 404
    )
    consent.refresh_from_db()
    assert consent.revoked_on is None and not Measure.objects.exists()
    # A staff session, even the care team's, gets 404 on the portal's pages.
    staff = client_as(clinician)
    assert staff.get(url).status_code == 404


# --- Lists: a bound on queries that does not grow with the rows ----------------------------


def _many_letters(client, actor, n):
    consent = _signed_consent(client, actor, recipient_name=f"Board {n}")
    for day in range(n):
        AttendanceLetter.objects.create(
            client=client,
            consent=consent,
            period_start=date.today() - timedelta(days=30 + day),
            period_end=date.today() - timedelta(days=day),
        )
    measure_assign(
        client=client, instrument=("phq9", "gad7", "bam")[n % 3], every_days=None, actor=actor
    )
    _prepare(client, actor, recipient_name=f"Court {n}")


@pytest.mark.parametrize("n", [1, 6])
def test_the_portal_lists_take_a_fixed_number_of_queries(
    n, treated, clinician, portal_as, django_assert_max_num_queries
):
    _many_letters(treated, clinician, n)
    web = portal_as(treated)
    for name in ("portal:measures", "portal:consents", "portal:letters"):
        with django_assert_max_num_queries(14):
            assert web.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("n", [1, 6])
def test_the_staff_letter_list_takes_a_fixed_number_of_queries(
    n, clinician, intake_user, client_as, django_assert_max_num_queries
):
    from tests.clients.factories import ClientFactory

    for _ in range(n):
        someone = ClientFactory()
        with_care_team(someone, clinician)
        _many_letters(someone, intake_user, 1)
    web = client_as(clinician)
    with django_assert_max_num_queries(16):
        response = web.get(reverse("letters:staff_pending"))
    assert response.content.decode().count('<tr><td><a href="/letters/') == n

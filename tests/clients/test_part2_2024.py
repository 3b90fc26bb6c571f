"""42 CFR Part 2 as amended by the final rule of 16 Feb 2024 (89 FR 12472): worked
examples from the text (issue 21, items 10-12).

- 2.31(a)(4)(iii): a TPO consent states that the record "may be redisclosed in
  accordance with the permissions contained in the HIPAA regulations, except for uses
  and disclosures for civil, criminal, administrative, and legislative proceedings
  against the patient"; a consent keeps the statement it was signed with.
- 2.25(a): an accounting of "all disclosures made with consent under § 2.31 in the 3
  years prior to the date of the request (or a shorter time period chosen by the
  patient)", meeting 45 CFR 164.528(b): each disclosure's date, the recipient's name
  "and, if known, the address", a brief description of what was disclosed and "a brief
  statement of the purpose".
- 2.14(b): where state law lets a minor obtain treatment alone, only the minor may
  consent to a disclosure; a parent's or guardian's signature alone is refused.
"""

import html
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.models import (
    END_OF_TREATMENT,
    TPO_REDISCLOSURE,
    TPO_REDISCLOSURE_V1,
    Consent,
    Disclosure,
    RecipientType,
    SignerRelationship,
    accounting_floor,
)
from iop import when
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, ConsentFactory, EpisodeFactory, with_care_team
from tests.clock import at

pytestmark = pytest.mark.django_db

# The sentence 2.31(a)(4)(iii) (2024) requires, word for word.
REQUIRED_STATEMENT = (
    "may be redisclosed in accordance with the permissions contained in the HIPAA "
    "regulations, except for uses and disclosures for civil, criminal, administrative, "
    "and legislative proceedings against the patient"
)


def _today():
    return timezone.localdate()


def _years_ago(years: int, *, days: int = 0) -> date:
    today = _today()
    return today.replace(year=today.year - years, day=min(today.day, 28)) - timedelta(days=days)


@pytest.fixture
def chart(clinician):
    client = EpisodeFactory(admitted_on=_today() - timedelta(days=60)).client
    with_care_team(client, clinician)
    return client


def _tpo(client, actor, **overrides):
    fields = {
        "client": client,
        "actor": actor,
        "discloser": "Intensive Outpatient Program",
        "information_categories": ["all"],
        "information_description": "All records of this program",
        "recipient_type": RecipientType.TPO,
        "purpose": "Treatment, payment and health care operations",
        "expiry_event": END_OF_TREATMENT,
        "signed_by_name": client.legal_name,
        "signed_on": _today(),
    }
    fields.update(overrides)
    return services.consent_record(**fields)


def _consent_page(client, consent, web):
    response = web.get(
        reverse("clients:consent_detail", args=[client.public_id, consent.public_id])
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# --- Item 10: the TPO redisclosure statement (2.31(a)(4)(iii)) ---------------------------


def test_a_new_tpo_consent_carries_the_required_statement_word_for_word(
    chart, clinician, client_as
):
    consent = _tpo(chart, clinician)
    assert REQUIRED_STATEMENT in consent.tpo_redisclosure_statement
    assert consent.tpo_redisclosure_statement == TPO_REDISCLOSURE
    assert not consent.lacks_proceedings_exception
    body = _consent_page(chart, consent, client_as(clinician))
    assert REQUIRED_STATEMENT in body
    assert "earlier statement" not in body


def test_the_earlier_statement_lacked_the_exception():
    """Before: the text TPO consents carried until this change, with no exception."""
    assert "proceedings" not in TPO_REDISCLOSURE_V1


def test_a_consent_signed_with_the_earlier_statement_keeps_it_and_says_so(
    chart, clinician, client_as
):
    signed = ConsentFactory(
        client=chart,
        recipient_type=RecipientType.TPO,
        recipient_name="",
        information_categories=["all"],
        tpo_redisclosure_statement=TPO_REDISCLOSURE_V1,
        signed_on=_today() - timedelta(days=200),
    )
    _tpo(chart, clinician)  # a new consent does not rewrite the old one
    signed.refresh_from_db()
    assert signed.tpo_redisclosure_statement == TPO_REDISCLOSURE_V1
    body = _consent_page(chart, signed, client_as(clinician))
    assert TPO_REDISCLOSURE_V1 in body
    assert REQUIRED_STATEMENT not in body
    assert "Signed with the program's earlier statement, kept as signed" in body


# --- Item 11: the accounting of disclosures (2.25, 45 CFR 164.528(b)) --------------------


@pytest.mark.parametrize(
    ("requested", "floor"),
    [
        (date(2026, 12, 4), date(2023, 12, 4)),
        (date(2028, 2, 29), date(2025, 2, 28)),  # no 29 Feb three years before
        (date(2027, 3, 1), date(2024, 3, 1)),
    ],
)
def test_the_accounting_reaches_back_three_years_from_the_request(requested, floor):
    assert accounting_floor(requested) == floor


def _disclose(consent, actor, disclosed_on, description, **extra):
    return services.disclosure_record(
        client=consent.client,
        consent=consent,
        recipient_name=consent.recipient_name,
        information_categories=["attendance"],
        description=description,
        purpose=extra.pop("purpose", "Monthly monitoring report"),
        method="secure_email",
        disclosed_on=disclosed_on,
        actor=actor,
        **extra,
    )


@pytest.fixture
def dated_disclosures(chart, clinician):
    """A request made on Friday 4 Dec 2026, and disclosures either side of its bounds."""
    consent = ConsentFactory(client=chart, signed_on=date(2023, 1, 9), expires_on=date(2027, 1, 9))
    for day, text in [
        (date(2023, 12, 3), "3 Dec 2023: a day too old"),
        (date(2023, 12, 4), "4 Dec 2023: the first day of the 3 years"),
        (date(2025, 6, 15), "15 Jun 2025"),
        (date(2026, 12, 1), "1 Dec 2026"),
    ]:
        _disclose(consent, clinician, day, text)
    return consent


def test_dated_example_full_period_and_a_shorter_one_the_client_chose(chart, dated_disclosures):
    full = Disclosure.objects.for_accounting(chart, today=date(2026, 12, 4))
    assert [d.description for d in full] == [
        "1 Dec 2026",
        "15 Jun 2025",
        "4 Dec 2023: the first day of the 3 years",
    ]
    chosen = Disclosure.objects.for_accounting(
        chart, today=date(2026, 12, 4), since=date(2025, 1, 1)
    )
    assert [d.description for d in chosen] == ["1 Dec 2026", "15 Jun 2025"]
    # A period longer than the rule's is cut to the rule's.
    longer = Disclosure.objects.for_accounting(
        chart, today=date(2026, 12, 4), since=date(2020, 1, 1)
    )
    assert len(longer) == 3


def test_dated_example_through_the_page(
    chart, dated_disclosures, clinician, client_as, time_machine
):
    time_machine.move_to(at(date(2026, 12, 4), "10:00"), tick=False)
    web = client_as(clinician)
    url = reverse("clients:disclosures", args=[chart.public_id])

    body = web.get(url).content.decode()
    assert "disclosures from " + when.day(date(2023, 12, 4)) in body
    assert "(the 3 years before the request)" in body
    assert "4 Dec 2023: the first day" in body and "a day too old" not in body

    response = web.get(url, {"since": "2025-01-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "disclosures from " + when.day(date(2025, 1, 1)) in body
    assert "(the period the client chose)" in body
    assert "15 Jun 2025" in body and "4 Dec 2023" not in body


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("2023-12-03", "covers at most the 3 years before the request"),
        ("2026-12-05", "The period cannot start after today."),
        ("2026-02-30", "Enter a valid date."),
        ("9999-12-31", "The period cannot start after today."),
        ("0001-01-01", "covers at most the 3 years before the request"),
        ("x" * 10_000, "Enter a valid date."),
        ("2025-01-01\x00", "Enter a valid date."),
    ],
    ids=[
        "before-3-years",
        "tomorrow",
        "no-such-day",
        "calendar-end",
        "calendar-start",
        "long",
        "nul",
    ],
)
def test_a_bad_period_is_refused_with_a_message(
    chart, dated_disclosures, clinician, client_as, time_machine, since, message
):
    time_machine.move_to(at(date(2026, 12, 4), "10:00"), tick=False)
    response = client_as(clinician).get(
        reverse("clients:disclosures", args=[chart.public_id]), {"since": since}
    )
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())


def test_each_disclosure_records_its_purpose_and_the_recipients_address(
    chart, clinician, client_as
):
    consent = ConsentFactory(client=chart)
    web = client_as(clinician)
    form = {
        "consent": consent.public_id,
        "recipient_name": consent.recipient_name,
        "recipient_address": "PO Box 12, Boston MA 02101",
        "information_categories": ["attendance"],
        "description": "Attendance record, weeks 1-4",
        "purpose": "Return-to-practice monitoring report",
        "method": "mail",
        "disclosed_on": _today().isoformat(),
    }
    url = reverse("clients:disclosure_add", args=[chart.public_id])

    refused = web.post(url, {**form, "purpose": "  "})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert not Disclosure.objects.exists()

    assert web.post(url, form).status_code == 302
    disclosure = Disclosure.objects.get()
    assert disclosure.purpose == "Return-to-practice monitoring report"
    assert disclosure.recipient_address == "PO Box 12, Boston MA 02101"
    table = web.get(reverse("clients:disclosures", args=[chart.public_id])).content.decode()
    assert "PO Box 12, Boston MA 02101" in table
    assert "Return-to-practice monitoring report" in table


def test_the_service_refuses_a_disclosure_without_a_purpose(chart, clinician):
    consent = ConsentFactory(client=chart)
    with pytest.raises(ValidationError, match="Say briefly why it was disclosed"):
        _disclose(consent, clinician, _today(), "Letter", purpose="")
    assert not Disclosure.objects.exists()


def test_the_accounting_page_queries_do_not_grow_with_disclosures(
    chart, clinician, client_as, django_assert_max_num_queries
):
    consent = ConsentFactory(client=chart, signed_on=_years_ago(1))
    web = client_as(clinician)
    url = reverse("clients:disclosures", args=[chart.public_id])
    _disclose(consent, clinician, _today(), "first")
    with django_assert_max_num_queries(20) as few:
        web.get(url, {"since": _years_ago(1).isoformat()})
    for n in range(15):
        _disclose(consent, clinician, _today() - timedelta(days=n + 1), f"more {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(url, {"since": _years_ago(1).isoformat()})
    assert response.content.decode().count("more ") == 15


# --- Item 12: a minor's own signature (2.14) -----------------------------------------------


def _sixteen_year_old():
    """A client who turned 16 a hundred days ago."""
    return ClientFactory(date_of_birth=_years_ago(16, days=100))


def _named(client, actor, basis, **overrides):
    fields = {
        "client": client,
        "actor": actor,
        "discloser": "Intensive Outpatient Program",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "recipient_type": RecipientType.ORGANISATION,
        "recipient_name": "Riverside High School counsellor",
        "purpose": "Coordination of care with the school",
        "expires_on": _today() + timedelta(days=180),
        "signed_by_name": "Sam Rivera",
        "signer_relationship": basis,
        "signed_on": _today(),
    }
    fields.update(overrides)
    return services.consent_record(**fields)


@pytest.mark.parametrize(
    "basis",
    [SignerRelationship.GUARDIAN, SignerRelationship.MINOR_AND_GUARDIAN, SignerRelationship.SELF],
)
def test_where_minors_consent_alone_a_16_year_old_must_sign_alone(settings, clinician, basis):
    settings.IOP_MINORS_CONSENT_ALONE = 12
    minor = _sixteen_year_old()
    with pytest.raises(ValidationError, match=r"minor \(16 on .*42 CFR 2.14\(b\)"):
        _named(minor, clinician, basis)
    assert not Consent.objects.exists()
    consent = _named(minor, clinician, SignerRelationship.MINOR_ALONE)
    assert consent.signed_by_minor


def test_where_state_law_requires_a_parent_the_16_year_old_signs_with_one(settings, clinician):
    settings.IOP_MINORS_CONSENT_ALONE = None
    minor = _sixteen_year_old()
    with pytest.raises(ValidationError, match=r"42 CFR 2.14\(c\)"):
        _named(minor, clinician, SignerRelationship.MINOR_ALONE)
    assert _named(minor, clinician, SignerRelationship.MINOR_AND_GUARDIAN).signed_by_minor
    assert _named(minor, clinician, SignerRelationship.GUARDIAN, recipient_name="Dr Chen").pk


def test_a_minor_below_the_states_age_signs_with_a_parent(settings, clinician):
    settings.IOP_MINORS_CONSENT_ALONE = 17
    minor = _sixteen_year_old()
    with pytest.raises(ValidationError, match=r"2.14\(c\)"):
        _named(minor, clinician, SignerRelationship.MINOR_ALONE)
    assert _named(minor, clinician, SignerRelationship.MINOR_AND_GUARDIAN).pk


def test_age_is_taken_on_the_day_the_consent_was_signed(settings, clinician):
    """Signed at 17 (the day before the 18th birthday), recorded when 18."""
    settings.IOP_MINORS_CONSENT_ALONE = 12
    today = _today()
    client = ClientFactory(date_of_birth=_years_ago(18, days=10))
    eve = client.date_of_birth.replace(year=client.date_of_birth.year + 18) - timedelta(days=1)
    assert client.age_on(eve) == 17 and client.age_on(eve + timedelta(days=1)) == 18
    with pytest.raises(ValidationError, match=r"minor \(17 on"):
        _named(client, clinician, SignerRelationship.GUARDIAN, signed_on=eve)
    assert _named(client, clinician, SignerRelationship.MINOR_ALONE, signed_on=eve).pk
    with pytest.raises(ValidationError, match=r"an adult \(18 on"):
        _named(client, clinician, SignerRelationship.MINOR_ALONE, signed_on=today)


def test_an_adult_cannot_be_recorded_as_a_minor_or_under_a_guardian(clinician):
    adult = ClientFactory()
    for basis in (
        SignerRelationship.MINOR_ALONE,
        SignerRelationship.MINOR_AND_GUARDIAN,
        SignerRelationship.GUARDIAN,
    ):
        with pytest.raises(ValidationError, match="an adult"):
            _named(adult, clinician, basis)
    assert _named(adult, clinician, SignerRelationship.AUTHORISED).pk


def _consent_post(**overrides):
    data = {
        "recipient_type": "organisation",
        "recipient_name": "Riverside High School counsellor",
        "purpose": "Coordination of care with the school",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "discloser": "Intensive Outpatient Program",
        "expires_on": (_today() + timedelta(days=180)).isoformat(),
        "expiry_event": "",
        "revocation_statement": "Revoke in writing to the privacy officer.",
        "signed_by_name": "Pat Rivera (mother)",
        "signer_relationship": "guardian",
        "signed_on": _today().isoformat(),
        "signature_confirmed": "on",
    }
    data.update(overrides)
    return data


def test_the_consent_page_refuses_a_guardian_only_consent_for_a_16_year_old(
    settings, clinician, client_as
):
    settings.IOP_MINORS_CONSENT_ALONE = 12
    minor = _sixteen_year_old()
    EpisodeFactory(client=minor)
    with_care_team(minor, clinician)
    web = client_as(clinician)
    url = reverse("clients:consent_add", args=[minor.public_id])

    form_page = web.get(url).content.decode()
    assert "only the minor signs (42 CFR 2.14(b))" in form_page

    refused = web.post(url, _consent_post())
    assert refused.status_code == 400
    assert "requires the minor&#x27;s own signature" in refused.content.decode()
    assert not Consent.objects.exists()

    accepted = web.post(
        url, _consent_post(signer_relationship="minor_alone", signed_by_name="Sam Rivera")
    )
    assert accepted.status_code == 302
    consent = Consent.objects.get()
    body = _consent_page(minor, consent, web)
    assert "Sam Rivera (The client, a minor consenting alone under state law)" in body


# --- Access: every role against the changed page and form ---------------------------------


@pytest.fixture
def people(clinician, supervisor, admin_user, intake_user, other_clinician, medical_user):
    return {
        "primary clinician": clinician,
        "supervisor of the clinician": supervisor,
        "admin": admin_user,
        "intake off the team": intake_user,
        "clinician off the team": other_clinician,
        "medical off the team": medical_user,
    }


# Who may read the accounting (CHART) and record a consent (EDIT): the README's table.
READS = {"primary clinician", "supervisor of the clinician", "admin"}
WRITES = {"primary clinician", "admin"}


def test_only_those_with_a_reason_reach_the_accounting_and_the_consent_form(
    chart, people, client, settings
):
    settings.IOP_MINORS_CONSENT_ALONE = 12
    accounting = reverse("clients:disclosures", args=[chart.public_id])
    consent_add = reverse("clients:consent_add", args=[chart.public_id])
    for name, user in people.items():
        client.force_login(user)
        before = AuditEvent.objects.count()
        read = client.get(accounting, {"since": _years_ago(1).isoformat()})
        posted = client.post(
            consent_add, _consent_post(signer_relationship="self", signed_by_name="X Y")
        )
        assert read.status_code == (200 if name in READS else 404), name
        assert posted.status_code == (302 if name in WRITES else 404), name
        rows = list(AuditEvent.objects.order_by("id")[before:])
        denied = [r for r in rows if r.outcome == "denied"]
        expected_denied = (name not in READS) + (name not in WRITES)
        assert len(denied) == expected_denied, name
        client.logout()
    # Only the two allowed posts saved a consent (the second is the first's double submit
    # only when by the same person: two writers, two consents).
    assert Consent.objects.filter(client=chart).count() == len(WRITES)

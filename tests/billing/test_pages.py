"""Coverage, diagnoses and authorizations through their pages as the billing role: what
is saved, and bad input (overlap, unknown code, end before start, 10,000 characters,
NUL, end-of-calendar dates, a double submit) answered with a message, 4xx, nothing
half-saved."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from billing import icd
from billing.models import Authorization, Coverage, Diagnosis
from clients.models import Client
from iop.audit.models import AuditEvent
from tests.billing import factories as f
from tests.clients.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

TODAY = date.today()


@pytest.fixture
def client_(db):
    return EpisodeFactory().client


@pytest.fixture
def web(client_as, billing_user):
    return client_as(billing_user)


def _coverage_form(p, **over):
    data = {
        "payer": p.pk,
        "order": 1,
        "member_id": "XYZ123",
        "group_number": "G1",
        "relationship": "18",
        "effective_on": (TODAY - timedelta(days=30)).isoformat(),
        "ends_on": "",
        "verified_on": TODAY.isoformat(),
        "verified_how": "portal",
    }
    data.update(over)
    return data


def test_coverage_added_and_shown_on_the_billing_page(web, client_, billing_user):
    payer = f.payer()
    url = reverse("billing:coverage_add", args=[client_.public_id])
    response = web.post(url, _coverage_form(payer))
    assert response.status_code == 302
    coverage = Coverage.objects.get(client=client_)
    assert (coverage.member_id, coverage.verified_by, coverage.created_by) == (
        "XYZ123",
        billing_user,
        billing_user,
    )
    assert AuditEvent.objects.filter(action="billing.coverage.add", outcome="allowed").count() == 1
    page = web.get(reverse("billing:client", args=[client_.public_id])).content.decode()
    assert "XYZ123" in page and "Test Health" in page
    # The same form posted again (a double click): one coverage, a message.
    again = web.post(url, _coverage_form(payer), follow=True)
    assert Coverage.objects.filter(client=client_).count() == 1
    assert "already recorded" in again.content.decode()


def test_overlapping_coverage_in_the_same_order_is_refused_with_a_message(
    web, client_, billing_user
):
    payer, other = f.payer(), f.payer("TEST-MCD", "Test Medicaid", "MC")
    f.coverage(client_, payer, billing_user, effective_on=TODAY - timedelta(days=100))
    url = reverse("billing:coverage_add", args=[client_.public_id])
    response = web.post(
        url, _coverage_form(other, member_id="OTHER", effective_on=TODAY.isoformat())
    )
    assert response.status_code == 400
    assert "overlap" in response.content.decode()
    assert Coverage.objects.filter(client=client_).count() == 1
    # As secondary it is fine; and once the first one ends, a new primary may follow.
    assert web.post(url, _coverage_form(other, member_id="SEC", order=2)).status_code == 302
    first = Coverage.objects.get(client=client_, order=1)
    end = reverse("billing:coverage_end", args=[client_.public_id, first.public_id])
    assert web.post(end, {"ends_on": (TODAY - timedelta(days=1)).isoformat()}).status_code == 302
    response = web.post(url, _coverage_form(other, member_id="NEW", effective_on=TODAY.isoformat()))
    assert response.status_code == 302
    assert Coverage.objects.filter(client=client_, order=1).count() == 2


def test_coverage_ending_before_it_starts_or_without_a_subscriber_is_refused(web, client_):
    payer = f.payer()
    url = reverse("billing:coverage_add", args=[client_.public_id])
    response = web.post(
        url, _coverage_form(payer, ends_on=(TODAY - timedelta(days=60)).isoformat())
    )
    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    response = web.post(url, _coverage_form(payer, relationship="01"))
    assert response.status_code == 400
    assert "not the subscriber" in response.content.decode()
    assert not Coverage.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"member_id": "x" * 10_000},
        {"member_id": "A\x00B"},
        {"effective_on": "9999-12-31"},
        {"effective_on": "0001-01-01"},
        {"ends_on": "9999-12-31"},
        {"subscriber_dob": "0001-01-01", "relationship": "19"},
        {"payer": "999999"},
    ],
)
def test_hostile_coverage_input_is_a_message_and_nothing_saved(web, client_, bad):
    payer = f.payer()
    response = web.post(
        reverse("billing:coverage_add", args=[client_.public_id]), _coverage_form(payer, **bad)
    )
    assert response.status_code == 400
    assert not Coverage.objects.exists()


def test_diagnosis_validated_against_icd10cm_substance_use_codes_first(web, client_):
    url = reverse("billing:diagnosis_add", args=[client_.public_id])
    page = web.get(url).content.decode()
    # Offered with no search: the substance-use codes (F10-F19), F10.10 the first.
    listed = page[page.index('data-testid="icd-results"') :]
    assert listed.index("F10.10") < listed.index("F10.20")
    assert "F32" not in listed
    found = web.get(url, {"q": "opioid dependence remission"}).content.decode()
    assert "F11.21" in found
    # In any search the substance-use codes come before every other code.
    codes = [code for code, _ in icd.search("in remission", limit=500)]
    substance = [n for n, code in enumerate(codes) if code[:3] in icd.SUBSTANCE_PREFIXES]
    others = [n for n, code in enumerate(codes) if code[:3] not in icd.SUBSTANCE_PREFIXES]
    assert substance and others and max(substance) < min(others)
    episode = client_.episodes.get()
    for code, message in (
        ("F10.2", "is a category"),
        ("Z99.999", "not an ICD-10-CM code"),
        ("hello", "looks like F10.20"),
        ("F10\x00", "null character"),
    ):
        response = web.post(url, {"episode": episode.pk, "code": code, "principal": "on"})
        assert response.status_code == 400, code
        assert message in response.content.decode(), code
    assert not Diagnosis.objects.exists()
    assert (
        web.post(url, {"episode": episode.pk, "code": "f1020", "principal": "on"}).status_code
        == 302
    )
    diagnosis = Diagnosis.objects.get()
    assert (diagnosis.code, diagnosis.description, diagnosis.principal) == (
        "F10.20",
        "Alcohol dependence, uncomplicated",
        True,
    )
    # A second principal takes over: one current principal per episode.
    assert (
        web.post(url, {"episode": episode.pk, "code": "F11.20", "principal": "on"}).status_code
        == 302
    )
    current = Diagnosis.objects.filter(episode=episode, removed_on__isnull=True)
    assert list(current.filter(principal=True).values_list("code", flat=True)) == ["F11.20"]
    # Removed, not deleted; a second click changes nothing.
    remove = reverse("billing:diagnosis_remove", args=[client_.public_id, diagnosis.public_id])
    assert web.post(remove).status_code == 302
    assert web.post(remove).status_code == 302
    diagnosis.refresh_from_db()
    assert diagnosis.removed_on == TODAY
    assert AuditEvent.objects.filter(action="billing.diagnosis.remove").count() == 1


def _auth_form(payer, **over):
    data = {
        "payer": payer.pk,
        "service_code": "h0015",
        "units_approved": 24,
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=56)).isoformat(),
        "reference": "PA-2026-1",
    }
    data.update(over)
    return data


def test_authorization_add_edit_and_units_used_and_left(web, client_, billing_user):
    payer = f.payer()
    url = reverse("billing:authorization_add", args=[client_.public_id])
    assert web.post(url, _auth_form(payer)).status_code == 302
    assert web.post(url, _auth_form(payer)).status_code == 302  # a double submit
    auth = Authorization.objects.get()
    assert auth.service_code == "H0015"
    f.charges(client_, auth, [TODAY - timedelta(days=n) for n in range(5)])
    page = web.get(reverse("billing:client", args=[client_.public_id])).content.decode()
    assert (
        '<td class="text-end">24</td><td class="text-end">5</td><td class="text-end">19</td>'
        in page
    )
    edit = reverse("billing:authorization_edit", args=[client_.public_id, auth.public_id])
    # Fewer units than already charged: refused.
    response = web.post(edit, _auth_form(payer, units_approved=4))
    assert response.status_code == 400
    assert "5 units are already charged" in response.content.decode()
    assert web.post(edit, _auth_form(payer, units_approved=30)).status_code == 302
    auth.refresh_from_db()
    assert auth.units_approved == 30


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "cannot end before it starts"),
        ({"units_approved": 0}, ""),
        ({"units_approved": "9" * 40}, ""),
        ({"reference": "x" * 10_000}, ""),
        ({"reference": "A\x00"}, ""),
        ({"service_code": "H00"}, "five letters or digits"),
        ({"starts_on": "0001-01-01"}, "too far in the past"),
        ({"ends_on": "9999-12-31"}, "too far ahead"),
    ],
)
def test_bad_authorization_input_is_a_message_and_nothing_saved(web, client_, bad, message):
    payer = f.payer()
    response = web.post(
        reverse("billing:authorization_add", args=[client_.public_id]), _auth_form(payer, **bad)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Authorization.objects.exists()


def test_client_page_query_count_does_not_grow(
    web, client_, billing_user, django_assert_max_num_queries
):
    payer = f.payer()
    url = reverse("billing:client", args=[client_.public_id])
    f.coverage(client_, payer, billing_user)
    auth = f.authorization(client_, payer, billing_user, units=100)
    f.charges(client_, auth, [TODAY - timedelta(days=n) for n in range(3)])
    web.get(url)
    with django_assert_max_num_queries(16) as few:
        web.get(url)
    for n in range(3, 30):
        f.charges(client_, auth, [TODAY - timedelta(days=n)])
    f.authorization(client_, payer, billing_user, units=5, code="90834")
    with django_assert_max_num_queries(len(few.captured_queries)):
        web.get(url)


def test_intake_records_coverage_as_a_step_and_the_chart_shows_it(client_as, intake_user):
    from clients import services
    from clients.intake import STEPS

    assert "coverage" in STEPS
    client = services.client_register(
        actor=intake_user,
        legal_first_name="Perpetua",
        legal_last_name="Hollowell",
        date_of_birth=date(1980, 1, 2),
        profession="nurse",
    )
    payer = f.payer()
    web = client_as(intake_user)
    url = reverse("billing:intake_coverage", args=[client.public_id])
    page = web.get(url)
    assert page.status_code == 200
    assert "Intake, step 2" in page.content.decode()
    response = web.post(url, _coverage_form(payer, verified_on="", verified_how=""))
    assert response.status_code == 302
    chart = web.get(reverse("clients:chart", args=[client.public_id])).content.decode()
    assert 'data-testid="section-coverage"' in chart and "XYZ123" in chart


def test_self_pay_is_the_coverage_step_done_without_a_coverage(client_as, intake_user):
    from clients import intake, services

    client = services.client_register(
        actor=intake_user,
        legal_first_name="Ambrose",
        legal_last_name="Kettleby",
        date_of_birth=date(1980, 1, 2),
        profession="nurse",
    )
    assert (
        intake.missing_step(intake.waiting(Client.objects.filter(pk=client.pk), TODAY).get()).key
        == "coverage"
    )
    web = client_as(intake_user)
    url = reverse("billing:intake_self_pay", args=[client.public_id])
    assert web.post(url).status_code == 302
    assert web.post(url).status_code == 302
    waiting = intake.waiting(Client.objects.filter(pk=client.pk), TODAY).get()
    assert intake.missing_step(waiting).key != "coverage"


def test_postgresql_refuses_an_overlap_that_skips_the_service(client_, billing_user):
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    payer = f.payer()
    f.coverage(client_, payer, billing_user, effective_on=TODAY - timedelta(days=10))
    with pytest.raises(IntegrityError), transaction.atomic():
        f.coverage(client_, payer, billing_user, effective_on=TODAY + timedelta(days=10))
    f.coverage(client_, payer, billing_user, effective_on=TODAY, order=2)  # secondary: fine

"""The claims pages: the list with its filters, the held-claims queue with its reasons and
"Check again", the build button; scoped through clients.access (Purpose.BILLING), with
query counts that do not grow with the claims."""

from datetime import date

import pytest
from django.urls import reverse

from billing.models import Claim
from billing.services.charges import build_charges
from billing.services.claims import build_claims
from clients.models import RecipientType
from iop.audit.models import AuditEvent
from tests.billing.claims_builders import (
    NOVEMBER,
    TODAY,
    attended_days,
    billing_provider,
    covered_client,
    payer,
    staff,
    weekdays,
)
from tests.clients.factories import ConsentFactory
from tests.clock import at
from tests.iop.factories import UserFactory

END = date(2026, 11, 30)


@pytest.fixture
def biller(db, time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)
    billing_provider()
    return UserFactory(username="bill", roles=["billing"])


def _claims(n_held, n_ready=1):
    acme = payer()
    thera = staff("thera")
    held = [covered_client(acme, consent=False) for _ in range(n_held)]
    ready = [covered_client(acme) for _ in range(n_ready)]
    attended_days(held + ready, weekdays(date(2026, 11, 2), 3), author=thera)
    build_charges(since=NOVEMBER, through=END)
    build_claims(through=END)
    return held, ready


def test_the_held_queue_shows_each_claim_with_what_to_fix(biller, client_as):
    held, _ = _claims(1)

    page = client_as(biller).get(reverse("billing:claims_held"))

    text = page.content.decode()
    assert page.status_code == 200
    claim = Claim.objects.get(status="held")
    assert claim.number in text and held[0].display_name in text
    assert "Part 2 consent" in text
    assert "No consent on file lets the program disclose to Acme Health" in text
    assert "Check again" in text
    # The ready claim is not in the queue.
    assert Claim.objects.get(status="ready").number not in text


def test_check_again_releases_a_fixed_claim(biller, client_as):
    held, _ = _claims(1)
    claim = Claim.objects.get(status="held")
    ConsentFactory(
        client=held[0],
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Acme Health",
        information_categories=["all"],
    )

    response = client_as(biller).post(
        reverse("billing:claim_check", args=[claim.public_id]), follow=True
    )

    claim.refresh_from_db()
    assert claim.status == "ready"
    text = response.content.decode()
    assert f"Claim {claim.number} passes every check: it is ready." in text
    assert "No claim is held." in text


def test_check_again_still_held_says_why(biller, client_as):
    _claims(1)
    claim = Claim.objects.get(status="held")

    response = client_as(biller).post(
        reverse("billing:claim_check", args=[claim.public_id]), follow=True
    )

    assert f"Claim {claim.number} is still held" in response.content.decode()


def test_a_clinician_cannot_check_a_claim_and_the_attempt_is_audited(biller, client_as):
    _claims(1)
    claim = Claim.objects.get(status="held")
    clinician = UserFactory(username="cleo", roles=["clinician"])

    response = client_as(clinician).post(reverse("billing:claim_check", args=[claim.public_id]))

    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=clinician, outcome="denied").exists()
    claim.refresh_from_db()
    assert claim.status == "held"


@pytest.mark.parametrize("name", ["billing:claims", "billing:claims_held"])
def test_the_claims_pages_are_for_billing_and_admins(biller, client_as, name):
    clinician = UserFactory(username="cleo", roles=["clinician"])
    assert client_as(clinician).get(reverse(name)).status_code == 403


def test_the_list_filters_by_status_and_payer(biller, client_as):
    _claims(1, 2)
    web = client_as(biller)

    everything = web.get(reverse("billing:claims")).content.decode()
    ready = web.get(reverse("billing:claims"), {"status": "ready", "payer": "ACME"})
    other = web.get(reverse("billing:claims"), {"status": "held", "payer": "ACME"})

    assert everything.count('data-testid="claim-row"') == 3
    assert ready.content.decode().count('data-testid="claim-row"') == 2
    assert other.content.decode().count('data-testid="claim-row"') == 1


def test_a_bad_filter_is_a_clear_400(biller, client_as):
    response = client_as(biller).get(reverse("billing:claims"), {"status": "lost"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("name", ["billing:claims", "billing:claims_held"])
def test_query_counts_do_not_grow_with_the_claims(
    biller, client_as, django_assert_max_num_queries, name
):
    _claims(2, 2)
    web = client_as(biller)
    web.get(reverse(name))  # warm the session and caches
    with django_assert_max_num_queries(14) as few:
        web.get(reverse(name))
    _claims_more = [covered_client(payer(), consent=False) for _ in range(6)]
    attended_days(_claims_more, [date(2026, 11, 16)], author=staff("thera"))
    build_charges(since=NOVEMBER, through=END)
    build_claims(through=END)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = web.get(reverse(name))
    assert page.content.decode().count('data-testid="claim-row"') >= 8


def test_the_build_button_queues_the_build_and_is_audited(biller, client_as):
    response = client_as(biller).post(reverse("billing:claims_build"), follow=True)

    assert "being built in the background" in response.content.decode()
    assert AuditEvent.objects.filter(action="claims.build", actor=biller).exists()

"""Billing's demo seeder: payers, coverage, diagnoses, authorizations, NPIs, last month's
claims built (one held for want of consent, one authorization near its limit); twice
is once."""

import io
from datetime import date, timedelta

import pytest

from billing import demo
from billing.models import Authorization, Charge, Claim, Coverage, Diagnosis, Fee, Payer
from clients.models import Client
from tests.billing.claims_builders import TODAY, attended_days, tpo_consent, weekdays
from tests.clients.factories import ConsentFactory, EpisodeFactory
from tests.clock import at
from tests.iop.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_clients(time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)
    UserFactory(username="admin", roles=["admin"])
    UserFactory(username="intake", roles=["intake"])
    clinician = UserFactory(username="clinician", roles=["clinician"])
    clients = []
    for n in range(4):
        episode = EpisodeFactory(admitted_on=date(2026, 10, 1))
        client = episode.client
        Client.objects.filter(pk=client.pk).update(mrn=f"D{1000 + n}")
        client.refresh_from_db()
        tpo_consent(client)
        ConsentFactory(client=client)  # the monitoring programme's
        clients.append(client)
    attended_days(clients, weekdays(date(2026, 11, 2), 12), author=clinician)
    return clients, clinician


def test_the_demo_bills_last_month_once(demo_clients):
    clients, clinician = demo_clients
    out = io.StringIO()

    demo.seed(stdout=out)
    counts = [
        m.objects.count() for m in (Payer, Fee, Coverage, Diagnosis, Authorization, Charge, Claim)
    ]
    demo.seed(stdout=io.StringIO())

    assert [
        m.objects.count() for m in (Payer, Fee, Coverage, Diagnosis, Authorization, Charge, Claim)
    ] == counts
    assert set(Payer.objects.values_list("code", flat=True)) == {"DEMO-COMM", "DEMO-MCD"}
    # D1002 stays self-pay; the others are covered, diagnosed and authorized.
    assert not Coverage.objects.filter(client__mrn="D1002").exists()
    assert Coverage.objects.count() == 3
    claims = Claim.objects.filter(period_start=date(2026, 11, 1))
    assert claims.count() == 3
    held = claims.get(status="held")
    assert [r["code"] for r in held.hold_reasons] == ["consent"]
    assert "TPO consent" in held.hold_reasons[0]["message"]
    assert claims.filter(status="ready").count() == 2
    near = [
        a
        for a in Authorization.objects.all()
        if a.charges.count() >= 0.8 * a.units_approved and a.client_id != held.client_id
    ]
    assert len(near) == 1
    assert "near its authorization's limit" in out.getvalue()
    clinician.refresh_from_db()
    assert len(clinician.npi) == 10
    assert TODAY - timedelta(days=1) >= Charge.objects.latest("service_date").service_date

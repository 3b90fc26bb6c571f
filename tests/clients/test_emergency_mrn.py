"""Issue 18 #9: break the glass takes every MRN format the app issues (the demo's
D1000-D1039 among them), and answers a wrong MRN exactly as it answers a refused reason."""

import re

import pytest
from django.urls import reverse

from clients.models import MRN_FORMAT_MESSAGE, Client, EmergencyAccess, _new_mrn, normalize_mrn
from iop.audit.models import AuditEvent
from iop.forms import NUL_MESSAGE
from tests.clients.factories import ClientFactory, with_care_team
from tooling import scale

pytestmark = pytest.mark.django_db

REASON = "Client collapsed in the lobby; paramedics ask about medications."
URL = "clients:emergency_access"


@pytest.fixture
def demo_client(clinician):
    """A client with a demo MRN, as seed_demo issues them (clients/demo.py)."""
    client = ClientFactory(status="active", legal_last_name="Demo")
    with_care_team(client, clinician)
    Client.objects.filter(pk=client.pk).update(mrn="D1003")
    client.refresh_from_db()
    return client


def _glass(web, mrn, reason=REASON):
    return web.post(reverse(URL), {"mrn": mrn, "reason": reason})


def test_every_format_the_app_issues_is_an_mrn():
    issued = [_new_mrn() for _ in range(200)]
    issued += [f"D{1000 + i}" for i in range(40)]  # seed_demo
    issued += [f"{scale.MRN_PREFIX}{n:07d}" for n in (1, 20_000, 9_999_999)]  # seed_scale
    assert all(normalize_mrn(mrn) == mrn for mrn in issued)
    assert normalize_mrn("  d1003\n") == "D1003"
    assert normalize_mrn("s0000001") == "S0000001"
    not_issued = [
        "",
        "D12",
        "1234",
        "12345678",
        "X1003",
        "D1003 1",
        "D-1003",
        "１２３４５６７",
    ]
    for text in not_issued:
        assert normalize_mrn(text) is None, text


@pytest.mark.parametrize("typed", ["D1003", "d1003", "  D1003  "])
def test_a_demo_mrn_breaks_the_glass(typed, demo_client, other_clinician, client_as):
    response = _glass(client_as(other_clinician), typed)
    assert response.status_code == 302
    assert response.url == reverse("clients:chart", args=[demo_client.public_id])
    access = EmergencyAccess.objects.get()
    assert (access.client, access.staff) == (demo_client, other_clinician)
    assert AuditEvent.objects.filter(
        action="client.emergency_access", outcome="allowed", client_id=demo_client.public_id
    ).exists()


@pytest.mark.parametrize("mrn", ["4821907", "S0000042"])
def test_the_issued_and_seeded_formats_break_the_glass(mrn, clinician, other_clinician, client_as):
    client = ClientFactory(status="active")
    with_care_team(client, clinician)
    Client.objects.filter(pk=client.pk).update(mrn=mrn)
    assert _glass(client_as(other_clinician), mrn).status_code == 302
    assert EmergencyAccess.objects.get().client == client


def _answer(response, *typed):
    """The page as the person reads it: the CSRF token (masked anew on every render)
    taken out, and what they typed themselves (shown back in the form)."""
    body = re.sub(r"[A-Za-z0-9]{64}", "CSRF", response.content.decode())
    for text in typed:
        body = body.replace(text, "TYPED")
    return response.status_code, body


def test_an_unknown_mrn_and_a_refused_reason_get_the_same_answer(
    demo_client, other_clinician, client_as
):
    web = client_as(other_clinician)
    refused_reason = "help now"
    unknown = _glass(web, "D1099", REASON)
    refused = _glass(web, "D1003", refused_reason)
    assert unknown.status_code == refused.status_code == 400
    assert _answer(unknown, "D1099", REASON) == _answer(refused, "D1003", refused_reason)
    assert "Emergency access was not opened" in unknown.content.decode()
    assert unknown.context["form"].errors == refused.context["form"].errors
    # The same reason typed for an unknown MRN: only the MRN typed differs.
    same_reason = _glass(web, "D1099", refused_reason)
    assert _answer(same_reason, "D1099") == _answer(refused, "D1003")
    assert not EmergencyAccess.objects.exists()
    denied = AuditEvent.objects.filter(action="client.emergency_access", outcome="denied")
    assert denied.count() == 3
    assert denied.filter(client_id=demo_client.public_id).count() == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("D10\x0003", NUL_MESSAGE),
        ("D" * 10_000, "at most 12 characters"),
        ("D12", MRN_FORMAT_MESSAGE),
        ("1003; DROP", MRN_FORMAT_MESSAGE),
    ],
)
def test_a_malformed_mrn_is_told_so_with_a_400(
    typed, message, demo_client, other_clinician, client_as
):
    response = _glass(client_as(other_clinician), typed)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors["mrn"]), errors
    assert "Emergency access was not opened" in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    assert AuditEvent.objects.filter(action="client.emergency_access", outcome="denied").exists()

"""The X12 pages (issue 22): the 837P export as a download from the claims export page
(audited, scoped through Purpose.BILLING), a batch downloaded again, the 835 upload
(bad files: a message and 400, nothing saved) and the denials queue in words."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import Batch, Claim, ClaimStatus, Remittance
from clients.models import Episode
from iop.audit.models import AuditEvent
from tests.billing.claims_builders import TODAY, billing_provider, covered_client, payer
from tests.billing.test_x12_remittance import answer, remit
from tests.billing.x12_builders import NOV, ready_claim, with_address
from tests.billing.x12valid import validate
from tests.clock import at
from tests.iop.factories import UserFactory

EXPORT = reverse("billing:claims_export")
REMITTANCES = reverse("billing:remittances")
DENIALS = reverse("billing:denials")


@pytest.fixture
def biller(db, time_machine, client_as):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)
    provider = billing_provider()
    provider.phone = "6175550100"
    provider.save()
    return client_as(UserFactory(username="biller", roles=["billing"]))


def post_export(web, code="ACME", through="2026-11-30"):
    return web.post(EXPORT, {"payer": code, "through": through})


def test_export_page_downloads_the_batch_and_a_second_export_gives_nothing(biller):
    acme = payer()
    claim = ready_claim(acme, days=NOV)
    page = biller.get(EXPORT)
    assert page.status_code == 200
    assert b"Acme Health (ACME)" in page.content and b"630.00" in page.content

    response = post_export(biller)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="837P-ACME-000000001.x12"'
    content = response.content.decode("ascii")
    assert validate(content) == []
    assert f"CLM*{claim.number}*630*" in content
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    event = AuditEvent.objects.get(action="billing.export")
    assert event.actor.username == "biller"

    again = post_export(biller)
    assert again.status_code == 302
    follow = biller.get(EXPORT)
    assert b"No ready claim to export: nothing new was written." in follow.content
    assert Batch.objects.count() == 1

    resent = biller.post(reverse("billing:batch_resend", args=[1]))
    assert resent.content == response.content
    assert AuditEvent.objects.filter(action="billing.resend").count() == 1


def test_export_leaves_out_clients_beyond_the_billing_reach(biller):
    acme = payer()
    kept = ready_claim(acme, days=NOV)
    old = with_address(covered_client(acme, admitted_on=date(2019, 1, 2)))
    gone = ready_claim(acme, client=old, days=NOV)
    Episode.objects.filter(client=old).update(discharged_on=date(2020, 1, 31))
    response = post_export(biller)
    assert kept.number in response.content.decode()
    assert gone.number not in response.content.decode()
    assert Claim.objects.get(pk=gone.pk).status == ClaimStatus.READY


@pytest.mark.parametrize(
    "data",
    [{"payer": "NOPE", "through": "2026-11-30"}, {"payer": "ACME", "through": "0001-01-01"}],
)
def test_export_page_bad_input_is_400_with_a_message(biller, data):
    payer()
    response = biller.post(EXPORT, data)
    assert response.status_code == 400
    assert b"invalid-feedback" in response.content or b"alert" in response.content
    assert Batch.objects.count() == 0


def test_export_pages_are_for_billing_staff_only(db, client_as):
    web = client_as(UserFactory(username="thera2", roles=["clinician"]))
    for url in (EXPORT, REMITTANCES, DENIALS):
        assert web.get(url).status_code == 403


def upload(web, content, name="era.835", **extra):
    data = content if isinstance(content, bytes) else content.encode()
    return web.post(REMITTANCES, {"file": SimpleUploadedFile(name, data), **extra})


def test_upload_posts_a_remittance_and_the_denials_queue_says_why(
    biller, django_assert_max_num_queries
):
    acme = payer()
    first = ready_claim(acme, days=NOV)
    post_export(biller)
    content = remit(
        [
            answer(
                first,
                [
                    ("210", [], []),
                    ("180", [("CO", "45", "30")], []),
                    ("0", [("CO", "197", "210")], ["N54"]),
                ],
            )
        ]
    )
    response = upload(biller, content)
    assert response.status_code == 302
    page = biller.get(REMITTANCES)
    assert b"1 claims posted, 390.00 paid" in page.content
    assert b"EFT-1001" in page.content

    with django_assert_max_num_queries(12):
        queue = biller.get(DENIALS)
    text = queue.content.decode()
    assert first.number in text and first.client.display_name in text
    assert "CO-197: Precertification/authorization/notification/pre-treatment absent." in text
    assert "N54: Claim information is inconsistent with pre-certified/authorized services." in text

    again = upload(biller, content, name="again.835")
    assert again.status_code == 302
    assert b"already imported" in biller.get(REMITTANCES).content
    assert Remittance.objects.count() == 1


def test_denials_queue_query_count_does_not_grow(biller, django_assert_max_num_queries):
    acme = payer()
    for _ in range(3):
        claim = ready_claim(acme, days=NOV)
        Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.DENIED)
        claim.lines.update(status="denied")
    with django_assert_max_num_queries(12):
        response = biller.get(DENIALS)
    assert response.content.decode().count("No reason code given.") == 9


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary data"),
        (b"ISA*" + b"\x00" * 200, "binary data"),
        (b"x" * (10 * 1024 * 1024), "larger than 5 MB"),
        (b"hello, world", "does not begin with an ISA"),
    ],
    ids=["empty", "binary", "nul", "10 MB", "text"],
)
def test_upload_bad_files_answer_400_with_a_message(biller, content, message):
    payer()
    response = upload(biller, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Remittance.objects.count() == 0


def test_upload_for_another_payer_saves_nothing(biller):
    acme = payer()
    payer("OTHER", "Other Health")
    first = ready_claim(acme, days=NOV)
    post_export(biller)
    content = remit([answer(first, [("210", [], [])] * 3)])
    response = upload(biller, content, payer="OTHER")
    assert response.status_code == 400
    assert "is from Acme Health, not Other Health" in response.content.decode()
    assert Remittance.objects.count() == 0
    first.refresh_from_db()
    assert first.status == ClaimStatus.SUBMITTED
    assert sum(first.lines.values_list("paid", flat=True)) == Decimal("0")

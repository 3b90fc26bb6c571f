"""The portal's foundation: client accounts apart from staff, one-time links, the
session's limits, and the audit of each page as the client's own access."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from iop.notifications.models import OutboxMessage
from portal import session
from portal.models import SignInToken
from tests.portal.fixtures import link_path, printed_link

pytestmark = pytest.mark.django_db

FAILED = "This link cannot be used"


def test_portal_link_prints_a_one_time_url_that_signs_the_client_in(portal_client, client):
    url = printed_link(portal_client.mrn)
    assert url.startswith("http") and "/my/sign-in/" in url
    assert portal_client.mrn not in url and "Rosalind" not in url
    # Only a hash is stored: the raw token appears nowhere in the table.
    raw = link_path(url).rstrip("/").rsplit("/", 1)[1]
    assert not SignInToken.objects.filter(token_hash=raw).exists()
    # Opening the link only offers a button: a mail scanner's GET uses nothing up.
    page = client.get(link_path(url))
    assert page.status_code == 200 and b"Continue" in page.content
    assert SignInToken.objects.get().used_at is None
    response = client.post(link_path(url))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert "Rosalind" in home.content.decode()
    # The same link a second time: refused, like any other bad link.
    again = WebClient().post(link_path(url))
    assert again.status_code == 400 and FAILED in again.content.decode()


def test_portal_link_refuses_a_client_without_access_and_an_unknown_mrn(db):
    from tests.clients.factories import ClientFactory

    plain = ClientFactory()
    with pytest.raises(CommandError, match="no portal access"):
        call_command("portal_link", mrn=plain.mrn)
    with pytest.raises(CommandError, match="No client has that MRN"):
        call_command("portal_link", mrn="D9999")
    call_command("portal_link", mrn=plain.mrn, enable=True)  # gives access, then a link
    assert plain.portal_account.enabled


def test_the_page_title_is_neutral_unless_the_client_chose_to_name_the_program(
    portal_client, portal_as, settings
):
    web = portal_as(portal_client)
    html = web.get(reverse("portal:home")).content.decode()
    assert settings.IOP_PROGRAM_NAME not in html
    assert "<title>Home</title>" in html
    assert "IOP" not in html
    portal_client.reminder_may_name_program = True
    portal_client.save()
    html = web.get(reverse("portal:home")).content.decode()
    assert f"<title>Home · {settings.IOP_PROGRAM_NAME}</title>" in html


def test_a_staff_session_gets_404_on_every_portal_page(client_as, clinician, portal_client):
    web = client_as(clinician)
    for name in ("portal:home", "portal:sign_in", "portal:verify", "portal:session_status"):
        assert web.get(reverse(name)).status_code == 404, name
    assert web.post(reverse("portal:sign_out")).status_code == 404


def test_a_staff_session_cannot_use_a_clients_link(client_as, clinician, portal_client, link_for):
    web = client_as(clinician)
    assert web.post(link_for(portal_client)).status_code == 404
    assert SignInToken.objects.filter(used_at__isnull=True).count() == 1


def test_a_portal_session_gets_404_on_staff_pages_not_the_staff_sign_in(portal_client, portal_as):
    web = portal_as(portal_client)
    for path in ("/", "/accounts/login/", "/clients/", "/admin/", "/audit/", "/no/such/page/"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert "/accounts/login" not in response.content.decode()
        assert "IOP Clinic" not in response.content.decode()


def test_nobody_signed_in_is_sent_to_the_portal_sign_in(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in")


def test_idle_sign_out_as_for_staff(portal_client, portal_as, settings):
    web = portal_as(portal_client)
    assert web.get(reverse("portal:home")).status_code == 200
    later = time.time() + settings.IOP_IDLE_TIMEOUT_MINUTES * 60 + 5
    with time_machine.travel(later, tick=False):
        response = web.get(reverse("portal:home"))
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:sign_in")
        page = web.get(response["Location"]).content.decode()
    assert "signed out after" in page
    assert session.ACCOUNT not in web.session


def test_an_account_turned_off_ends_its_session(portal_client, portal_as):
    from portal.services import account_disable

    web = portal_as(portal_client)
    account_disable(account=portal_client.portal_account, actor=None)
    response = web.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in")


def test_each_portal_page_is_audited_as_the_clients_own_access(portal_client, portal_as):
    web = portal_as(portal_client)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    web.get(reverse("portal:home"))
    row = AuditEvent.objects.get(id__gt=before)
    assert (row.action, row.outcome, row.actor_id) == ("portal.home", "allowed", None)
    assert row.actor_username == f"client:{portal_client.public_id}"
    assert row.client_id == portal_client.public_id
    assert row.ip_address == "127.0.0.1"
    sign_in = AuditEvent.objects.get(action="portal.sign_in")
    assert sign_in.actor_username == f"client:{portal_client.public_id}"


def test_sign_out_ends_the_portal_session(portal_client, portal_as):
    web = portal_as(portal_client)
    response = web.post(reverse("portal:sign_out"))
    assert response["Location"] == reverse("portal:sign_in")
    assert web.get(reverse("portal:home")).status_code == 302


def test_the_sign_in_link_message_is_neutral_and_keeps_no_live_link(portal_client, client):
    from iop.notifications.services import outbox_sweep

    response = client.post(reverse("portal:sign_in"), {"address": portal_client.email.upper()})
    assert response.status_code == 200
    message = OutboxMessage.objects.get(template="portal_sign_in")
    assert message.recipient == portal_client.email and message.channel == "email"
    for word in ("Rosalind", "Vantongeren", portal_client.mrn, "IOP", "Harbor"):
        assert word not in message.body + message.subject
    path = link_path(message.body)
    outbox_sweep(now=timezone.now() + timedelta(seconds=1))
    message.refresh_from_db()
    assert message.status == "sent"
    assert path not in message.body and "/my/sign-in/[used]/" in message.body
    # The link itself still works once: the client has it, the outbox does not.
    assert client.post(path).status_code == 302


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_link_message_has_no_forbidden_word(channel):
    """The reminders' list of words a lock screen must not show (tests/scheduling)."""
    import re

    from django.template.loader import render_to_string

    from tests.scheduling.test_reminders import FORBIDDEN

    context = {"url": "https://example.org/my/sign-in/abc/", "minutes": 15}
    text = render_to_string("notifications/portal_sign_in/subject.txt", context)
    text += render_to_string(f"notifications/portal_sign_in/{channel}.txt", context)
    text = text.replace(context["url"], "")
    words = set(re.findall(r"[a-z]+", text.lower()))
    assert [word for word in FORBIDDEN if word in words] == []
    assert "15 minutes" in text


def test_an_unknown_portal_address_gets_the_portals_own_404(portal_client, portal_as, client):
    for web in (client, portal_as(portal_client)):
        response = web.get("/my/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "IOP Clinic" not in html and "dashboard" not in html


def test_a_signed_in_client_asking_for_the_sign_in_page_goes_home(portal_client, portal_as):
    response = portal_as(portal_client).get(reverse("portal:sign_in"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")

"""The staff page of one client's portal access (reached from the chart): give it, take
it away (the client is signed out), send a sign-in link by the consented channel, show
a one-time link to hand over; only to those who edit the record, audited."""

from datetime import date

import pytest
from django.test import Client as WebClient
from django.urls import reverse

from clients import services as client_services
from clients.models import CareTeamRole
from iop.audit.models import AuditEvent
from iop.notifications.models import OutboxMessage
from portal import services
from portal.models import ClientAccount, ClientAuthenticator
from tests.portal.fixtures import link_path

pytestmark = pytest.mark.django_db


def _page(client):
    return reverse("portal_access:access", args=[client.public_id])


@pytest.fixture
def newcomer(db, intake_user):
    """A client intake registered (so on intake's care team), without portal access,
    who agreed to email reminders."""
    return client_services.client_register(
        actor=intake_user,
        legal_first_name="Philippa",
        legal_last_name="Ashdown",
        date_of_birth=date(1984, 3, 9),
        profession="nurse",
        email="philippa@example.org",
        reminder_channel="email",
        reminder_consent=True,
    )


@pytest.fixture
def member(newcomer, intake_user):
    """The same client with portal access."""
    services.account_enable(client=newcomer, actor=intake_user)
    return newcomer


def test_intake_gives_access_once_however_often_the_button_is_pressed(
    newcomer, client_as, intake_user
):
    web = client_as(intake_user)
    chart = web.get(reverse("clients:chart", args=[newcomer.public_id])).content.decode()
    assert f'href="{_page(newcomer)}"' in chart  # the chart's "Portal access" link
    page = web.get(_page(newcomer)).content.decode()
    assert "never had portal access" in page and "Give portal access" in page
    first = web.post(_page(newcomer), {"action": "give"})
    assert first.status_code == 302 and first["Location"] == _page(newcomer)
    page = web.get(_page(newcomer)).content.decode()
    assert "Portal access given" in page and "Has portal access" in page
    again = web.post(_page(newcomer), {"action": "give"}, follow=True)
    assert "already has portal access" in again.content.decode()
    assert ClientAccount.objects.filter(client=newcomer, enabled=True).count() == 1
    enabled = AuditEvent.objects.filter(
        action="portal.account_enable", client_id=newcomer.public_id
    )
    assert [(e.actor, e.outcome) for e in enabled] == [(intake_user, "allowed")]


def test_taking_access_away_signs_the_client_out_and_giving_it_back_revives_no_session(
    member, portal_as, link_for, intake_user
):
    portal_client = member
    stale_link = link_for(portal_client)
    phone = portal_as(portal_client)
    assert phone.get(reverse("portal:home")).status_code == 200
    staff = WebClient()
    staff.force_login(intake_user)
    response = staff.post(_page(portal_client), {"action": "take"}, follow=True)
    assert "the client is signed out" in response.content.decode()
    assert "No portal access" in response.content.decode()
    # The client's very next page: signed out, to the sign-in page.
    response = phone.get(reverse("portal:schedule"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in")
    assert WebClient().post(stale_link).status_code == 400  # links out there stop working
    assert AuditEvent.objects.filter(
        action="portal.account_disable", actor=intake_user, client_id=portal_client.public_id
    ).exists()
    # Given back: a new sign-in is needed; the session of before stays dead.
    old = WebClient()
    old.cookies = phone.cookies
    staff.post(_page(portal_client), {"action": "give"})
    assert old.get(reverse("portal:home")).status_code == 302


def test_a_disabled_account_waiting_for_its_authenticator_code_is_sent_to_sign_in(
    portal_client, link_for, client
):
    account = portal_client.portal_account
    ClientAuthenticator.objects.create(account=account, key="00" * 20, confirmed=True)
    response = client.post(link_for(portal_client))
    assert response["Location"] == reverse("portal:verify")
    services.account_disable(account=account, actor=None)
    response = client.get(reverse("portal:verify"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in")


def test_send_goes_by_the_consented_channel_in_neutral_words(
    member, client_as, intake_user, settings
):
    newcomer = member
    web = client_as(intake_user)
    assert "Send a sign-in link by email" in web.get(_page(newcomer)).content.decode()
    response = web.post(_page(newcomer), {"action": "send"}, follow=True)
    assert "A sign-in link was sent by email" in response.content.decode()
    message = OutboxMessage.objects.get(template="portal_sign_in")
    assert (message.channel, message.recipient) == ("email", "philippa@example.org")
    text = message.subject + message.body
    assert "/my/sign-in/" in text
    assert settings.IOP_PROGRAM_NAME not in text and "Ashdown" not in text
    assert AuditEvent.objects.filter(
        action="portal.link_sent",
        actor=intake_user,
        client_id=newcomer.public_id,
        detail="channel=email",
    ).exists()
    # The sign-in page's limit per address holds for staff sends too: a clear refusal.
    for _ in range(2):
        web.post(_page(newcomer), {"action": "send"})
    refused = web.post(_page(newcomer), {"action": "send"})
    assert refused.status_code == 400
    assert "links were asked for this client" in refused.content.decode()
    assert OutboxMessage.objects.filter(template="portal_sign_in").count() == 3


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"reminder_consent": False, "reminder_channel": "none"}, "has not agreed to reminders"),
        ({"reminder_channel": "sms", "phone": ""}, "no phone number is on file"),
    ],
)
def test_no_link_is_sent_without_consent_on_that_channel(
    newcomer, client_as, intake_user, fields, why
):
    for name, value in fields.items():
        setattr(newcomer, name, value)
    newcomer.save()
    services.account_enable(client=newcomer, actor=intake_user)
    web = client_as(intake_user)
    page = web.get(_page(newcomer)).content.decode()
    assert why in page and "Send a sign-in link" not in page
    response = web.post(_page(newcomer), {"action": "send"})
    assert response.status_code == 400 and why in response.content.decode()
    assert not OutboxMessage.objects.filter(template="portal_sign_in").exists()


def test_a_link_shown_once_signs_the_client_in_and_is_nowhere_else(
    member, client_as, intake_user, caplog
):
    portal_client = member
    web = client_as(intake_user)
    response = web.post(_page(portal_client), {"action": "show"})
    assert response.status_code == 200  # the answer itself: no redirect carrying it
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    url = link_path(html)
    assert url not in web.get(_page(portal_client)).content.decode()  # shown once
    assert url not in caplog.text
    assert AuditEvent.objects.filter(
        action="portal.link_issued", actor=intake_user, client_id=portal_client.public_id
    ).exists()
    assert not any(url in (e.detail or "") for e in AuditEvent.objects.all())
    phone = WebClient()
    assert phone.post(url)["Location"] == reverse("portal:home")
    assert "Philippa" in phone.get(reverse("portal:home")).content.decode()


def test_an_unknown_button_is_a_clear_400(member, client_as, intake_user):
    response = client_as(intake_user).post(_page(member), {"action": "explode"})
    assert response.status_code == 400 and "Choose one of the buttons" in response.content.decode()


def test_the_care_team_reaches_the_page_and_strangers_get_404_audited(
    newcomer, client_as, intake_user, clinician, other_clinician, billing_user
):
    client_services.care_team_add(
        client=newcomer, staff=clinician, role=CareTeamRole.PRIMARY, actor=intake_user
    )
    assert client_as(clinician).get(_page(newcomer)).status_code == 200
    for stranger in (other_clinician, billing_user):
        web = client_as(stranger)
        assert web.get(_page(newcomer)).status_code == 404
        assert web.post(_page(newcomer), {"action": "give"}).status_code == 404
        denied = AuditEvent.objects.filter(actor=stranger, action="access.edit", outcome="denied")
        assert denied.count() == 2
        chart = web.get(reverse("clients:chart", args=[newcomer.public_id]))
        assert _page(newcomer) not in chart.content.decode()
    assert not ClientAccount.objects.filter(client=newcomer).exists()

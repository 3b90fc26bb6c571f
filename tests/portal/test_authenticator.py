"""The optional authenticator: turned on from the portal with a code, then asked for
after every link; a wrong code is refused and too many pause it."""

import re
import time
from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from iop.audit.models import AuditEvent
from portal.models import ClientAuthenticator

pytestmark = pytest.mark.django_db


def _code(key_hex: str, at: float | None = None) -> str:
    totp = TOTP(unhexlify(key_hex), step=30, t0=0, digits=6, drift=0)
    totp.time = at or time.time()
    return f"{totp.token():06d}"


def test_turn_on_then_the_link_asks_for_a_code(portal_client, portal_as, client, link_for):
    web = portal_as(portal_client)
    page = web.get(reverse("portal:authenticator")).content.decode()
    assert re.search(r'data-testid="authenticator-secret">[A-Z2-7]{32}<', page)
    device = ClientAuthenticator.objects.get(account__client=portal_client)
    wrong = web.post(reverse("portal:authenticator"), {"token": "000000"})
    assert wrong.status_code == 400 and "did not match" in wrong.content.decode()
    right = web.post(reverse("portal:authenticator"), {"token": _code(device.key)})
    assert right.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    web.post(reverse("portal:sign_out"))

    # The link alone now goes only half-way.
    response = client.post(link_for(portal_client))
    assert response["Location"] == reverse("portal:verify")
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:verify")
    # The code just used to turn it on is not taken twice.
    reused = client.post(reverse("portal:verify"), {"token": _code(device.key)})
    assert reused.status_code == 400
    later = time.time() + 30
    import time_machine

    with time_machine.travel(later, tick=False):
        ok = client.post(reverse("portal:verify"), {"token": _code(device.key, later)})
        assert ok["Location"] == reverse("portal:home")
        assert client.get(reverse("portal:home")).status_code == 200
    actions = list(
        AuditEvent.objects.filter(action__startswith="portal.2fa").values_list(
            "action", "actor_username"
        )
    )
    me = f"client:{portal_client.public_id}"
    assert actions == [
        ("portal.2fa_enrolled", me),
        ("portal.2fa_failed", me),
        ("portal.2fa_verified", me),
    ]


def test_wrong_codes_pause_the_code_for_the_account(portal_client, client, link_for):
    from portal.services import authenticator_start

    device = authenticator_start(account=portal_client.portal_account)
    device.confirmed = True
    device.save()
    client.post(link_for(portal_client))
    for _ in range(5):
        assert client.post(reverse("portal:verify"), {"token": "000000"}).status_code == 400
    paused = client.post(reverse("portal:verify"), {"token": _code(device.key)})
    assert paused.status_code == 400 and "Too many wrong codes" in paused.content.decode()

"""The portal's security walks: every portal page shows only the signed-in client's
record, a staff session never opens one, a portal session never opens a staff page,
every bad link answers alike, and no portal address names a client."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client as WebClient
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from iop.notifications.models import OutboxMessage
from portal import services
from portal.models import SignInToken
from portal.urls import urlpatterns as PORTAL_PATTERNS

pytestmark = pytest.mark.django_db

# Portal URL names that only take a POST (another portal module may add its own here).
POST_ONLY: tuple[str, ...] = ()

SAMPLE = {"uuid": uuid.UUID(int=1), "int": 1, "str": "x", "slug": "x", "path": "x"}


def _sample_kwargs(pattern) -> dict:
    converters = getattr(pattern.pattern, "converters", {})
    return {
        key: SAMPLE.get(type(conv).__name__.replace("Converter", "").lower(), "x")
        for key, conv in converters.items()
    }


def _portal_routes(patterns=PORTAL_PATTERNS, prefix=""):
    """(URL name, sample kwargs) of every portal route, included modules too."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _portal_routes(entry.url_patterns, prefix)
        elif entry.name:
            yield f"portal:{entry.name}", _sample_kwargs(entry)


PORTAL_ROUTES = dict(_portal_routes())
# The pages about the client (GET, no object in the path), by URL name; the sign-in
# pages are open. A page about one object (a consent, a letter) is walked by its own tests.
OPEN = {"sign_in", "link", "verify", "sign_out", "session_status", "keepalive"}
PAGES = sorted(
    name
    for name, kwargs in PORTAL_ROUTES.items()
    if not kwargs and name.split(":")[1] not in OPEN and not name.endswith(POST_ONLY)
)


def _portal_url(name):
    if name == "portal:link":
        return reverse(name, args=["x" * 43])
    return reverse(name, kwargs=PORTAL_ROUTES.get(name) or {})


def _staff_routes():
    """Every named staff route (not the portal's), its converters given sample values."""

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "portal":
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern) and entry.name:
                converters = getattr(entry.pattern, "converters", {})
                kwargs = {
                    key: SAMPLE.get(type(conv).__name__.replace("Converter", "").lower(), "x")
                    for key, conv in converters.items()
                }
                try:
                    yield reverse(f"{namespace}{entry.name}", kwargs=kwargs)
                except NoReverseMatch:  # a regex route (the admin's)
                    continue

    # The favicon and the health check answer everyone alike (portal.middleware.OPEN_PATHS).
    return sorted(url for url in set(walk(get_resolver().url_patterns)) if url not in PUBLIC)


# /verify/ is an attendance letter's public verification page (portal/letters.py).
PUBLIC = {"/favicon.ico", "/healthz", "/verify/"}
STAFF_URLS = _staff_routes()


def test_the_walks_see_the_portal_and_the_staff_side():
    assert {"portal:home", "portal:schedule", "portal:reminders", "portal:record_access"} <= set(
        PAGES
    )
    assert len(STAFF_URLS) > 100
    assert "/accounts/login/" in STAFF_URLS and "/admin/" in STAFF_URLS


@pytest.mark.parametrize("name", PAGES)
def test_client_a_never_sees_client_b(name, portal_client, other_portal_client, portal_as):
    web = portal_as(portal_client)
    response = web.get(_portal_url(name))
    assert response.status_code == 200
    text = response.content.decode()
    b = other_portal_client
    for value in (b.legal_first_name, b.legal_last_name, b.mrn, b.email, str(b.public_id)):
        assert value not in text


@pytest.mark.parametrize("name", PAGES)
def test_each_portal_page_is_audited_as_the_clients_own_access(name, portal_client, portal_as):
    web = portal_as(portal_client)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    web.get(_portal_url(name))
    rows = list(AuditEvent.objects.filter(id__gt=before))
    page = name.split(":")[1]
    assert [(r.action, r.actor_username, r.client_id, r.actor_id) for r in rows] == [
        (
            f"portal.{page}",
            f"client:{portal_client.public_id}",
            portal_client.public_id,
            None,
        )
    ]


@pytest.mark.parametrize("name", sorted(PORTAL_ROUTES))
def test_a_staff_session_gets_404_on_every_portal_url(name, client_as, clinician, portal_client):
    web = client_as(clinician)
    url = _portal_url(name)
    assert web.get(url).status_code == 404
    assert web.post(url).status_code == 404


def test_a_portal_session_gets_404_on_every_staff_url(portal_client, portal_as):
    web = portal_as(portal_client)
    token = web.cookies["csrftoken"].value if "csrftoken" in web.cookies else ""
    wrong = {}
    for url in STAFF_URLS:
        for response in (web.get(url), web.post(url, {"csrfmiddlewaretoken": token})):
            if response.status_code != 404 or "/accounts/" in response.content.decode():
                wrong[url] = response.status_code
    assert not wrong
    # ...and the client is still signed in to the portal afterwards.
    assert web.get(reverse("portal:home")).status_code == 200


def test_a_half_signed_in_client_gets_404_on_staff_urls_too(portal_client, client, link_for):
    services.authenticator_start(account=portal_client.portal_account)
    portal_client.portal_account.authenticator.confirmed = True
    portal_client.portal_account.authenticator.save()
    assert client.post(link_for(portal_client))["Location"] == reverse("portal:verify")
    assert client.get("/").status_code == 404
    assert client.get(reverse("portal:schedule"))["Location"] == reverse("portal:verify")


# --- Links -----------------------------------------------------------------------------


def _fail(web, path):
    response = web.post(path)
    return response.status_code, response.content


def test_every_bad_link_answers_the_same(portal_client, other_portal_client, link_for, portal_as):
    good = link_for(portal_client)
    expected = _fail(WebClient(), "/my/sign-in/" + "A" * 43 + "/")  # unknown
    assert expected[0] == 400
    # Expired.
    expired = link_for(portal_client)
    SignInToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _fail(WebClient(), expired) == expected
    assert _fail(WebClient(), good) == expected
    # Used.
    fresh = link_for(portal_client)
    assert WebClient().post(fresh).status_code == 302
    assert _fail(WebClient(), fresh) == expected
    # Another client's, in a session signed in as someone else: refused, and the session
    # stays the first client's.
    web = portal_as(portal_client)
    theirs = link_for(other_portal_client)
    assert _fail(web, theirs) == expected
    assert "Rosalind" in web.get(reverse("portal:home")).content.decode()
    # The refusals are audited with their reasons (codes, no client data).
    reasons = list(
        AuditEvent.objects.filter(action="portal.sign_in", outcome="denied").values_list(
            "detail", flat=True
        )
    )
    assert reasons == [
        "link; reason=unknown",
        "link; reason=expired",
        "link; reason=expired",
        "link; reason=used",
        "link; reason=another client's",
    ]


def test_guessing_links_is_throttled_and_then_even_a_good_one_answers_the_same(
    portal_client, link_for
):
    web = WebClient()
    expected = _fail(web, "/my/sign-in/" + "B" * 43 + "/")
    for n in range(9):
        assert _fail(web, f"/my/sign-in/{'C' * 40}{n:03d}/") == expected
    good = link_for(portal_client)
    assert _fail(web, good) == expected
    assert SignInToken.objects.get(used_at__isnull=True)  # not used up by the refusal
    # From another address it works.
    assert WebClient(REMOTE_ADDR="10.0.0.9").post(good).status_code == 302


def test_asking_for_a_link_answers_the_same_whether_or_not_the_address_exists(
    portal_client, client
):
    known = client.post(reverse("portal:sign_in"), {"address": portal_client.email})
    unknown = client.post(reverse("portal:sign_in"), {"address": "nobody@mail.example"})
    assert known.status_code == unknown.status_code == 200
    assert _text(known) == _text(unknown)
    assert OutboxMessage.objects.filter(template="portal_sign_in").count() == 1
    # By text message too, typed as a person would.
    phone = portal_client.phone  # +1617555....
    typed = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    assert _text(client.post(reverse("portal:sign_in"), {"address": typed})) == _text(known)
    sms = OutboxMessage.objects.get(template="portal_sign_in", channel="sms")
    assert sms.recipient == phone and "Rosalind" not in sms.body


def _text(response):
    html = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_links_asked_for_are_limited_per_address_and_per_ip(portal_client, client):
    for _ in range(5):
        client.post(reverse("portal:sign_in"), {"address": portal_client.email})
    assert OutboxMessage.objects.filter(template="portal_sign_in").count() == 3
    throttled = AuditEvent.objects.filter(action="portal.link_request", outcome="denied")
    assert throttled.count() == 2
    # Per IP address: ten requests an hour, whatever addresses they name.
    other = WebClient(REMOTE_ADDR="10.0.0.7")
    for n in range(10):
        other.post(reverse("portal:sign_in"), {"address": f"someone{n}@mail.example"})
    before = OutboxMessage.objects.count()
    portal_client.email = "fresh@mail.example"
    portal_client.save()
    other.post(reverse("portal:sign_in"), {"address": "fresh@mail.example"})
    assert OutboxMessage.objects.count() == before


def test_a_typed_address_that_is_neither_email_nor_phone_is_asked_again(client):
    response = client.post(reverse("portal:sign_in"), {"address": "hello"})
    assert response.status_code == 400
    assert "email address or the mobile number" in response.content.decode()


def test_no_portal_address_names_a_client(portal_client, portal_as, settings):
    """Every link, form action and redirect of every portal page: no MRN, no name, no
    public id (the portal's paths name no one: the client is the signed-in one)."""
    web = portal_as(portal_client)
    forbidden = [
        portal_client.mrn,
        portal_client.legal_first_name,
        portal_client.legal_last_name,
        str(portal_client.public_id),
        str(portal_client.portal_account.public_id),
    ]
    seen = set()
    for name in PAGES:
        html = web.get(_portal_url(name)).content.decode()
        seen |= set(re.findall(r'(?:href|action|src)="([^"]*)"', html))
    seen.discard("")
    assert seen
    for address in seen:
        assert not any(value.lower() in address.lower() for value in forbidden), address
    # A portal path names no client: at most a link's token, or an object's opaque id.
    for name, kwargs in PORTAL_ROUTES.items():
        assert all(key == "token" or key.endswith("_id") for key in kwargs), name
        assert not {"mrn", "client_id", "name"} & set(kwargs), name


@pytest.mark.parametrize(
    "value", ["\x00", "a" * 5000, "<script>alert(1)</script>", "=cmd|' /C calc'!A0", " ", "@"]
)
def test_hostile_input_to_portal_forms_is_a_clear_4xx(value, portal_client, portal_as):
    anonymous = WebClient()
    response = anonymous.post(reverse("portal:sign_in"), {"address": value})
    assert response.status_code in (200, 400)
    assert b"<script>alert" not in response.content
    assert anonymous.post(f"/my/sign-in/{value[:60]}/".replace("/ /", "/%20/")).status_code in (
        400,
        404,
    )
    web = portal_as(portal_client)
    before = (portal_client.reminder_channel, portal_client.quiet_hours_start)
    response = web.post(
        reverse("portal:reminders"),
        {"reminder_channel": value, "quiet_hours_start": value, "reminder_consent": value},
    )
    assert response.status_code == 400
    portal_client.refresh_from_db()
    assert (portal_client.reminder_channel, portal_client.quiet_hours_start) == before
    response = web.post(reverse("portal:verify"), {"token": value})
    assert response.status_code in (302, 400)
    response = web.post(reverse("portal:authenticator"), {"token": value, "action": value})
    assert response.status_code == 400

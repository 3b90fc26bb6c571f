import time
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from iop.accounts.signals import SESSION_LAST_SEEN, SESSION_STARTED
from iop.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_lands_on_dashboard_and_is_audited(client, clinician, password):
    response = _post_login(client, "alice", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == clinician
    assert event.outcome == "allowed"
    assert event.ip_address == "127.0.0.1"


def test_failed_login_shows_message_and_is_audited_as_denied(client, clinician):
    response = _post_login(client, "alice", "wrong-password-123")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.actor_username, event.outcome) == ("alice", "denied")


def test_five_failures_lock_the_account_for_fifteen_minutes(client, clinician, password):
    for _ in range(5):
        _post_login(client, "alice", "wrong-password-123")
    response = _post_login(client, "alice", password)  # right password, still locked
    assert response.status_code == 429
    assert "locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.lockout", actor_username="alice").exists()


def test_lockout_is_per_account_not_per_clinic_address(
    client, clinician, other_clinician, password
):
    for _ in range(5):
        _post_login(client, "alice", "wrong-password-123")
    assert _post_login(client, "bob", password).status_code == 302


def _post_login_from(client, address, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_locked_address_does_not_lock_the_clinician_out_elsewhere(client, clinician, password):
    """The attack: a stranger types alice's name five times to lock her out. Only
    the stranger's address is locked; alice at the clinic still signs in."""
    for _ in range(5):
        _post_login_from(client, "203.0.113.66", "alice", "wrong-password-123")
    assert _post_login_from(client, "203.0.113.66", "alice", password).status_code == 429
    signed_in = _post_login_from(client, "198.51.100.10", "alice", password)
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("dashboard")
    # And the stranger's address stays locked for the 15 minutes.
    client.logout()
    assert _post_login_from(client, "203.0.113.66", "alice", password).status_code == 429


def test_four_failures_from_each_of_many_addresses_do_not_lock(client, clinician, password):
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(4):
            _post_login_from(client, address, "alice", "wrong-password-123")
    assert _post_login_from(client, "203.0.113.1", "alice", password).status_code == 302


def test_thirty_failures_from_any_addresses_lock_the_account_everywhere(
    client, clinician, other_clinician, password
):
    """Guessing spread over many addresses: 6 addresses x 5 failures = 30 in the hour
    locks the account from every address, a fresh one included."""
    for n in range(6):
        for _ in range(5):
            _post_login_from(client, f"203.0.113.{n + 1}", "alice", "wrong-password-123")
    fresh = _post_login_from(client, "198.51.100.10", "alice", password)
    assert fresh.status_code == 429
    assert "locked for now" in fresh.content.decode()
    assert AuditEvent.objects.filter(
        action="auth.lockout", actor_username="alice", detail__contains="any address"
    ).exists()
    # Other accounts are untouched.
    assert _post_login_from(client, "198.51.100.10", "bob", password).status_code == 302


def test_failures_older_than_the_window_do_not_count(client, clinician, password, settings):
    from datetime import timedelta

    settings.IOP_ACCOUNT_FAILURE_WINDOW = timedelta(seconds=0)
    for n in range(6):
        for _ in range(5):
            _post_login_from(client, f"203.0.113.{n + 1}", "alice", "wrong-password-123")
    assert _post_login_from(client, "198.51.100.10", "alice", password).status_code == 302


def test_logout_deletes_the_session_on_the_server(client, clinician, password):
    _post_login(client, "alice", password)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(action="auth.logout", actor=clinician).exists()


def test_logout_by_get_is_refused(client_as, clinician):
    assert client_as(clinician).get(reverse("accounts:logout")).status_code == 405


def _age_session(client, *, idle_seconds=0, age_seconds=0):
    session = client.session
    now = time.time()
    session[SESSION_LAST_SEEN] = now - idle_seconds
    session[SESSION_STARTED] = now - max(age_seconds, idle_seconds)
    session.save()


def test_idle_session_is_signed_out_with_a_message(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=16 * 60)
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[0][0] == reverse("accounts:login")
    assert "signed out after 15 minutes without activity" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.logout", detail="idle timeout").exists()


def test_activity_inside_the_window_keeps_the_session(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=14 * 60)
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_request_moves_the_idle_clock_only_once_it_is_older_than_the_touch(
    client, clinician, password
):
    # Activity restarts the idle clock, but a request within IOP_SESSION_TOUCH_SECONDS
    # of the last write does not write the session again.
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=14 * 60)
    before = client.session[SESSION_LAST_SEEN]
    client.get(reverse("dashboard"))
    moved = client.session[SESSION_LAST_SEEN]
    assert moved > before + 13 * 60
    client.get(reverse("dashboard"))
    assert client.session[SESSION_LAST_SEEN] == moved


@override_settings(IOP_IDLE_TIMEOUT_MINUTES=5)
def test_idle_timeout_follows_the_setting(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=6 * 60)
    assert client.get(reverse("dashboard")).status_code == 302


def test_sessions_end_after_twelve_hours_even_when_active(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, age_seconds=12 * 3600 + 60)
    response = client.get(reverse("dashboard"), follow=True)
    assert "signed out after 12 hours" in response.content.decode()


def test_session_status_poll_does_not_count_as_activity(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=10 * 60)
    remaining = client.get(reverse("accounts:session_status")).json()["remaining"]
    assert 290 <= remaining <= 300
    assert client.get(reverse("accounts:session_status")).json()["remaining"] <= remaining


def test_page_carries_the_idle_warning_settings(client_as, clinician):
    html = client_as(clinician).get(reverse("dashboard")).content.decode()
    assert 'data-idle-timeout="900"' in html
    assert 'id="idle-warning"' in html


@override_settings(IOP_REQUIRE_2FA=True)
def test_two_factor_required_sends_staff_without_a_device_to_enrol(client, clinician, password):
    _post_login(client, "alice", password)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_setup")


# Throttling (django-otp's back-off after a wrong code) is off so the right code counts at once.
@override_settings(IOP_REQUIRE_2FA=True, OTP_TOTP_THROTTLE_FACTOR=0)
def test_enrolling_an_authenticator_opens_the_app(client, clinician, password):
    _post_login(client, "alice", password)
    assert client.get(reverse("accounts:otp_setup")).status_code == 200
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)
    bad = client.post(reverse("accounts:otp_setup"), {"token": "000000"})
    assert bad.status_code == 400
    assert "did not match" in bad.content.decode()
    token = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:otp_setup"), {"token": token})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=clinician).confirmed
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_enrolled", actor=clinician).exists()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_staff_with_a_device_must_verify_even_when_not_required(client, clinician, password):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    _post_login(client, "alice", password)
    assert client.get(reverse("dashboard"))["Location"] == reverse("accounts:otp_verify")
    wrong = client.post(reverse("accounts:otp_verify"), {"token": "12345x"})
    assert wrong.status_code == 400
    assert client.get(reverse("dashboard")).status_code == 302
    token = f"{totp(device.bin_key):06d}"
    assert client.post(reverse("accounts:otp_verify"), {"token": token}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_password_validators_require_twelve_characters(clinician):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Short-pw-1", clinician)


# --- Redirect targets taken from the request (issue 7, finding 1) -----------------------

EVIL_TARGETS = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "%2F%2Fevil.example",  # encoded: arrives as //evil.example once the query is decoded
    "https:evil.example",
    "http://testserver@evil.example/",
]


def _query(target):
    # Build the query by hand so that an already-encoded target reaches the view as is.
    return "next=" + (target if "%" in target else quote(target, safe=""))


def _stays_on_site(location):
    parsed = urlsplit(location.replace("\\", "/"))
    return parsed.netloc in ("", "testserver") and parsed.scheme in ("", "http")


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_never_redirects_off_site(client, clinician, password, target):
    response = client.post(f"{LOGIN}?{_query(target)}", {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_logout_never_redirects_off_site(client_as, clinician, target):
    response = client_as(clinician).post(f"{reverse('accounts:logout')}?{_query(target)}")
    assert response.status_code == 302
    assert _stays_on_site(response["Location"]), response["Location"]


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_two_factor_verify_never_redirects_off_site(client, clinician, password, target):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    _post_login(client, "alice", password)
    token = f"{totp(device.bin_key):06d}"
    response = client.post(f"{reverse('accounts:otp_verify')}?{_query(target)}", {"token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_nested_next_through_login_and_verify_stays_on_site(client, clinician, password):
    """The probe from the attack: a login link whose next is the verify page whose
    next is an outside site. Sign-in keeps the (internal) verify link; verify must
    then refuse the outside target."""
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    link = "/accounts/login/?next=/accounts/2fa/verify/%3Fnext%3Dhttps://evil.example/"
    signed_in = client.post(link, {"username": "alice", "password": password})
    assert signed_in.status_code == 302
    verify_url = signed_in["Location"]
    assert verify_url == "/accounts/2fa/verify/?next=https://evil.example/"
    token = f"{totp(device.bin_key):06d}"
    verified = client.post(verify_url, {"token": token})
    assert verified.status_code == 302
    assert verified["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_two_factor_verify_follows_a_same_site_next(client, clinician, password):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    _post_login(client, "alice", password)
    token = f"{totp(device.bin_key):06d}"
    response = client.post(f"{reverse('accounts:otp_verify')}?next=/clients/", {"token": token})
    assert response["Location"] == "/clients/"


@override_settings(IOP_REQUIRE_2FA=True, OTP_TOTP_THROTTLE_FACTOR=0)
@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_two_factor_setup_never_redirects_off_site(client, clinician, password, target):
    _post_login(client, "alice", password)
    client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)
    token = f"{totp(device.bin_key):06d}"
    response = client.post(f"{reverse('accounts:otp_setup')}?{_query(target)}", {"token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_keepalive_never_redirects_off_site(client, client_as, clinician, target):
    signed_in = client_as(clinician).post(f"{reverse('accounts:keepalive')}?{_query(target)}")
    assert signed_in.status_code == 200  # JSON, never a redirect
    client.logout()
    anonymous = client.post(f"{reverse('accounts:keepalive')}?{_query(target)}")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert _stays_on_site(anonymous["Location"])


# --- htmx after idle sign-out (issue 7, finding 13) ----------------------------------


def test_idle_htmx_request_gets_hx_redirect_to_sign_in(client, clinician, password):
    _post_login(client, "alice", password)
    _age_session(client, idle_seconds=16 * 60)
    response = client.get(reverse("dashboard"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("accounts:login")
    assert AuditEvent.objects.filter(action="auth.logout", detail="idle timeout").exists()


def test_htmx_request_without_a_session_gets_hx_redirect(client):
    response = client.get(reverse("dashboard"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))

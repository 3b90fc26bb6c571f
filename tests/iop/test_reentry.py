"""Re-entering the password to sign (issue 18, finding 1): throttled per account
across its sessions, counted by the sign-in lockout, and the wrong entry that reaches
the limit ends the account's sessions. Time is moved with the ``clock`` fixture, which
shifts ``django.utils.timezone.now`` (what the audit trail stamps and the throttle
reads)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinical.notes.models import NoteStatus, ProgressNote
from clinical.notes.services import group_note_save, note_sign
from iop.accounts import reentry
from iop.accounts.reentry import ReentryLimitReached, reauthenticate
from iop.audit.models import AuditEvent
from tests.clinical.notes_factories import complete_content, group_session, section
from tests.iop.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
WRONG = "wrong-password-123"


class _Clock:
    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **kwargs):
        self.offset += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    return _Clock(monkeypatch)


@pytest.fixture
def password_checks(monkeypatch):
    """Every password the re-entry check compares, counted."""
    calls = []
    original = reentry.check_password

    def spy(raw, encoded, *args, **kwargs):
        calls.append(raw)
        return original(raw, encoded, *args, **kwargs)

    monkeypatch.setattr(reentry, "check_password", spy)
    return calls


@pytest.fixture
def group(clinician, admin_user):
    session, present, _ = group_session(clinician, admin_user, 2)
    return session, present


@pytest.fixture
def draft(group, clinician):
    session, present = group
    group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c) for c in present},
        actor=clinician,
    )
    return session


def _sign_url(session):
    return reverse("notes:group_sign", args=[session.public_id])


def _signed_in(user):
    http = Client()
    http.force_login(user)
    return http


def _wrong_entries(http, url, n, **data):
    return [http.post(url, {"password": WRONG} | data) for _ in range(n)]


def _is_signed_out(http):
    response = http.get(reverse("dashboard"))
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_the_sixth_entry_within_fifteen_minutes_is_refused_without_checking(
    draft, clinician, password_checks
):
    http = _signed_in(clinician)
    first_four = _wrong_entries(http, _sign_url(draft), 4)
    assert [r.status_code for r in first_four] == [400] * 4
    assert "password is not right" in first_four[0].content.decode()
    assert "1 more wrong entry and you are signed out" in first_four[3].content.decode()
    # The 5th wrong entry ends the session: to the sign-in page, with the reason.
    fifth = http.post(_sign_url(draft), {"password": WRONG}, follow=True)
    assert fifth.redirect_chain[0][0] == LOGIN
    assert "signed out after 5 wrong entries of your password" in fifth.content.decode()
    assert _is_signed_out(http)
    assert AuditEvent.objects.filter(action="auth.logout", detail="re-entry limit").exists()
    assert len(password_checks) == 5

    # Signed in again (which takes the password), the 6th entry, even the right
    # password, is refused unchecked, and the answer is the same for a wrong one.
    http = _signed_in(clinician)
    right = http.post(_sign_url(draft), {"password": PASSWORD})
    wrong = http.post(_sign_url(draft), {"password": WRONG})
    assert right.status_code == wrong.status_code == 400
    assert "paused until" in right.content.decode()
    assert "Nothing you enter is checked" in wrong.content.decode()
    assert len(password_checks) == 5  # neither was compared with the password
    assert ProgressNote.objects.get().status == NoteStatus.DRAFT
    assert AuditEvent.objects.filter(action="auth.reentry_throttled").count() == 2
    assert not _is_signed_out(http)  # refused, not counted: this session stays


def test_wrong_entries_from_two_sessions_add_up_and_both_sessions_end(draft, clinician):
    desk, laptop = _signed_in(clinician), _signed_in(clinician)
    assert {r.status_code for r in _wrong_entries(desk, _sign_url(draft), 3)} == {400}
    assert _wrong_entries(laptop, _sign_url(draft), 1)[0].status_code == 400
    fifth = _wrong_entries(laptop, _sign_url(draft), 1)[0]
    assert fifth.status_code == 302 and fifth["Location"] == LOGIN
    # Every session of the account ends, not only the one that guessed.
    assert _is_signed_out(laptop)
    assert _is_signed_out(desk)
    assert AuditEvent.objects.filter(action="auth.reentry_lockout", actor=clinician).exists()


def test_the_end_of_the_limit_under_htmx_moves_the_whole_page_to_sign_in(draft, clinician):
    http = _signed_in(clinician)
    _wrong_entries(http, _sign_url(draft), 4)
    response = http.post(_sign_url(draft), {"password": WRONG}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == LOGIN


def test_reentry_failures_count_towards_the_sign_in_lockout_of_the_account(draft, clinician):
    """25 failed sign-ins from five addresses (under every limit) plus 5 wrong
    re-entries at signing reach the 30 per account: sign-in is locked everywhere."""
    http = Client()
    assert http.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 302
    stranger = Client()
    for n in range(5):
        for _ in range(5):
            stranger.post(
                LOGIN, {"username": "alice", "password": WRONG}, REMOTE_ADDR=f"203.0.113.{n + 1}"
            )
    _wrong_entries(http, _sign_url(draft), 5)
    fresh = Client().post(
        LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.10"
    )
    assert fresh.status_code == 429
    assert "locked for now" in fresh.content.decode()


def test_a_right_entry_after_the_pause_signs_and_the_pause_doubles(draft, clinician, clock):
    http = _signed_in(clinician)
    _wrong_entries(http, _sign_url(draft), 5)
    clock.advance(minutes=16)
    http = _signed_in(clinician)
    # The pause (15 minutes after the 5th) is over: a 6th wrong entry is checked and
    # ends the sessions again, and the pause is now 30 minutes.
    sixth = _wrong_entries(http, _sign_url(draft), 1)[0]
    assert sixth.status_code == 302 and sixth["Location"] == LOGIN
    clock.advance(minutes=16)
    http = _signed_in(clinician)
    paused = http.post(_sign_url(draft), {"password": PASSWORD})
    assert paused.status_code == 400 and "paused until" in paused.content.decode()
    clock.advance(minutes=15)
    signed = http.post(_sign_url(draft), {"password": PASSWORD})
    assert signed.status_code == 302
    assert ProgressNote.objects.get().status == NoteStatus.SIGNED


def test_a_right_entry_starts_the_count_again(clinician):
    for _ in range(4):
        with pytest.raises(ValidationError):
            reauthenticate(clinician, password=WRONG, purpose="note.sign")
    reauthenticate(clinician, password=PASSWORD, purpose="note.sign")
    for _ in range(4):
        with pytest.raises(ValidationError, match="not right"):
            reauthenticate(clinician, password=WRONG, purpose="note.sign")


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_authenticator_codes_are_throttled_the_same_way(clinician, monkeypatch):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    for _ in range(4):
        with pytest.raises(ValidationError, match="authenticator code is not right"):
            reauthenticate(clinician, otp_token="000000")
    with pytest.raises(ReentryLimitReached):
        reauthenticate(clinician, otp_token="000000")
    checked = []
    monkeypatch.setattr(TOTPDevice, "verify_token", lambda self, token: checked.append(token))
    with pytest.raises(ValidationError, match="paused until"):
        reauthenticate(clinician, otp_token="123456")
    assert checked == []  # nothing compared with the device
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


# --- Every form that re-enters goes through the one check -----------------------------


def _sign(draft, clinician, supervisor):
    return clinician, _sign_url(draft), {}


def _addendum(draft, clinician, supervisor):
    note_sign(note=ProgressNote.objects.get(), actor=clinician, password=PASSWORD)
    url = reverse("notes:group_addendum", args=[draft.public_id])
    return clinician, url, {"text": "Late.", "target": "narrative"}


def _cosign(draft, clinician, supervisor):
    note = note_sign(note=ProgressNote.objects.get(), actor=clinician, password=PASSWORD)
    url = reverse("notes:group_cosign", args=[note.public_id])
    return supervisor, url, {"action": "cosign"}


@pytest.mark.parametrize("form", [_sign, _addendum, _cosign], ids=["sign", "addendum", "cosign"])
def test_every_signing_form_is_throttled_and_ends_the_session(
    draft, clinician, supervisor, form, password_checks
):
    user, url, data = form(draft, clinician, supervisor)
    checks_before = len(password_checks)
    http = _signed_in(user)
    answers = _wrong_entries(http, url, 5, **data)
    assert [r.status_code for r in answers[:4]] == [400] * 4
    assert answers[4].status_code == 302 and answers[4]["Location"] == LOGIN
    assert _is_signed_out(http)
    assert len(password_checks) - checks_before == 5
    http = _signed_in(user)
    refused = http.post(url, {"password": PASSWORD} | data)
    assert refused.status_code == 400 and "paused until" in refused.content.decode()
    assert len(password_checks) - checks_before == 5

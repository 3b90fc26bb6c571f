"""The neutral call-in notice for a random test (issue 11's screening source)."""

import re
from datetime import datetime, time

import pytest
from django.utils import timezone

from clients.models import Client, ReminderChannel
from iop.notifications.models import OutboxMessage
from iop.notifications.services import reminders_schedule
from screening import services
from tests.clients.factories import ClientFactory
from tests.scheduling.test_reminders import FORBIDDEN
from tests.screening.factories import selection_for

pytestmark = pytest.mark.django_db


def _client(**overrides):
    fields = {
        "reminder_channel": ReminderChannel.SMS,
        "reminder_consent": True,
        "phone": "+16175550134",
    }
    fields.update(overrides)
    client = ClientFactory(status="active")
    Client.objects.filter(pk=client.pk).update(**fields)
    client.refresh_from_db()
    return client


def _at(hour, minute=0):
    day = timezone.localdate()
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def _notices():
    return OutboxMessage.objects.filter(template="screen_call_in")


def test_a_drawn_client_gets_one_neutral_call_in_notice():
    client = _client()
    selection_for(client)
    reminders_schedule(now=_at(5))
    reminders_schedule(now=_at(5, 30))
    notice = _notices().get()
    assert notice.scheduled_for == _at(6, 30)
    words = set(re.findall(r"[a-z]+", notice.body.lower()))
    assert [word for word in FORBIDDEN if word in words] == []
    assert client.legal_last_name not in notice.body


def test_no_consent_no_notice_and_quiet_hours_defer_it():
    selection_for(_client(reminder_consent=False))
    quiet = _client(quiet_hours_start=time(21), quiet_hours_end=time(8))
    selection_for(quiet)
    reminders_schedule(now=_at(5))
    assert _notices().get().scheduled_for == _at(8)


def test_voiding_the_test_cancels_a_notice_not_yet_sent(admin_user):
    client = _client()
    selection = selection_for(client)
    reminders_schedule(now=_at(5))
    services.selection_void(selection=selection, reason="Court date today", actor=admin_user)
    assert _notices().get().status == "cancelled"


def test_an_unexpected_positive_is_a_task_for_the_primary_clinician_until_acknowledged(
    clinician, other_clinician
):
    from iop.notifications.models import Channel
    from tests.screening.factories import enrolled_client, screen_with

    client = enrolled_client(clinician)
    screen_with(client, clinician, cocaine=("positive", 420))
    follow_up = client.screen_follow_ups.get()
    reminders_schedule()
    reminders_schedule()
    tasks = OutboxMessage.objects.filter(template="screen_follow_up", channel=Channel.IN_APP)
    task = tasks.get()
    assert task.staff == clinician
    assert "cocaine" not in task.body.lower() and client.legal_last_name not in task.body
    services.follow_up_acknowledge(
        follow_up=follow_up, note="Discussed with the client today.", actor=clinician
    )
    reminders_schedule()
    task.refresh_from_db()
    assert task.status == "cancelled"
    assert not OutboxMessage.objects.filter(staff=other_clinician).exists()


def test_the_pending_notice_ends_when_the_call_in_has_gone(tmp_path, settings):
    from iop.notifications.services import outbox_sweep

    settings.IOP_SMS_BACKEND = "iop.notifications.channels.FileSmsBackend"
    settings.IOP_SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    selection = selection_for(_client())
    reminders_schedule(now=_at(5))
    selection.refresh_from_db()
    assert selection.notified_at is None  # written, not yet sent: the notice is pending
    outbox_sweep(now=_at(6, 31))
    selection.refresh_from_db()
    assert _notices().get().status == "sent"
    assert selection.notified_at is not None


def test_a_client_who_chose_named_wording_is_asked_for_a_visit_not_a_random_check(settings):
    named = _client(reminder_may_name_program=True)
    selection_for(named)
    reminders_schedule(now=_at(5))
    body = _notices().get().body
    assert "Harbor IOP team asks for a visit today" in body
    assert "random" not in body.lower() and "check" not in body.lower()


def test_the_clinic_chooses_the_words_of_the_named_call_in(settings):
    settings.IOP_SCREEN_CALL_IN_WORDS = "a quick visit at the front desk"
    selection_for(_client(reminder_may_name_program=True))
    reminders_schedule(now=_at(5))
    assert "asks for a quick visit at the front desk today" in _notices().get().body

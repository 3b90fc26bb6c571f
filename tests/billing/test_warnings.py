"""Authorization warnings: the dashboard section and the staff tasks at 80 % used, 7 days
before the last day, and a day delivered without an authorization. Units used are the
charges' units summed in SQL (charges made directly here)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import staff_reminders
from iop.notifications.models import OutboxMessage
from iop.notifications.services import outbox_sweep
from scheduling import services as scheduling
from tests.billing import factories as f
from tests.clients.factories import EpisodeFactory
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory, ended_session

pytestmark = pytest.mark.django_db


def test_80_percent_and_7_days_warnings_on_the_dashboard_and_as_tasks(
    client_as, billing_user, admin_user
):
    today = timezone.localdate()
    payer = f.payer()
    almost, fine, ending = (EpisodeFactory().client for _ in range(3))
    used = f.authorization(almost, payer, admin_user, units=10)
    f.charges(almost, used, [today - timedelta(days=n) for n in range(8)])  # 8 of 10
    calm = f.authorization(fine, payer, admin_user, units=10)
    f.charges(fine, calm, [today - timedelta(days=n) for n in range(7)])  # 7 of 10: 70 %
    f.authorization(
        ending,
        payer,
        admin_user,
        units=50,
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=7),
    )
    html = client_as(billing_user).get(reverse("dashboard")).content.decode()
    section = html[html.index('data-testid="authorization-warnings"') :]
    assert f"(MRN {almost.mrn})" in section  # two clients of one name told apart
    assert almost.display_name in section and ending.display_name in section
    assert fine.display_name not in section
    assert "8 of 10 units used" in section and "ends within 7 days" in section
    # The tasks: one per warning for the billing specialist, none for the admin (the
    # admin role is no reason held through a client).
    now = timezone.now()
    units = list(staff_reminders.find_units_running_out(now))
    ending_tasks = list(staff_reminders.find_authorizations_ending(now))
    assert [(t.staff_id, t.refs["client"]) for t in units] == [
        (billing_user.pk, str(almost.public_id))
    ]
    assert [(t.staff_id, t.refs["client"]) for t in ending_tasks] == [
        (billing_user.pk, str(ending.public_id))
    ]
    assert units[0].context["share"] == 80
    # Raising the approved units closes the task (the source no longer finds it).
    used.units_approved = 20
    used.save()
    assert not list(staff_reminders.find_units_running_out(now))


def test_a_day_delivered_without_an_authorization_is_a_task(billing_user, intake_user, clinician):
    today = timezone.localdate()
    client = EpisodeFactory().client
    group = GroupFactory(facilitator=clinician)
    scheduling.enrollment_create(
        client=client, group=group, start_on=today - timedelta(days=3), actor=intake_user
    )
    session = ended_session(group)
    scheduling.attendance_record(
        session=session, client=client, status="present", minutes=None, actor=clinician
    )
    tasks = list(staff_reminders.find_days_without_authorization(timezone.now()))
    assert [(t.staff_id, t.refs["client"], t.key.rsplit(":", 1)[1]) for t in tasks] == [
        (billing_user.pk, str(client.public_id), session.date.isoformat())
    ]
    assert "Hollowell" not in tasks[0].context.values()
    outbox_sweep(now=timezone.now())
    task = OutboxMessage.objects.get(staff=billing_user, template="unauthorized_day")
    assert "no H0015 authorization" in task.body
    # An authorization covering the day closes it.
    f.authorization(client, f.payer(), billing_user, starts_on=session.date)
    assert not list(staff_reminders.find_days_without_authorization(timezone.now()))


def test_an_inactive_billing_account_gets_no_task(billing_user, admin_user):
    billing_user.is_active = False
    billing_user.save()
    UserFactory(username="billy2", roles=["clinician"])
    today = timezone.localdate()
    client = EpisodeFactory().client
    auth = f.authorization(client, f.payer(), admin_user, units=2)
    f.charges(client, auth, [today, today - timedelta(days=1)])
    assert not list(staff_reminders.find_units_running_out(timezone.now()))

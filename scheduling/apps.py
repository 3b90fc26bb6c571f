from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self):
        from clients.access import OwnedKind, register_owned
        from clients.signals import episode_discharged
        from scheduling import registrations, reminders, reports, staff_reminders
        from scheduling.models import Appointment, GroupSession

        episode_discharged.connect(_close_enrollments, dispatch_uid="scheduling-discharge")
        registrations.register()
        reminders.register_sources()
        staff_reminders.register_sources()
        reports.register()
        # A group session belongs to no single client: its sheet is reached through the
        # facilitator's assignment to its group. An appointment is its client's.
        register_owned(
            OwnedKind(
                "scheduling.groupsession",
                "session_id",
                lambda: GroupSession.objects.select_related("group__slot", "group__track", "room"),
                client_attr=None,
                reach=_session_reach,
            )
        )
        register_owned(
            OwnedKind(
                "scheduling.appointment",
                "appointment_id",
                lambda: Appointment.objects.select_related("client", "clinician", "room"),
            )
        )


def _session_reach(user, session, purpose):
    from clients.access import AccessDecision, Purpose
    from scheduling.selectors import can_take_attendance

    if purpose == Purpose.ATTENDANCE and can_take_attendance(user, session):
        return AccessDecision(True, "admin" if user.is_program_admin else "facilitator")
    return AccessDecision(False, "none")


def _close_enrollments(sender, episode, actor, **kwargs):
    from scheduling.services import enrollments_close_for_discharge

    enrollments_close_for_discharge(episode=episode, actor=actor)

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self):
        from clients.access import (
            CLINICIAN,
            FACILITATOR,
            REACH_FACILITATOR,
            OwnedKind,
            register_owned,
        )
        from clients.signals import episode_discharged
        from scheduling import registrations, reminders, reports, staff_reminders
        from scheduling.models import Appointment, GroupSession

        episode_discharged.connect(_close_enrollments, dispatch_uid="scheduling-discharge")
        registrations.register()
        reminders.register_sources()
        staff_reminders.register_sources()
        reports.register()
        # A group session belongs to no single client: clients.access's facilitator rule
        # reaches it through its group. An appointment is its client's.
        register_owned(
            OwnedKind(
                "scheduling.groupsession",
                "session_id",
                lambda: GroupSession.objects.select_related("group__slot", "group__track", "room"),
                client_attr=None,
                reach=REACH_FACILITATOR,
                relations={FACILITATOR: "group"},
            )
        )
        register_owned(
            OwnedKind(
                "scheduling.appointment",
                "appointment_id",
                lambda: Appointment.objects.select_related("client", "clinician", "room"),
                relations={CLINICIAN: "clinician"},
            )
        )


def _close_enrollments(sender, episode, actor, **kwargs):
    from scheduling.services import enrollments_close_for_discharge

    enrollments_close_for_discharge(episode=episode, actor=actor)

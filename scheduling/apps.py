from django.apps import AppConfig
from django.core import checks


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self):
        from clients.signals import episode_discharged
        from scheduling import registrations, reminders, reports, staff_reminders

        episode_discharged.connect(_close_enrollments, dispatch_uid="scheduling-discharge")
        registrations.register()
        reminders.register_sources()
        staff_reminders.register_sources()
        reports.register()
        checks.register(_appointment_lengths_check)


def _appointment_lengths_check(app_configs, **kwargs):
    from scheduling.models import appointment_minutes_problems

    return [
        checks.Error(problem, id="scheduling.E001") for problem in appointment_minutes_problems()
    ]


def _close_enrollments(sender, episode, actor, **kwargs):
    from scheduling.services import enrollments_close_for_discharge

    enrollments_close_for_discharge(episode=episode, actor=actor)

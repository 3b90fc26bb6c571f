from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self):
        from screening import registrations, reminders, reports

        registrations.register()
        reminders.register_sources()
        reminders.register_staff_sources()
        reports.register()

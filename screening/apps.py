from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self):
        from screening import navigation, reminders, reports

        navigation.register()
        reminders.register_sources()
        reminders.register_staff_sources()
        reports.register()

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    label = "billing"

    def ready(self):
        from billing import registrations, reports, staff_reminders

        registrations.register()
        staff_reminders.register_sources()
        reports.register()

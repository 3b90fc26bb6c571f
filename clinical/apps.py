from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"

    def ready(self):
        from clinical import (
            navigation_meds,
            navigation_notes,
            navigation_plans,
            reports,
            staff_reminders,
        )

        navigation_plans.register()
        navigation_meds.register()
        navigation_notes.register()
        reports.register()
        staff_reminders.register_sources()

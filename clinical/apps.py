from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"

    def ready(self):
        from clinical import navigation_plans

        navigation_plans.register()
        from clinical import navigation_meds

        navigation_meds.register()
        from clinical import navigation_notes

        navigation_notes.register()
        from clinical.staff_reminders import register_sources

        register_sources()

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"

    def ready(self):
        from clinical import reports
        from clinical.meds import registrations as meds
        from clinical.meds import staff_reminders as meds_reminders
        from clinical.notes import registrations as notes
        from clinical.notes import staff_reminders as notes_reminders
        from clinical.plans import registrations as plans
        from clinical.plans import staff_reminders as plans_reminders

        plans.register()
        meds.register()
        notes.register()
        reports.register()
        # In this order: the task list and the digest show the sources as registered.
        notes_reminders.register_sources()
        plans_reminders.register_sources()
        meds_reminders.register_sources()

"""The clinical app's models live in its parts (clinical/notes, plans, meds), but a
database migrated before the move must migrate after it with nothing to do: same app
label, same tables, same migration history, and no change the autodetector would write.
No database needed: the migration files and the models are compared in memory."""

from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState

# Every clinical table a deployed database holds; renaming one loses its rows.
TABLES = {
    "Addendum": "clinical_addendum",
    "SignWarning": "clinical_signwarning",
    "CurriculumTopic": "clinical_curriculumtopic",
    "GroupNoteSection": "clinical_groupnotesection",
    "Measure": "clinical_measure",
    "MeasureAssignment": "clinical_measureassignment",
    "Medication": "clinical_medication",
    "Modality": "clinical_modality",
    "NoteFormatDefault": "clinical_noteformatdefault",
    "ProgressNote": "clinical_progressnote",
    "RelapsePreventionPlan": "clinical_relapsepreventionplan",
    "RelapsePreventionVersion": "clinical_relapsepreventionversion",
    "SessionPlan": "clinical_sessionplan",
    "TreatmentPlan": "clinical_treatmentplan",
    "TreatmentPlanVersion": "clinical_treatmentplanversion",
}
# Applied on every existing database; renaming or squashing one re-runs it there.
APPLIED = {"0001_meds", "0001_notes", "0001_plans", "0002_merge"}


def test_every_clinical_model_keeps_its_app_label_and_table():
    models = {m.__name__: m for m in apps.get_app_config("clinical").get_models()}
    assert {name: m._meta.db_table for name, m in models.items()} == TABLES
    assert {m._meta.app_label for m in models.values()} == {"clinical"}
    # Each model is defined in its part, not in a shim.
    assert {m.__module__ for m in models.values()} == {
        "clinical.notes.models",
        "clinical.plans.models",
        "clinical.meds.models",
    }


def test_the_migration_history_is_kept_and_the_models_need_no_new_migration():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    clinical = {name for app, name in loader.disk_migrations if app == "clinical"}
    assert clinical >= APPLIED
    changes = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=set(), dry_run=True),
    ).changes(graph=loader.graph)
    assert changes == {}

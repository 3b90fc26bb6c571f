"""The clinical app's models live in its parts (``clinical.notes.models``,
``clinical.plans.models``, ``clinical.meds.models``); importing them here is how Django
finds them all under the one app label ``clinical``, with the tables and the migration
history they always had. Import a model from its part, not from here."""

import clinical.meds.models
import clinical.notes.models
import clinical.plans.models  # noqa: F401

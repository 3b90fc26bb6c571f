"""Clinical demo data, one part at a time (each part idempotent)."""

from clinical.meds import demo as demo_meds
from clinical.notes import demo as demo_notes
from clinical.plans import demo as demo_plans


def seed(*, stdout) -> None:
    demo_plans.seed(stdout=stdout)
    demo_meds.seed(stdout=stdout)
    demo_notes.seed(stdout=stdout)

"""Clinical demo data, one part at a time (each part idempotent)."""

from clinical import demo_meds, demo_notes, demo_plans


def seed(*, stdout) -> None:
    demo_plans.seed(stdout=stdout)
    demo_meds.seed(stdout=stdout)
    demo_notes.seed(stdout=stdout)

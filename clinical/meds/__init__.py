"""Medications (records, not prescribing) and outcome measures (PHQ-9, GAD-7, BAM)."""

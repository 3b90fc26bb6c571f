"""Reads other apps ask of the clinical app.

``expected_analytes(client, on=date) -> set[str]``: the screen analytes the client's
medications make expected that day (screening reads a positive for one of them as
expected, not as a violation).
"""

from clinical.selectors_meds import expected_analytes  # noqa: F401

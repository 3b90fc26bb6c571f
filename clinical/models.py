"""Clinical records, one module per part: notes, plans, medications and measures.

Each module is imported here so that Django finds every model of the app.
"""

from clinical.models.meds import *  # noqa: F401,F403
from clinical.models.notes import *  # noqa: F401,F403
from clinical.models.plans import *  # noqa: F401,F403

from screening.models.panels import *  # noqa: F403
from screening.models.screens import *  # noqa: F403
from screening.models.selection import *  # noqa: F403

"""Clinic-local moments for tests that drive the clock with time-machine.

``at(day, "18:14")`` is that wall time in the clinic's zone (``fold=1`` picks the
second 01:30 of the night the clocks go back). Tests move the clock with the
``time_machine`` fixture (``time_machine.move_to(at(...), tick=False)``): everything
that asks ``django.utils.timezone.now`` (services, pages, the audit trail) reads the
moment set, in every thread of the process, the live server's included.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

# America/New_York's changes in the test years: the clocks go back at 02:00 on
# 1 Nov 2026 (01:00-02:00 happens twice) and forward at 02:00 on 14 Mar 2027.
FALL_BACK = date(2026, 11, 1)
SPRING_FORWARD = date(2027, 3, 14)
# An ordinary Tuesday, away from any change.
TUESDAY = date(2026, 12, 8)


def at(day: date, hhmm: str, *, fold: int = 0) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(settings.TIME_ZONE)).replace(
        fold=fold
    )


def shown(hhmm: str) -> str:
    """A wall time as the app shows it, in the clinic's locale (iop.when.clock)."""
    from iop import when

    hours, minutes = (int(part) for part in hhmm.split(":"))
    return when.clock(time(hours, minutes))


def shown_on(day: date, hhmm: str) -> str:
    """A time on another day than today, as the app says when something opens."""
    from iop import when

    return f"{when.day_short(day)} at {shown(hhmm)}"

"""How the app shows a date or a time: one format for each kind of value, taken from the
clinic's locale (``IOP_LOCALE``; the formats are in ``iop/formats/<locale>/formats.py``).

- ``day``: a date, the day of a service: Fri, Dec 4, 2026 (en-gb: Fri 4 Dec 2026);
- ``day_short``: a day on a page that states the year (a week's columns, a report's
  weeks): Fri, Dec 4 (Fri 4 Dec);
- ``moment``: when something was done (signed, saved, acknowledged, sent): Dec 4, 2026,
  9:35 AM (4 Dec 2026, 09:35);
- ``clock``: a time of day, a session's hours: 9:35 AM (09:35);
- ``month``: December 2026;
- ``message_day``: the day in a client's text or email: Wednesday, December 2 (Wednesday
  2 December); ``message_moment`` adds "at 2:00 PM" (at 14:00).

``moment`` and ``clock`` take ``seconds=True`` where seconds matter (the audit trail,
the autosave's "Saved 9:35:07 AM"). Templates use the same kinds as filters
(``{{ note.signed_at|moment }}``, built into every template by ``iop.templatetags.when``);
a raw ``|date:"..."`` format on a page is refused by ``tests/iop/test_when.py``.

Machine formats stay ISO 8601 wherever a program reads the value: ``<input type="date">``
values, CSV cells (``iop.csvexport``), URLs and query parameters, ICS files, ``data-*``
attributes, JSON, audit details and idempotency keys.
"""

from datetime import date, datetime, time

from django.utils import formats, timezone

# Every name a locale module under iop/formats defines.
FORMAT_NAMES = (
    "DATE_FORMAT",
    "MONTH_DAY_FORMAT",
    "DATETIME_FORMAT",
    "DATETIME_SECONDS_FORMAT",
    "TIME_FORMAT",
    "TIME_SECONDS_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MESSAGE_DAY_FORMAT",
)


def _local(value):
    """An aware datetime in the clinic's zone (the current time zone); anything else as
    it is. A page's template already converts (the filters expect local time); Python
    callers (messages, form labels) pass UTC moments from the database."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _as_date(value):
    """A report's row holds its dates as the CSV writes them (ISO 8601: "2026-12-04", a
    month "2026-11"); its page shows the same row through these kinds."""
    if isinstance(value, str):
        try:
            if len(value) == 7:
                return date.fromisoformat(value + "-01")
            return (datetime if len(value) > 10 else date).fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, date):  # a datetime is a date
        raise TypeError(f"A date or a datetime is needed, not {value!r}.")
    return value


def _date_kind(value, name: str) -> str:
    if value in (None, ""):
        return ""
    return formats.date_format(_local(_as_date(value)), name)


def day(value: date | datetime | None) -> str:
    return _date_kind(value, "DATE_FORMAT")


def day_short(value: date | datetime | None) -> str:
    return _date_kind(value, "MONTH_DAY_FORMAT")


def month(value: date | datetime | None) -> str:
    return _date_kind(value, "YEAR_MONTH_FORMAT")


def message_day(value: date | datetime | None) -> str:
    return _date_kind(value, "MESSAGE_DAY_FORMAT")


def moment(value: datetime | None, *, seconds: bool = False) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime):
        # A date alone is a day, never "midnight".
        return day(value)
    return formats.date_format(
        _local(value), "DATETIME_SECONDS_FORMAT" if seconds else "DATETIME_FORMAT"
    )


def clock(value: datetime | time | None, *, seconds: bool = False) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime | time):
        raise TypeError(f"A time or a datetime is needed, not {type(value).__name__}.")
    return formats.time_format(_local(value), "TIME_SECONDS_FORMAT" if seconds else "TIME_FORMAT")


def message_moment(value: datetime) -> str:
    """A client message's day and time: "Wednesday, December 2 at 2:00 PM"."""
    return f"{message_day(value)} at {clock(value)}"

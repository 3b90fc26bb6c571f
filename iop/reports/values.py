"""Values as the reports' raw SQL returns them, the same on both databases."""

from datetime import date, datetime


def as_date(value) -> date:
    """A day from a raw cursor: a date, a timestamp (PostgreSQL's ``date_trunc``) or
    ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])

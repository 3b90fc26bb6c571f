"""Values as the reports' raw SQL returns them, the same on both databases; and a
background run's page result, stored as JSON and read back with its types."""

import dataclasses
import json
import uuid
from datetime import date, datetime
from decimal import Decimal


def as_date(value) -> date:
    """A day from a raw cursor: a date, a timestamp (PostgreSQL's ``date_trunc``) or
    ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# A stored page carries what a template reads: numbers, words, days, moments, ids and
# the charts' geometry. Days, moments, Decimals and ids are tagged so that they come
# back as themselves (a day through the ``day`` filter, a Decimal's "0.50" as written);
# a chart (a dataclass) comes back as a dict, which a template reads the same way.
_TAGS = {"$date": date.fromisoformat, "$moment": datetime.fromisoformat, "$decimal": Decimal}
_TAGS["$uuid"] = uuid.UUID


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$moment": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    # A model instance or anything else has no place in a stored page: a runner's
    # answer carries figures and words, and the filters are re-read from their codes.
    raise TypeError(f"a report page cannot store a {type(value).__name__}")


def _typed(value):
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, text),) = value.items()
            if tag in _TAGS:
                return _TAGS[tag](text)
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def page_dumps(result: dict) -> bytes:
    return json.dumps(_plain(result), separators=(",", ":")).encode("utf-8")


def page_loads(raw: bytes) -> dict:
    return _typed(json.loads(raw.decode("utf-8")))

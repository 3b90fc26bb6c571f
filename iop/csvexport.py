"""The one CSV writer: every CSV the app produces (a report's inline CSV, a background
run's file, the audit trail's export, the attendance command) is written here.

- **Formula cells are defused** (OWASP, CSV injection): a text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``, so a
  spreadsheet shows it as text and never runs it (a username ``-2+3``, a name typed at
  sign-in ``=HYPERLINK(...)``). Numbers the app writes as numbers (ints, Decimals,
  floats: a negative change score) stay numbers: only text is defused.
- **Dates are ISO 8601** whatever the clinic's locale (``2026-12-04``, a moment
  ``2026-12-04T14:35:00-05:00``): a spreadsheet or a payer's import reads them as
  dates, where the pages show them in the locale's words (``iop.when``).
- **UTF-8 with a byte-order mark**, once at the start of the file, and the charset in
  the response's Content-Type, so a spreadsheet shows "Zoë Ñúñez" as written.
"""

import csv
import io
from datetime import date
from decimal import Decimal
from itertools import islice

from django.http import StreamingHttpResponse

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBERS = (int, float, Decimal)  # bool is an int
_PLAIN = frozenset({int, float, Decimal})


def defuse(value):
    """One cell as the file carries it: a number as it is, text defused, None empty."""
    if isinstance(value, _NUMBERS):
        return value
    if value is None:
        return ""
    if isinstance(value, date):  # a datetime is a date
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cells(row):
    """A row's cells defused. Most rows hold numbers and plain text only: they are
    checked in one pass and go to the writer as they are (a year of billable days is
    390,000 rows); any other row is rebuilt cell by cell."""
    for value in row:
        if type(value) not in _PLAIN and (
            type(value) is not str or value.startswith(FORMULA_STARTS)
        ):
            return [defuse(value) for value in row]
    return row


def csv_lines(columns, rows, *, chunk: int = 500, bom: bool = True, headers=None):
    """The CSV, a few hundred lines at a time (streamed responses and stored files
    share it); the first piece starts with the byte-order mark (``bom=False`` for a
    terminal: the attendance command's standard output).

    A row is a dict keyed by ``columns`` or a tuple in their order (a long report's
    rows: 390,000 billable days a year are not worth a dict each). ``headers``, when
    given, is the first line's words in ``columns`` order (a report's labels)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([defuse(column) for column in (headers or columns)])
    yield (BOM if bom else "") + buffer.getvalue()
    rows = iter(rows)
    while batch := list(islice(rows, chunk)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(
            _cells(row if isinstance(row, tuple) else [row.get(column, "") for column in columns])
            for row in batch
        )
        yield buffer.getvalue()


def csv_response(columns, rows, *, filename: str, headers=None) -> StreamingHttpResponse:
    """A CSV download, streamed: UTF-8 with its byte-order mark, the charset said."""
    response = StreamingHttpResponse(
        csv_lines(columns, rows, headers=headers), content_type=CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

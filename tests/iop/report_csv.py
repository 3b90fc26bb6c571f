"""Reading a report's CSV in tests: its first line is the report's column labels (words,
not codes); the rows come back keyed by the column names the runner uses."""

import csv
import io

from iop.reports.registry import REPORTS


def report_csv_rows(text: str, key: str) -> list[dict]:
    report = REPORTS[key]
    reader = csv.reader(io.StringIO(text, newline=""))
    assert next(reader) == report.csv_header()
    return [dict(zip(report.csv_columns, row, strict=True)) for row in reader]

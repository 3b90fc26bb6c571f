"""The attendance report on standard output, for scheduled exports and checks by hand:

    python manage.py attendance_report --start 2026-09-07 --end 2026-09-20 \\
        [--track iop3] [--slot evening] --format csv

One row per client (scheduling.reports.ATTENDANCE_COLUMNS), program-wide: whoever
runs manage.py holds the database already. The run is audited with its filters.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from iop.audit.services import AuditContext, audit_record
from iop.csvexport import csv_lines
from scheduling.reports import (
    ATTENDANCE_COLUMNS,
    ATTENDANCE_LABELS,
    AttendanceReportForm,
    attendance_rows,
)


class Command(BaseCommand):
    help = "Write the per-client attendance report (CSV) for a date range to standard output."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last day (inclusive), YYYY-MM-DD")
        parser.add_argument("--track", help="track code, e.g. iop3")
        parser.add_argument("--slot", help="slot code, e.g. evening")
        parser.add_argument("--format", choices=["csv"], default="csv")

    def handle(self, *args, **options):
        data = {k: options[k] for k in ("start", "end", "track", "slot") if options.get(k)}
        form = AttendanceReportForm(data)
        if not form.is_valid():
            problems = [
                f"{field if field != '__all__' else 'range'}: {' '.join(errors)}"
                for field, errors in form.errors.items()
            ]
            raise CommandError("; ".join(problems))
        rows = attendance_rows(None, form.cleaned_data)
        audit_record(
            action="report.run",
            audit=AuditContext.system("attendance_report"),
            object_type="reports.report",
            object_id="attendance",
            detail=f"format=csv; rows={len(rows)}; "
            + ";".join(f"{k}={v}" for k, v in sorted(form.filter_codes().items())),
        )
        out = self.stdout if self.stdout else sys.stdout
        # The one writer, defused; no byte-order mark on a terminal's output.
        headers = [ATTENDANCE_LABELS[column] for column in ATTENDANCE_COLUMNS]
        for line in csv_lines(ATTENDANCE_COLUMNS, rows, bom=False, headers=headers):
            out.write(line, ending="")

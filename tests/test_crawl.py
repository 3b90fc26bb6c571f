"""No dead buttons: for every demo account, every link and form a page shows answers.

The crawl signs in as each account of ``seed_demo`` (one per role, and the second
clinician), starts at the dashboard and walks breadth-first over every same-site link
(``a[href]``, ``hx-get``) and form (``form[action]``, ``hx-post``) the pages render:

- every distinct link kept (see the bounds below) is fetched and must answer 2xx or
  3xx (a redirect is followed as one more link; one to the sign-in page is a failure);
- a GET form is submitted with its default values, as a link;
- a POST form is posted with only its hidden inputs, its button's name and value and
  the page's CSRF token, as a click on the button would, once the walk is done and each
  in a savepoint rolled back afterwards, so that no post changes what another sees.
  A validation answer (200, 400, 409, 422) is fine; 403, 404, 405 and 5xx mean the
  button is dead for that person.

No address the pages give (every ``href``, ``src``, form ``action``, htmx ``hx-get`` /
``hx-post``, and every redirect's ``Location`` or htmx redirect header, for GETs and
posts alike) carries any client's MRN, legal or preferred first or last name, or date
of birth (ISO or as the pages show it), in any case: such an address would reach
access logs, browser history and the next page's Referer.

The crawl is bounded: PER_NAME pages of each URL name are parsed for more links, and
PAGES per account. Every link and button found on a list (a page with no id in its
URL: the dashboard, a list, a queue, a schedule, a report) is tried however long the
list, since a list is where a client one has no reason to see would show; a page about
one object (a chart, a note) adds at most PER_NAME of each URL name. Django's admin
pages, ADMIN_PER_NAME of each.

The clinic is the demo's, built once for the module, plus yesterday's uncharted
session, a break-the-glass access waiting for review, and one client whose care team
with ``clinician`` ended yesterday (moved to ``clinician2``) after that clinician had
signed a note now waiting for co-signature and left a draft: no page may still lead
``clinician`` or their supervisor to that client. The staff tasks are written as the
sweep writes them, so each account's task list and its links are crawled too.
"""

import io
import logging
import re
import time
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from html import unescape
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import unquote_plus, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client as Browser
from django.test import override_settings
from django.urls import Resolver404, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from clients import services
from clients.models import (
    AsamLevel,
    CareTeamRole,
    Client,
    InformationCategory,
    RecipientType,
)
from clinical.notes.models import Modality
from clinical.notes.services import NoteContent, appointment_note_save, note_sign
from iop import dashboard
from iop.accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from iop.accounts.models import User
from iop.audit.models import AuditEvent
from iop.audit.services import audit_record
from iop.notifications.models import Audience
from iop.notifications.services import reminders_schedule
from iop.notifications.sources import SOURCES
from iop.reports.registry import REPORTS
from scheduling.models import clinic_tz
from scheduling.services import appointment_book

# Pages parsed for more links: at most PER_NAME per URL name (three charts, three
# notes...) and PAGES in all per account. Every link and button of a list page is
# tried; an object's page (an id in its URL) adds at most PER_NAME of each URL name.
PER_NAME = 3
PAGES = 400
# Django's generated admin (the admin account's configuration pages) has a hundred
# URL names of its own, and no page about a client: one page of each is enough.
ADMIN_PER_NAME = 1
# A page slower than this in the test client is reported as a failure.
SLOW_SECONDS = 5.0

# Never fetched or posted, with the reason.
SKIP_NAMES = {
    # Signing out ends the crawl's session; tests/iop/test_auth.py covers it.
    "accounts:logout",
    "admin:logout",
}
# A POST answering one of these is a dead button; 400/409/422 or a 200 with the
# form's errors is the page telling the user what is missing.
DEAD_POST = {403, 404, 405, 410}

pytestmark = pytest.mark.django_db


# --- The clinic -------------------------------------------------------------------------


@dataclass(frozen=True)
class Clinic:
    # Public ids of the client whose care team with `clinician` ended yesterday, and of
    # that client's appointments and notes with them.
    moved_client: str
    moved_ids: frozenset[str]


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker):
    """The demo clinic, built once for the module in a transaction rolled back at its
    end (each test runs in a savepoint inside it)."""
    from billing import icd

    # The ICD-10-CM table is read from its package once per installed version (seconds,
    # then a JSON file): not a page's time, so read before any page is timed.
    icd.warm()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            moved = build_clinic()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield moved
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def build_clinic() -> Clinic:
    """The demo clinic with the states the demo lacks and the staff tasks the sweep
    writes (also used by the browser tests that walk every page, e.g. the axe check)."""
    with override_settings(
        DEBUG=True,  # seed_demo refuses to run without it (known passwords)
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        call_command("seed_demo", stdout=io.StringIO())
        _buttons_the_demo_lacks()
        client = _client_moved_away_yesterday()
        # The staff tasks beat's sweep writes (missing notes, safety flags,
        # intake steps...): every task's link is followed like any other.
        _staff_tasks()
    return Clinic(
        moved_client=str(client.public_id),
        moved_ids=frozenset(
            str(public_id)
            for public_id in [
                client.public_id,
                *client.appointments.values_list("public_id", flat=True),
                *client.progress_notes.values_list("public_id", flat=True),
            ]
        ),
    )


def _staff_tasks():
    """What the sweep writes for staff (client reminders are no page's content)."""
    staff = {key: s for key, s in SOURCES.items() if s.audience == Audience.STAFF}
    with mock.patch.dict(SOURCES, staff, clear=True):
        reminders_schedule()


def _buttons_the_demo_lacks():
    """Two everyday states the demo has none of, each with its own buttons: yesterday's
    individual session with ``clinician``, not yet charted (No-show, the note form), and
    a break-the-glass access by ``clinician2`` waiting for the admin's review."""
    casey, jordan = User.objects.get(username="clinician"), User.objects.get(username="clinician2")
    client = (
        Client.objects.filter(
            care_team__staff=casey,
            care_team__role=CareTeamRole.PRIMARY,
            care_team__ended_on__isnull=True,
            status="active",
        )
        .order_by("mrn")
        .first()
    )
    start = datetime.combine(
        timezone.localdate() - timedelta(days=1), clock(16, 0), tzinfo=clinic_tz()
    )
    appointment_book(
        client=client,
        clinician=casey,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=casey,
    )
    services.emergency_access_open(
        client=client,
        actor=jordan,
        reason="Client arrived in crisis while the primary clinician was away; "
        "paramedics ask for the medication list.",
    )


def _client_moved_away_yesterday():
    """A client ``clinician`` saw until yesterday: a signed individual note waits for
    the supervisor's co-signature, another is still a draft; yesterday the client
    moved to ``clinician2`` and ``clinician``'s membership ended (the real service)."""
    staff = {u.username: u for u in User.objects.filter(username__in=DEMO_STAFF)}
    intake, casey, jordan = staff["intake"], staff["clinician"], staff["clinician2"]
    today = timezone.localdate()
    admitted_on = today - timedelta(days=30)
    client = services.client_register(
        actor=intake,
        legal_first_name="Wilhelmina",
        legal_last_name="Crawford",
        date_of_birth=date(1981, 6, 14),
        profession="pharmacist",
        employer="Northgate Pharmacy",
        referral_source="Self",
    )
    services.consent_record(
        client=client,
        actor=intake,
        discloser="Intensive Outpatient Program",
        information_categories=[InformationCategory.ALL],
        information_description="Records needed for treatment, payment and program operations.",
        recipient_type=RecipientType.TPO,
        purpose="Treatment, payment and health care operations",
        expiry_event="end of treatment",
        signed_by_name=client.legal_name,
        signed_on=admitted_on,
    )
    services.episode_admit(
        client=client,
        actor=intake,
        admitted_on=admitted_on,
        asam_level=AsamLevel.L2_1,
        dimension_ratings={f"d{n}": 1 for n in range(1, 7)},
        planned_length_days=90,
    )
    member = services.care_team_add(
        client=client,
        staff=casey,
        role=CareTeamRole.PRIMARY,
        actor=intake,
        started_on=admitted_on,
    )
    for days_ago, sign in ((6, True), (2, False)):
        start = datetime.combine(today - timedelta(days=days_ago), clock(16, 0), tzinfo=clinic_tz())
        appointment = appointment_book(
            client=client,
            clinician=casey,
            kind="individual",
            starts_at=start,
            ends_at=start + timedelta(minutes=50),
            actor=casey,
        )
        note = appointment_note_save(
            appointment=appointment,
            content=NoteContent(
                modality=Modality.objects.get(code="cbt"),
                interventions=["cognitive_restructuring"],
                time_in=clock(16, 0),
                time_out=clock(16, 50),
                body={"data": "Reports a calm week.", "assessment": "Engaged."},
                plan="Weekly individual session.",
                risk="none",
            ),
            actor=casey,
        )
        if sign:
            note_sign(note=note, actor=casey, password=DEMO_PASSWORD)
    services.care_team_add(
        client=client, staff=jordan, role=CareTeamRole.PRIMARY, actor=intake, started_on=today
    )
    services.care_team_end(member=member, actor=intake, ended_on=today - timedelta(days=1))
    return client


# --- The crawler ------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""
    hx: bool = False


# Every attribute that holds an address the browser may request or show.
ADDRESS_ATTRS = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "hx-get",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
}
# Response headers that send the browser somewhere.
ADDRESS_HEADERS = ("Location", "HX-Redirect", "HX-Location", "HX-Push-Url", "HX-Replace-Url")


class _Page(HTMLParser):
    """The links and forms of one HTML page, with the text a person reads on them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.addresses: list[tuple[str, str]] = []  # (attribute on tag, address)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.forms: list[Form] = []
        self.csrf_header = ""
        self._a: list | None = None
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        self.addresses.extend((f"{k} on <{tag}>", v) for k, v in a.items() if k in ADDRESS_ATTRS)
        if tag == "body" and "hx-headers" in a and "X-CSRFToken" in a["hx-headers"]:
            self.csrf_header = a["hx-headers"].split('"X-CSRFToken": "')[1].split('"')[0]
        if "hx-get" in a:
            self.links.append((a["hx-get"], f"hx-get on <{tag}>"))
        if "hx-post" in a:
            self.forms.append(Form("post", a["hx-post"], label=f"hx-post on <{tag}>", hx=True))
        if tag == "a" and "href" in a:
            self._a = [a["href"], ""]
        elif tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind in ("submit", "button", "image", "reset", "file"):
                pass
            elif self._form.method == "get" or kind == "hidden":
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name") and self._form.method == "get":
            self._select = (a["name"], [], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select[1].append(value)
            if "selected" in a:
                self._select[2].append(value)
        elif tag == "textarea" and a.get("name") and self._form.method == "get":
            self._textarea = [a["name"], ""]
        elif tag == "button" and not self._form.label:
            if a.get("name") and a.get("type", "submit") == "submit":
                self._form.fields.append((a["name"], a.get("value", "")))
            self._form.label = "<button>"

    def handle_data(self, data):
        if self._a is not None:
            self._a[1] += data
        if self._textarea is not None:
            self._textarea[1] += data
        if self._form is not None and self._form.label == "<button>" and data.strip():
            self._form.label = data.strip()

    def handle_endtag(self, tag):
        if tag == "a" and self._a is not None:
            self.links.append((self._a[0], " ".join(self._a[1].split())))
            self._a = None
        elif tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, values, selected = self._select
            chosen = selected[:1] or values[:1]
            self._form.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.fields.append(tuple(self._textarea))
            self._textarea = None


def _same_site(base: str, href: str) -> str | None:
    """The path and query ``href`` leads to on this site, or None to leave it alone."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http", "https"):
        return None
    if parts.path.startswith(settings.STATIC_URL):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _route(url: str) -> tuple[str, bool]:
    """The URL's name, and whether it is one object's page (an id in the path)."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return "(no route)", False
    return match.view_name, bool(match.kwargs)


def _url_name(url: str) -> str:
    return _route(url)[0]


# --- What a page shows, and what it wrote on the audit trail ----------------------------

# Pages that show clinical content about each client they show (the read-audit rule in
# the README's "Audit trail"): each client shown needs an access row of their own.
# Dashboard sections and reports say so where they are registered (``clinical=True``).
CLINICAL_PAGES = {
    "screening:collection_list",  # each random selection, its status and its result
    "notifications:tasks",  # what is clinically due for each client named
    "clients:emergency_review",  # each emergency, in the words of whoever opened it
}
REPORT_PAGES = {"reports:report", "reports:print"}


def _last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


class ClientSpotter:
    """Finds the clinic's clients on a page as a person reads them there: by MRN, by
    the name shown (preferred first name) or the legal name. A name two clients share
    (the demo has such twins) tells them apart by nothing: the MRN beside it does."""

    def __init__(self):
        owners = {}
        for c in Client.objects.values(
            "public_id", "mrn", "legal_first_name", "preferred_name", "legal_last_name"
        ):
            first = c["preferred_name"] or c["legal_first_name"]
            for word in (
                c["mrn"],
                f"{first} {c['legal_last_name']}",
                f"{c['legal_first_name']} {c['legal_last_name']}",
            ):
                owners.setdefault(word, set()).add(c["public_id"])
        self.by_word = {word: ids.pop() for word, ids in owners.items() if len(ids) == 1}
        staff = {f"{u.first_name} {u.last_name}" for u in User.objects.all()}
        assert not staff & set(self.by_word), "a client shares a staff member's name"
        words = sorted(self.by_word, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, words)) + r")(?![\w-])")
        self.clinical_sections = {s.key for s in dashboard.SECTIONS if s.clinical}
        self.clinical_reports = {r.key for r in REPORTS.values() if r.clinical}

    def spot(self, text: str) -> frozenset:
        return frozenset(self.by_word[word] for word in self.pattern.findall(text))

    def _clinical_parts(self, url: str, name: str, text: str) -> list[str]:
        if name in CLINICAL_PAGES:
            return [text]
        if name in REPORT_PAGES and resolve(urlsplit(url).path).kwargs["key"] in (
            self.clinical_reports
        ):
            return [text]
        if name == "dashboard":  # the sections registered as clinical
            parts = re.split(r'(?=data-testid="section-)', text)
            return [
                part
                for part in parts
                if (m := re.match(r'data-testid="section-([\w-]+)"', part))
                and m.group(1) in self.clinical_sections
            ]
        return []

    def read(self, url: str, name: str, response, last_row: int) -> "Read":
        rows = tuple(
            AuditEvent.objects.filter(id__gt=last_row)
            .order_by("id")
            .values_list("action", "client_id", "detail")
        )
        text = "" if response.streaming else unescape(response.content.decode(errors="replace"))
        clinical = frozenset().union(*map(self.spot, self._clinical_parts(url, name, text)))
        html = response.get("Content-Type", "").startswith("text/html")
        return Read(url, name, self.spot(text), clinical, rows, html)


@dataclass(frozen=True)
class Read:
    """One page fetched with GET: the clients it shows, and the audit rows it wrote."""

    url: str
    name: str
    shown: frozenset  # public ids of the clients whose MRN or name is on the page
    # Of those, the ones shown where the page shows clinical content (a dashboard
    # section registered ``clinical``, a clinical report, a page of CLINICAL_PAGES).
    shown_clinical: frozenset
    rows: tuple  # (action, client_id, detail) of each audit row the request wrote
    html: bool


@dataclass
class Crawl:
    username: str
    failures: list[str] = field(default_factory=list)
    fetched: int = 0
    parsed: int = 0
    posted: int = 0
    tried: set[str] = field(default_factory=set)  # every URL fetched or posted to
    timings: list[tuple[float, str]] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # (method, url, status)
    seen_names: set[str] = field(default_factory=set)
    # Every address a page, a redirect or an htmx header gave: (address, where, what).
    addresses: list[tuple[str, str, str]] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)  # every 200 answer to a GET
    # Every page parsed that is a whole HTML document (not an htmx fragment): (url, name).
    documents: list[tuple[str, str]] = field(default_factory=list)

    def saw_headers(self, response, url):
        self.addresses.extend(
            (response[name], url, f"{name} header") for name in ADDRESS_HEADERS if name in response
        )

    def fail(self, method, url, status, found_on, label, why=""):
        self.failures.append(
            f"{self.username}: {method} {url} answered {status}{why} (the {label!r} on {found_on})"
        )


def _timed(crawl: Crawl, method: str, url: str, call):
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    crawl.timings.append((elapsed, f"{method} {url}"))
    crawl.answers.append((method, url, response.status_code))
    return response, elapsed


def crawl_as(username: str, *, pages_only: bool = False) -> Crawl:
    """The walk for one account. ``pages_only`` finds the app's pages and no more (for the
    browser tests that open each one): no button posted, no read audit read, none of
    Django's generated admin pages followed, no more pages of a kind fetched once
    PER_NAME of them were read."""
    user = User.objects.get(username=username)
    spotter = None if pages_only else ClientSpotter()
    browser = Browser(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(user)
    crawl = Crawl(username)
    queue = deque([("/", "(start)", "dashboard")])
    queued = {"/"}
    parsed_by_name = Counter()
    tried_by_name = Counter()  # links queued and buttons kept, per URL name
    posts: dict[tuple, tuple[Form, str, str]] = {}

    def wanted(target, on_object_page):
        # Every link and button of a list is tried; an object's page adds at most
        # PER_NAME of each kind (its client's other pages were reached the same way).
        name = _url_name(target)
        if name in SKIP_NAMES or (pages_only and name.startswith("admin:")):
            return False
        if name.startswith("admin:") and tried_by_name[name] >= ADMIN_PER_NAME:
            return False
        if on_object_page and tried_by_name[name] >= PER_NAME:
            return False
        tried_by_name[name] += 1
        return True

    def discover(url, found_on, label, on_object_page):
        if url not in queued and wanted(url, on_object_page):
            queued.add(url)
            queue.append((url, found_on, label))

    while queue:
        url, found_on, label = queue.popleft()
        name, object_page = _route(url)
        if pages_only and parsed_by_name[name] >= PER_NAME:
            continue  # enough pages of this kind were read for more links
        crawl.seen_names.add(name)
        last_row = _last_audit_id() if spotter else 0
        response, elapsed = _timed(crawl, "GET", url, lambda u=url: browser.get(u))
        crawl.fetched += 1
        crawl.tried.add(url)
        crawl.saw_headers(response, url)
        status = response.status_code
        if status == 200 and spotter:
            crawl.reads.append(spotter.read(url, name, response, last_row))
        if status >= 400:
            crawl.fail("GET", url, status, found_on, label, _exception(response))
            continue
        if elapsed > SLOW_SECONDS:
            crawl.fail("GET", url, f"{status} in {elapsed:.1f} s", found_on, label)
        if 300 <= status < 400:
            target = _same_site(url, response["Location"])
            if target and _url_name(target) in ("accounts:login", "accounts:otp_verify"):
                crawl.fail("GET", url, status, found_on, label, f", sent to sign in ({target})")
            elif target:
                discover(target, found_on, f"{label}, redirected", False)
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue  # a CSV, a print file, JSON
        if parsed_by_name[name] >= PER_NAME or crawl.parsed >= PAGES:
            continue  # (admin pages never get here twice: ADMIN_PER_NAME)
        parsed_by_name[name] += 1
        crawl.parsed += 1
        page = _Page()
        page.feed(response.content.decode())
        if b"<html" in response.content[:200]:
            crawl.documents.append((url, name))
        crawl.addresses.extend((address, url, attr) for attr, address in page.addresses)
        for href, text in page.links:
            target = _same_site(url, href)
            if target:
                discover(target, url, text or href, object_page)
        for form in page.forms:
            target = _same_site(url, form.action or url)
            if target is None:
                continue
            if form.method == "get":
                query = urlencode(form.fields)
                path = target.split("?")[0]
                discover(f"{path}?{query}" if query else path, url, form.label, object_page)
                continue
            key = (target, tuple(sorted(form.fields)))
            if key not in posts and wanted(target, object_page):
                if form.hx:
                    form.fields.append(("__hx_csrf", page.csrf_header))
                posts[key] = (form, target, url)

    # Every button kept, each against the state the crawl saw, rolled back after.
    for form, target, found_on in posts.values() if not pages_only else ():
        data = dict(form.fields)
        headers = {}
        if form.hx:
            headers = {"HTTP_X_CSRFTOKEN": data.pop("__hx_csrf"), "HTTP_HX_REQUEST": "true"}
        with transaction.atomic():
            response, elapsed = _timed(
                crawl, "POST", target, lambda t=target, d=data, h=headers: browser.post(t, d, **h)
            )
            transaction.set_rollback(True)
        crawl.posted += 1
        crawl.saw_headers(response, f"POST {target}")
        crawl.tried.add(target)
        crawl.seen_names.add(_url_name(target))
        status = response.status_code
        label = f"button {form.label or '(no text)'}"
        if status in DEAD_POST or status >= 500:
            crawl.fail("POST", target, status, found_on, label, _exception(response))
        elif elapsed > SLOW_SECONDS:
            crawl.fail("POST", target, f"{status} in {elapsed:.1f} s", found_on, label)
    return crawl


@contextmanager
def _quiet_client_errors():
    """The crawl's expected 4xx answers (a form posted empty) stay out of the log; a 5xx
    is still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _exception(response) -> str:
    info = getattr(response, "exc_info", None)
    return f", raised {info[1]!r}" if info else ""


# --- The tests --------------------------------------------------------------------------

# One crawl per account for the module, read by each test below (the clinic is the
# module's; what a crawl wrote is rolled back with the test that ran it).
_CRAWLS: dict[str, tuple[Crawl, float, float]] = {}


def _crawled(username: str) -> tuple[Crawl, float, float]:
    if username not in _CRAWLS:
        started, cpu = time.perf_counter(), time.process_time()
        with _quiet_client_errors():
            crawl = crawl_as(username)
        _CRAWLS[username] = (crawl, time.perf_counter() - started, time.process_time() - cpu)
    return _CRAWLS[username]


@pytest.mark.parametrize("username", list(DEMO_STAFF))
def test_every_link_and_button_answers_for_each_demo_account(clinic, username):
    crawl, seconds, cpu = _crawled(username)
    slowest = sorted(crawl.timings, reverse=True)[:3]
    print(  # the crawl's size, shown with pytest -s
        f"\n{username}: {crawl.fetched} fetched, {crawl.parsed} parsed, {crawl.posted} posted, "
        f"{len(crawl.seen_names)} URL names, {seconds:.1f} s ({cpu:.1f} s CPU); slowest "
        + ", ".join(f"{what} {t * 1000:.0f} ms" for t, what in slowest)
    )
    assert crawl.parsed > 5, f"{username}'s dashboard led nowhere"
    assert not crawl.failures, f"{len(crawl.failures)} dead:\n" + "\n".join(crawl.failures)
    details = client_details()
    leaks = sorted(
        {
            f"{what} on {where}: {address} ({', '.join(found)})"
            for address, where, what in crawl.addresses
            if (found := details_in(address, details))
        }
    )
    assert not leaks, f"{len(leaks)} addresses name a client:\n" + "\n".join(leaks[:50])
    assert len(crawl.addresses) > crawl.parsed  # the check saw the pages' addresses
    moved = sorted(u for u in crawl.tried if any(i in u for i in clinic.moved_ids))
    if username == "clinician2":  # the moved client's new primary clinician
        assert any(clinic.moved_client in url for url in moved), "the moved client is missing"
    elif username in ("clinician", "supervisor"):  # no reason since yesterday
        assert not moved, f"{username} was led to the moved client:\n" + "\n".join(moved)


# --- No client details in addresses ------------------------------------------------------

# How a date of birth is written on the pages (ISO on the chart, "June 14, 1981" on a
# consent) and other ways a form or a link might spell it.
DOB_FORMATS = ("Y-m-d", "F j, Y", "M j, Y", "j F Y", "j M Y", "m/d/Y", "n/j/Y", "d/m/Y", "d.m.Y")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(text.lower()))


@dataclass(frozen=True)
class Details:
    """What identifies the clinic's clients, as it could appear in an address."""

    words: frozenset[tuple[str, ...]]  # MRNs and names, each as its lowercase words
    dates: frozenset[str]  # dates of birth, lowercase, in every DOB_FORMATS


def client_details() -> Details:
    words, dates = set(), set()
    for client in Client.objects.all():
        for value in (
            client.mrn,
            client.legal_first_name,
            client.legal_last_name,
            client.preferred_name,
        ):
            if _words(value):
                words.add(_words(value))
        dates.update(date_format(client.date_of_birth, fmt).lower() for fmt in DOB_FORMATS)
    return Details(frozenset(words), frozenset(dates))


def details_in(address: str, details: Details) -> list[str]:
    """The client details ``address`` carries, decoded, in any case. A name or an MRN
    counts as whole words (``Kai`` is not in ``/kaizen/``); public ids are left out
    first, since a run of hex digits in one may spell an MRN such as ``D1001``."""
    text = UUID.sub(" ", unquote_plus(unquote_plus(address))).lower()
    found = sorted(d for d in details.dates if d in text)
    words = _words(text)
    for name in details.words:
        n = len(name)
        if any(words[i : i + n] == name for i in range(len(words) - n + 1)):
            found.append(" ".join(name))
    return found


def _addresses(response) -> list[str]:
    page = _Page()
    page.feed(response.content.decode())
    return [address for _, address in page.addresses] + [
        response[name] for name in ADDRESS_HEADERS if name in response
    ]


def test_the_address_check_finds_a_client_in_any_spelling(clinic):
    details = client_details()
    moved = Client.objects.get(public_id=clinic.moved_client)
    other = Client.objects.exclude(pk=moved.pk).order_by("mrn").first()
    for address in (
        f"/audit/?mrn={other.mrn}",
        f"/audit/?mrn={other.mrn.lower()}&before=12",
        f"/clients/?q={moved.legal_last_name.upper()}",
        "/clients/?q=Wilhelmina%20Crawford",
        "/clients/?q=wilhelmina+crawford",
        "/x/?dob=1981-06-14",
        "/x/?born=June+14%2C+1981",
        f"https://elsewhere.example/{other.legal_first_name}/",
    ):
        assert details_in(address, details), address
    for address in (
        f"/clients/{moved.public_id}/",
        "/audit/?f=0123456789abcdef&before=1001",
        "/scheduling/week/?start=2026-06-14",
        "/static/css/app.css",
    ):
        assert not details_in(address, details), address


def test_the_audit_filter_and_the_client_search_give_no_address_naming_a_client(clinic):
    """The admin filters the audit trail by a client's MRN and pages through it and to
    its CSV; staff search clients by name, full name and MRN and page the results: no
    redirect, link or form on the way names the client."""
    details = client_details()
    moved = Client.objects.get(public_id=clinic.moved_client)
    admin = User.objects.get(username="admin")
    for _ in range(60):  # more than a page of the client's events
        audit_record(action="client.view", actor=admin, client=moved.public_id)
    seen: list[str] = []

    web = Browser(raise_request_exception=False)
    web.force_login(admin)
    for data in ({"mrn": moved.mrn.lower()}, {"client": str(moved.public_id)}):
        posted = web.post(reverse("audit:list"), data)
        assert posted.status_code == 302
        seen += _addresses(posted)
        page = web.get(posted["Location"])
        assert page.context["events"] and len(page.context["events"]) == 50
        assert {e.client_id for e in page.context["events"]} == {moved.public_id}
        seen += _addresses(page)
        older = web.get(f"{posted['Location']}&before={page.context['older_before']}")
        assert {e.client_id for e in older.context["events"]} == {moved.public_id}
        seen += _addresses(older)
        export = web.get(reverse("audit:export") + "?" + posted["Location"].split("?")[1])
        assert (
            export.status_code == 200 and moved.mrn in b"".join(export.streaming_content).decode()
        )

    for username in ("admin", "intake", "clinician2"):
        web = Browser(raise_request_exception=False)
        web.force_login(User.objects.get(username=username))
        for text in (moved.legal_last_name, moved.legal_name, moved.mrn, ""):
            posted = web.post(reverse("clients:list"), {"q": text, "status": ""})
            assert posted.status_code == 302
            seen += _addresses(posted)
            page = web.get(posted["Location"])
            seen += _addresses(page)
            if page.context["page"].has_next():
                seen += _addresses(web.get(f"{posted['Location']}&page=2"))
        assert (
            moved.legal_last_name
            in web.get(
                web.post(reverse("clients:list"), {"q": moved.mrn, "status": ""})["Location"]
            ).content.decode()
        )  # clinician2 and the others do find the client

    leaks = sorted({f"{a} ({', '.join(found)})" for a in seen if (found := details_in(a, details))})
    assert not leaks, "\n".join(leaks)
    assert any("?f=" in address for address in seen)


# --- Every page that shows clients is on the audit trail ---------------------------------

# Pages that show no client's data, whoever asks: they write no read-audit row, and the
# test below fails if one of them shows a client's MRN or name. Each with its reason;
# a value other than True says which of the page's URLs it covers.
NO_CLIENT_DATA = {
    "accounts:otp_setup": True,  # the authenticator set-up
    "notifications:task_count": True,  # the menu's badge: a number
    "reports:index": True,  # the list of reports
    # A report's filter form, before it is run (its results come with the filters).
    "reports:report": lambda url: "?" not in url,
    "scheduling:day": True,  # the program's sessions by slot, with counts
    "clients:register": True,  # the registration form
    "clients:emergency_access": True,  # the break-the-glass form (an MRN is typed)
    # Billing's configuration (issue 22): payers, their fees, the program as provider.
    "billing:payers": True,
    "billing:payer": True,
    "billing:payer_add": True,
    "billing:payer_edit": True,
    "billing:provider": True,
}
# Django's admin: the program's configuration (tracks, rooms, staff); its pages show no
# client's name or MRN (its outbox and audit rows carry the client's opaque id only).
NO_CLIENT_DATA_PREFIXES = ("admin:",)
# Pages that show several clients' content with one row naming none, while their
# per-client rows are still to come; the test fails once one of them names each client
# it shows (then take it off). Empty: the group pages write a row per member shown.
PER_CLIENT_ROWS_PENDING: set[str] = set()
URL_NAMES = {
    f"{namespace}:{name}" if namespace else name
    for namespace, (_prefix, resolver) in [
        ("", ("", get_resolver())),
        *get_resolver().namespace_dict.items(),
    ]
    for name in resolver.reverse_dict
    if isinstance(name, str)
}
COUNTED = re.compile(r"(?:^|; )clients=(\d+)(?:;|$)")


def _shows_no_client_data(read: Read) -> bool:
    if read.name.startswith(NO_CLIENT_DATA_PREFIXES):
        return True
    rule = NO_CLIENT_DATA.get(read.name, False)
    return rule is True or (callable(rule) and rule(read.url))


def _audit_problems(read: Read) -> list[str]:
    """What is wrong with the read audit of one page (README, "Audit trail"): a page
    that shows clients writes one row for the page with their count, and one access row
    per client it shows clinical content about; a page about one client names it."""
    where = f"GET {read.url} ({read.name})"
    if _shows_no_client_data(read):
        if read.shown:
            return [f"{where} shows {len(read.shown)} client(s) but is listed as showing none"]
        return []
    if not read.rows:
        return [f"{where} wrote no audit row"]
    named = {client_id for _action, client_id, _detail in read.rows if client_id}
    counts = [
        int(match.group(1))
        for _action, client_id, detail in read.rows
        if client_id is None and (match := COUNTED.search(detail))
    ]
    problems = []
    unnamed = read.shown_clinical - named
    if read.name in PER_CLIENT_ROWS_PENDING:
        if read.shown and not read.shown - named:
            problems.append(f"{read.name} now names each client: take it off the pending list")
        return problems
    if unnamed:
        problems.append(
            f"{where} shows clinical content about {len(unnamed)} client(s) with no access row"
            " of their own"
        )
    uncounted = read.shown - named
    if uncounted and max(counts, default=-1) < len(uncounted):
        problems.append(
            f"{where} shows {len(uncounted)} client(s) that its audit rows neither name nor"
            f" count (counted: {counts or 'none'})"
        )
    return problems


@pytest.mark.parametrize("username", list(DEMO_STAFF))
def test_every_page_that_shows_clients_is_on_the_audit_trail(clinic, username):
    """Each page the account reached with GET, found by the crawl above: a page that may
    show clients wrote its read audit (the count of clients shown, and an access row per
    client shown with clinical content), and a page listed as showing no client shows
    none. A new page that shows clients and writes no row fails here."""
    for name in (*NO_CLIENT_DATA, *PER_CLIENT_ROWS_PENDING):
        assert name in URL_NAMES, f"{name} is no page of the URL configuration"
    crawl, _seconds, _cpu = _crawled(username)
    problems = [problem for read in crawl.reads for problem in _audit_problems(read)]
    assert not problems, f"{len(problems)} pages:\n" + "\n".join(sorted(set(problems)))
    # Every account's crawl met clients: the check above had pages to check.
    shown = set().union(*(read.shown for read in crawl.reads))
    assert shown, f"{username} was shown no client at all: the check above checked nothing"

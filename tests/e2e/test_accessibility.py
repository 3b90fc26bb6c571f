"""Every app page passes axe-core's WCAG 2.0 and 2.1 A and AA rules (issue 20, item 4),
for every demo account, in Chromium.

The pages are the ones tests/test_crawl.py finds: for each account of ``seed_demo``,
the walk from the dashboard over every link and GET form (the demo clinic plus the
states it lacks: an uncharted session, a break-the-glass access, a moved client, the
staff tasks), so a page added later is checked as soon as a link leads to it. Each
kind of whole page (not an htmx fragment) is opened once for each account that reaches
it, or once in all for a page about one object (see ``app_pages``), with axe-core
(vendored, pinned: static/vendor/axe-core/VERSION) loaded from the app's own static
files, as the content security policy allows; app pages themselves never load it.
"""

import re
import time
from importlib import import_module
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.urls import resolve

from iop.accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from iop.reports.registry import REPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = "/static/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Rules switched off, each with the reason it is a false positive here. None so far.
DISABLED_RULES: dict[str, str] = {}
# Django's generated admin (the admin account's configuration pages) is Django's own
# templates and CSS, not the app's: the check covers the pages this project writes.
NOT_APP_PAGES = ("admin:",)
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+", re.I)
# Pages checked for every account that reaches them, though their URL names one object:
# the chart's sections and buttons depend on the role.
PER_ACCOUNT = {"clients:chart"}

# Forms whose answer is a page of its own that the crawl may not reach: their button.
RUN_FORMS = {"reports:report": "[data-testid=report-filters] button[type=submit]"}

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Pages allowed wider than a phone, each with the reason.
WIDE_OK = {
    # Laid out for paper (A4 or Letter, portrait: about 700 CSS px), not for a screen;
    # the report's own page (reports:report) fits a phone.
    "reports:print": "a print view",
}
# The page's width and, when wider than ``limit``, the elements that stick out past the
# right edge though their parent does not (and no scrolling box holds them, as
# .table-responsive does), named by the nearest data-testid or id around them.
OVERFLOW = """(limit) => {
  const width = document.documentElement.scrollWidth;
  if (width <= limit) return [width, []];
  const right = (el) => Math.round(el.getBoundingClientRect().right);
  const held = (el) => {
    if (getComputedStyle(el).position === "absolute") return false;  // escapes a scroller
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const past = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (right(el) <= limit + 1 || right(el.parentElement) > limit + 1 || held(el)) continue;
    const where = el.closest("[data-testid], [id]");
    const name = where ? where.dataset.testid || where.id : "";
    past.push(`<${el.tagName.toLowerCase()} class="${el.className}"> in ${name} to ${right(el)}`);
  }
  return [width, past.slice(0, 6)];
}"""

RUN_AXE = """async ([tags, disabled]) => {
  const rules = Object.fromEntries(disabled.map((id) => [id, {enabled: false}]));
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, rules, resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


def _restore_migration_rows() -> None:
    """An earlier transactional test's flush removed what the migrations seeded (roles,
    tracks and slots, panels, modalities and topics), which seed_demo builds on."""
    from clinical.notes.catalog import seed_catalog
    from tests.screening.factories import ensure_screening_defaults

    import_module("iop.accounts.migrations.0002_roles").create_roles(apps, None)
    ensure_screening_defaults()
    seed_catalog(apps)


def _kind(url: str, name: str) -> tuple:
    """What makes two pages of one URL name different pages to check: the arguments in
    the path that are no object's id (a report's key, a measure's instrument), and
    whether a form's filters came with it (a report's form, or its results)."""
    parts = urlsplit(url)
    kwargs = resolve(parts.path).kwargs
    named = tuple(sorted((k, str(v)) for k, v in kwargs.items() if not ID.fullmatch(str(v))))
    return name, named, bool(parts.query)


def app_pages(username: str, checked: set[tuple]) -> list[tuple[str, str]]:
    """(url, URL name) of one whole page of each kind (``_kind``) the account reaches:
    every list page (no object in its URL: the dashboard, lists, queues, the report
    index) and the chart for each account, since what they show depends on the role; a
    page about one object (a note, a screen, a plan, a report) once, for the first
    account that reaches it (``checked`` holds those kinds), to keep the walk within
    two minutes."""
    from tests.test_crawl import _quiet_client_errors, crawl_as

    with _quiet_client_errors():
        crawl = crawl_as(username, pages_only=True)
    pages, kinds = [], set()
    for url, name in crawl.documents:
        kind = _kind(url, name)
        if kind in kinds or name.startswith(NOT_APP_PAGES):
            continue
        kinds.add(kind)
        if resolve(urlsplit(url).path).kwargs and name not in PER_ACCOUNT:
            if kind in checked:
                continue
            checked.add(kind)
        pages.append((url, name))
    return pages


def signed_in(browser, base_url, username, **context_options):
    context = browser.new_context(base_url=base_url, **context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return context, page


def settle(page, timeout=5.0):
    """Wait for the htmx requests a page starts on load (the task badge, lazy sections)."""
    deadline = time.monotonic() + timeout
    while page.evaluate("!!document.querySelector('.htmx-request')"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)


def axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    return page.evaluate(RUN_AXE, [TAGS, list(DISABLED_RULES)])


def describe(username, url, name, violations) -> list[str]:
    return [
        f"{username} {url} ({name}): {v['id']} [{v['impact']}] {v['help']}: "
        + "; ".join(n["target"] for n in v["nodes"][:8])
        + (f" (+{len(v['nodes']) - 8} more)" if len(v["nodes"]) > 8 else "")
        for v in violations
    ]


def test_every_app_page_passes_axe_and_fits_a_phone_for_each_demo_account(browser, live_server):
    from tests.test_crawl import build_clinic

    started = time.perf_counter()
    _restore_migration_rows()
    build_clinic()
    built = time.perf_counter()
    walking = 0.0
    failures, too_wide, checked, visits, kinds = [], [], set(), [], set()
    for username in DEMO_STAFF:
        walk = time.perf_counter()
        pages = app_pages(username, checked)
        walking += time.perf_counter() - walk
        context, page = signed_in(browser, live_server.url, username, viewport=DESKTOP)

        def check(url, name, page=page, username=username):
            settle(page)
            failures.extend(describe(username, url, name, axe_violations(page)))
            visits.append(name)
            kinds.add(_kind(url, name))
            if name in WIDE_OK:
                return
            page.set_viewport_size(PHONE)
            width, past = page.evaluate(OVERFLOW, PHONE["width"])
            if width > PHONE["width"]:
                too_wide.append(f"{username} {url} ({name}): {width} px wide: {past}")
            page.set_viewport_size(DESKTOP)

        try:
            for url, name in pages:
                response = page.goto(url)
                assert response and response.ok, f"{username}: {url} answered {response.status}"
                check(url, name)
                if name in RUN_FORMS and "?" not in url:
                    # The crawl reads a few pages of a kind; run each report as a person
                    # would, with the form's defaults, and check what it shows.
                    with page.expect_navigation():
                        page.click(RUN_FORMS[name])
                    check(page.url.removeprefix(live_server.url), name)
        finally:
            context.close()
    seconds = time.perf_counter() - built
    print(  # shown with pytest -s
        f"\naxe: {len(visits)} pages ({len(set(visits))} URL names) for {len(DEMO_STAFF)} "
        f"accounts in {seconds:.1f} s, of which {walking:.1f} s finding them (clinic built in "
        f"{built - started:.1f} s)"
    )
    # The walk reached the pages that only show once there is data.
    for must in ("dashboard", "clients:chart", "notes:group_note", "screening:history"):
        assert must in visits, f"the walk never reached {must}"
    results = {
        dict(named)["key"] for name, named, query in kinds if name == "reports:report" and query
    }
    assert results >= set(REPORTS), f"reports never run: {set(REPORTS) - results}"
    assert not failures, f"{len(failures)} axe violations:\n" + "\n".join(failures)
    assert not too_wide, f"{len(too_wide)} pages wider than a phone:\n" + "\n".join(too_wide)


# --- The client portal (/my/): its own sign-in, so its own walk -----------------------

PORTAL_WIDTHS = {"phone": PHONE, "desktop": {"width": 1366, "height": 900}}


def _portal_states(page, client):
    """(label, how to get there) for every portal page and state, in order: the sign-in
    pages before the link is used, then every page of the menu, a 404, and the code
    page of an account with an authenticator."""
    from django.urls import reverse

    from portal.navigation import NAV
    from tests.portal.fixtures import link_path, printed_link

    def post_sign_in(address):
        def go():
            page.goto(reverse("portal:sign_in"))
            page.fill("input[name=address]", address)
            with page.expect_navigation(wait_until="load"):
                page.click("button[type=submit]")

        return go

    link = link_path(printed_link(client.mrn))

    def follow_link():
        page.goto(link)
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")

    def bad_link():
        page.goto(reverse("portal:link", args=["x" * 43]))
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")

    states = [
        ("sign in", lambda: page.goto(reverse("portal:sign_in"))),
        ("sign in, a typing slip", post_sign_in("hello")),
        ("link sent", post_sign_in("someone@mail.example")),
        ("link", lambda: page.goto(link)),
        ("link refused", bad_link),
        ("home", follow_link),
    ]
    states += [(item.label, lambda u=item.url_name: page.goto(reverse(u))) for item in NAV]
    states.append(("404 for a staff page", lambda: page.goto("/clients/")))
    return states


def test_every_portal_page_passes_axe_at_390_and_1366_px(browser, live_server, week):
    from clinical.plans import services as plans
    from iop.audit.services import AuditContext, audit_record
    from portal.models import ClientAuthenticator
    from tests.portal.fixtures import link_path, printed_link

    client = week.enrollments.get().client
    clinician = week.facilitators.get()
    plans.relapse_plan_save(
        client=client,
        content={
            "triggers": {"people": ["Old colleagues"], "places": ["The hospital bar"]},
            "warning_signs": ["Skipping lunch"],
            "coping_strategies": ["Call Dana"],
            "contacts": [{"name": "Dana", "relationship": "Sponsor", "phone": "+16175550111"}],
            "emergency_steps": ["Call my sponsor"],
        },
        of_version=0,
        actor=clinician,
    )
    audit_record(action="access.clinical", audit=AuditContext(actor=clinician), client=client)
    failures, too_wide, seen = [], [], []
    for width_name, viewport in PORTAL_WIDTHS.items():
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            for label, go in _portal_states(page, client):
                go()
                page.wait_for_load_state("load")
                seen.append(label)
                where = f"{width_name} {label} ({page.url})"
                failures += describe("client", where, label, axe_violations(page))
                width, past = page.evaluate(OVERFLOW, viewport["width"])
                if width > viewport["width"]:
                    too_wide.append(f"{where}: {width} px: {past}")
            # The code page, for an account with an authenticator on.
            ClientAuthenticator.objects.update_or_create(
                account=client.portal_account, defaults={"key": "00" * 20, "confirmed": True}
            )
            page.context.clear_cookies()
            page.goto(link_path(printed_link(client.mrn)))
            with page.expect_navigation(wait_until="load"):
                page.click("button[type=submit]")
            assert "/my/verify/" in page.url
            failures += describe("client", f"{width_name} verify", "verify", axe_violations(page))
            ClientAuthenticator.objects.all().delete()
        finally:
            context.close()
    assert {"sign in", "link refused", "My schedule", "Who looked at my record"} <= set(seen)
    assert not failures, f"{len(failures)} axe violations:\n" + "\n".join(failures)
    assert not too_wide, "portal pages wider than the screen:\n" + "\n".join(too_wide)


# --- Questionnaires, consents and letters (portal2): each page and state ------------------


def test_portal_measures_consents_and_letters_pass_axe_at_390_and_1366_px(
    browser, live_server, week, clinician, intake_user
):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from clients import services as client_services
    from clinical.meds.services import measure_assign
    from portal import letter_services
    from tests.iop.factories import PASSWORD
    from tests.portal.fixtures import link_path, printed_link

    client = week.enrollments.get().client
    with_team = client_services.care_team_add(
        client=client, staff=clinician, role="primary", actor=intake_user
    )
    assert with_team
    consent_fields = {
        "discloser": "Intensive Outpatient Program",
        "information_categories": ["attendance"],
        "information_description": "Attendance since admission",
        "recipient_type": "organisation",
        "purpose": "Monitoring of return to practice",
        "expires_on": timezone.localdate() + timedelta(days=365),
        "expiry_event": "",
        "revocation_statement": "Revoke in writing to the privacy officer.",
    }
    failures, too_wide, seen = [], [], []

    def check(page, width_name, viewport, label):
        page.wait_for_load_state("load")
        seen.append(label)
        where = f"{width_name} {label} ({page.url})"
        failures.extend(describe("client", where, label, axe_violations(page)))
        width, past = page.evaluate(OVERFLOW, viewport["width"])
        if width > viewport["width"]:
            too_wide.append(f"{where}: {width} px: {past}")

    for width_name, viewport in PORTAL_WIDTHS.items():
        assignment = measure_assign(
            client=client, instrument="phq9", every_days=None, actor=clinician
        )
        prepared = client_services.consent_prepare(
            client=client,
            actor=intake_user,
            recipient_name=f"Board of Nursing ({width_name})",
            **consent_fields,
        )
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            page.goto(link_path(printed_link(client.mrn)))
            with page.expect_navigation(wait_until="load"):
                page.click("button[type=submit]")
            page.goto(reverse("portal:letters"))
            check(page, width_name, viewport, "letters without a consent")
            page.goto(reverse("portal:measures"))
            check(page, width_name, viewport, "questionnaires due")
            page.goto(reverse("portal:measure_answer", args=[assignment.public_id]))
            check(page, width_name, viewport, "questionnaire")
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("send-answers").click()
            check(page, width_name, viewport, "questionnaire with errors")
            for code in range(1, 10):
                page.check(f"input[name=item_{code}][value='{1 if code == 9 else 0}']")
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("send-answers").click()
            check(page, width_name, viewport, "crisis resources")
            page.goto(reverse("portal:consent", args=[prepared.public_id]))
            check(page, width_name, viewport, "consent to sign")
            page.get_by_label("Type your full legal name to sign").fill("Somebody Else")
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("sign-consent").click()
            check(page, width_name, viewport, "consent signature refused")
            page.get_by_label("Type your full legal name to sign").fill(client.legal_name)
            page.get_by_label("I have read this consent in full", exact=False).check()
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("sign-consent").click()
            page.locator("details summary").first.click()
            check(page, width_name, viewport, "signed consent, revoke open")
            page.goto(reverse("portal:consents"))
            check(page, width_name, viewport, "consents")
            page.goto(reverse("portal:letters"))
            check(page, width_name, viewport, "letters with the form")
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("request-letter").click()
            letter = client.attendance_letters.order_by("-id").first()
            letter = letter_services.letter_approve(letter=letter, actor=clinician)
            page.goto(reverse("portal:letters"))
            check(page, width_name, viewport, "letters, one ready")
            context.clear_cookies()
            page.goto(reverse("letter_verify"))
            check(page, width_name, viewport, "verify")
            page.get_by_label("Verification code").fill(letter.verification_code)
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("verify-code").click()
            check(page, width_name, viewport, "verify, a match")
            page.get_by_label("Verification code").fill("nothing")
            with page.expect_navigation(wait_until="load"):
                page.get_by_test_id("verify-code").click()
            check(page, width_name, viewport, "verify, no match")
            # The staff's pages about it: the measure request, the consent to prepare,
            # the letter requests and a letter waiting.
            waiting = letter_services.letter_request(
                client=client,
                consent=letter.consent,
                period_start=letter.period_start,
                period_end=letter.period_end - timedelta(days=1),
                include_screens=False,
                audit=None,
            )
            page.goto("/accounts/login/")
            page.fill("input[name=username]", clinician.username)
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation(wait_until="load"):
                page.click("button[type=submit], input[type=submit]")
            for label, url in (
                (
                    "staff: ask for a measure",
                    reverse("meds:measure_assign", args=[client.public_id]),
                ),
                (
                    "staff: consent to sign",
                    reverse("clients:consent_prepare", args=[client.public_id]),
                ),
                ("staff: letter requests", reverse("letters:staff_pending")),
                (
                    "staff: a letter waiting",
                    reverse("letters:staff_letter", args=[waiting.public_id]),
                ),
            ):
                page.goto(url)
                check(page, width_name, viewport, label)
        finally:
            context.close()
    assert "crisis resources" in seen and "verify, a match" in seen
    assert not failures, f"{len(failures)} axe violations:\n" + "\n".join(failures)
    assert not too_wide, "pages wider than the screen:\n" + "\n".join(too_wide)

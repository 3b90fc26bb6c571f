"""Plan pages: the access path, supervisors read only, bad input answered 400 with a
message and nothing saved, query counts of the list pages pinned."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical.plans import services as services_plans
from clinical.plans.models import RelapsePreventionVersion, TreatmentPlan, TreatmentPlanVersion
from iop.audit.models import AuditEvent
from tests.clinical.plans_factories import admitted_client, relapse_version, signed_plan

pytestmark = pytest.mark.django_db


def _url(name, obj):
    return reverse(f"plans:{name}", args=[obj.public_id])


def _draft_post(clinician, *, revision=0, **overrides):
    target = (timezone.localdate() + timedelta(days=30)).isoformat()
    data = {
        "revision": str(revision),
        "client_words": "I want my licence back",
        "problems-TOTAL_FORMS": "2",
        "problems-INITIAL_FORMS": "0",
        "problems-MIN_NUM_FORMS": "0",
        "problems-MAX_NUM_FORMS": "12",
        "problems-0-dimension": "d5",
        "problems-0-problem": "Cravings after night shifts",
        "problems-0-goal": "Stay sober through the rotation",
        "problems-0-objective_1": "Attend 3 groups a week",
        "problems-0-target_1": target,
        "problems-0-modality_1": "CBT",
        "problems-0-frequency_1": "Weekly",
        "problems-0-staff_1": str(clinician.pk),
    }
    data.update(overrides)
    return data


def _relapse_post(*, of_version=0, **overrides):
    data = {
        "of_version": str(of_version),
        "triggers_people": "Old drinking friends",
        "triggers_places": "",
        "triggers_emotions": "Loneliness",
        "triggers_workplace": "Double shifts",
        "warning_signs": "Skipping meetings",
        "coping_strategies": "Call my sponsor\nWalk the dog",
        "workplace_strategies": "",
        "emergency_steps": "Leave the place",
        "reasons_for_recovery": "My daughter",
        "internal_note": "Staff only: discussed the divorce",
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "8",
        "contacts-0-name": "Sam Ortiz",
        "contacts-0-relationship": "Sponsor",
        "contacts-0-phone": "(617) 555-0134",
    }
    data.update(overrides)
    return data


# --- Journeys through the pages ------------------------------------------------------------


def test_clinician_writes_the_draft_signs_it_and_the_chart_shows_it(clinician, client_as):
    client = admitted_client(clinician)
    web = client_as(clinician)
    assert web.get(_url("treatment_edit", client)).status_code == 200
    response = web.post(_url("treatment_edit", client), _draft_post(clinician))
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = TreatmentPlan.objects.get(client=client)
    assert plan.draft["problems"][0]["interventions"][0]["staff_id"] == clinician.pk
    review = web.post(
        _url("treatment_review", client),
        {
            "of_version": "0",
            "client_agreement": "agrees",
            "client_signed_on": timezone.localdate().isoformat(),
            "attest": "on",
        },
    )
    assert review.status_code == 302
    version = TreatmentPlanVersion.objects.get(plan=plan)
    chart = web.get(reverse("clients:chart", args=[client.public_id])).content.decode()
    assert "Review due" in chart and "Stay sober through the rotation" in chart
    page = web.get(_url("treatment_version", version)).content.decode()
    assert "Attend 3 groups a week" in page and "I want my licence back" in page


def _section(html, testid):
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def test_a_saved_draft_is_shown_on_the_plan_page(clinician, client_as):
    """Issue 20: after "Draft saved" the plan page shows what was saved, marked a draft."""
    client = admitted_client(clinician)
    web = client_as(clinician)
    saved = web.post(_url("treatment_edit", client), _draft_post(clinician), follow=True)
    assert saved.redirect_chain[-1][0] == _url("treatment", client)
    html = saved.content.decode()
    assert "Draft saved." in html and "No signed plan in force yet." in html
    draft = _section(html, "plan-draft")
    assert "Draft, not yet signed" in draft
    for words in (
        "I want my licence back",
        "Cravings after night shifts",
        "Stay sober through the rotation",
        "Attend 3 groups a week",
        "5. Relapse, continued use potential",
    ):
        assert words in draft

    # Signed, then changed again: the new draft beside the version in force.
    web.post(
        _url("treatment_review", client),
        {
            "of_version": "0",
            "client_agreement": "agrees",
            "client_signed_on": timezone.localdate().isoformat(),
            "attest": "on",
        },
    )
    html = web.get(_url("treatment", client)).content.decode()
    assert 'data-testid="plan-draft"' not in html  # the draft is what is in force
    changed = _draft_post(clinician, revision=1, **{"problems-0-goal": "Ninety sober days"})
    assert web.post(_url("treatment_edit", client), changed).status_code == 302
    html = web.get(_url("treatment", client)).content.decode()
    assert "Ninety sober days" in _section(html, "plan-draft")
    in_force = html[html.index("In force") :]
    assert "Stay sober through the rotation" in in_force and "Ninety sober days" not in in_force


def test_double_submitted_review_form_lands_on_one_version(clinician, client_as):
    client = admitted_client(clinician)
    web = client_as(clinician)
    web.post(_url("treatment_edit", client), _draft_post(clinician))
    form = {
        "of_version": "0",
        "client_agreement": "agrees",
        "client_signed_on": timezone.localdate().isoformat(),
        "attest": "on",
    }
    assert web.post(_url("treatment_review", client), form).status_code == 302
    assert web.post(_url("treatment_review", client), form).status_code == 302
    assert TreatmentPlanVersion.objects.filter(client=client).count() == 1


def test_relapse_plan_versions_and_the_client_copy(clinician, client_as):
    client = admitted_client(clinician)
    web = client_as(clinician)
    assert web.post(_url("relapse_edit", client), _relapse_post()).status_code == 302
    assert web.post(_url("relapse_edit", client), _relapse_post()).status_code == 302  # again
    second = _relapse_post(of_version=1, coping_strategies="Swim at lunch")
    assert web.post(_url("relapse_edit", client), second).status_code == 302
    versions = RelapsePreventionVersion.objects.filter(client=client).order_by("number")
    assert [v.number for v in versions] == [1, 2]
    history = web.get(_url("relapse_history", client)).content.decode()
    assert "Version 1" in history and "Version 2" in history
    copy = web.get(_url("relapse_print", versions[0])).content.decode()
    assert "988 Suicide &amp; Crisis Lifeline" in copy
    assert "(617) 555-0134" in copy and "Walk the dog" in copy
    assert "divorce" not in copy and "Internal note" not in copy
    assert "client_copy.css" in copy
    screen = web.get(_url("relapse", client)).content.decode()
    assert "divorce" in screen  # staff see the internal note on screen only


# --- Access -------------------------------------------------------------------------------


def test_supervisor_reads_but_does_not_write(clinician, supervisor, client_as):
    client = admitted_client(clinician)
    version = signed_plan(client, clinician)
    relapse = relapse_version(client, clinician)
    web = client_as(supervisor)
    for name, obj in (
        ("treatment", client),
        ("treatment_history", client),
        ("treatment_version", version),
        ("relapse", client),
        ("relapse_history", client),
        ("relapse_print", relapse),
    ):
        assert web.get(_url(name, obj)).status_code == 200, name
    page = web.get(_url("treatment", client)).content.decode()
    assert "Edit the draft" not in page and "Review and sign" not in page
    assert "Save a new version" not in web.get(_url("relapse", client)).content.decode()
    for name in ("treatment_edit", "treatment_review", "relapse_edit"):
        assert web.get(_url(name, client)).status_code == 404, name
    response = web.post(_url("relapse_edit", client), _relapse_post(of_version=1))
    assert response.status_code == 404
    assert RelapsePreventionVersion.objects.filter(client=client).count() == 1
    denied = AuditEvent.objects.filter(actor=supervisor, outcome="denied")
    assert {e.action for e in denied} == {"access.edit+clinical"}


def test_stranger_gets_404_and_is_audited(clinician, other_clinician, client_as):
    client = admitted_client(clinician)
    version = signed_plan(client, clinician)
    web = client_as(other_clinician)
    assert web.get(_url("treatment_version", version)).status_code == 404
    assert web.post(_url("treatment_edit", client), _draft_post(clinician)).status_code == 404
    denied = AuditEvent.objects.filter(actor=other_clinician, outcome="denied")
    assert [e.action for e in denied.order_by("id")] == ["access.clinical", "access.edit+clinical"]
    assert TreatmentPlanVersion.objects.count() == 1


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("client_words", "x" * 10_000, "at most 2000 characters"),
        ("problems-0-goal", "x" * 10_000, "at most 500 characters"),
        ("problems-0-problem", "nul\x00byte", "contains a null character"),
        ("problems-0-target_1", "0001-01-01", "too far in the past"),
        ("problems-0-target_1", "9999-12-31", "too far ahead"),
        ("problems-0-target_1", "10000-01-01", "Enter a valid date"),
        ("problems-0-dimension", "d9", "Select a valid choice"),
        ("problems-0-staff_1", "999999", "Select a valid choice"),
        ("problems-0-goal", "", "state the problem and its goal"),
        ("problems-TOTAL_FORMS", "100000", "at most 12"),
        ("revision", "", "incomplete or out of date"),
    ],
)
def test_bad_draft_input_is_400_with_a_message_and_nothing_saved(
    clinician, client_as, field, value, message
):
    client = admitted_client(clinician)
    response = client_as(clinician).post(
        _url("treatment_edit", client), _draft_post(clinician, **{field: value})
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_missing_management_form_is_400(clinician, client_as):
    client = admitted_client(clinician)
    data = {k: v for k, v in _draft_post(clinician).items() if "FORMS" not in k}
    response = client_as(clinician).post(_url("treatment_edit", client), data)
    assert response.status_code == 400
    assert not TreatmentPlan.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_agreement": "agrees", "client_signed_on": ""}, "Give the date the client"),
        ({"client_signed_on": "0001-01-01"}, "too far in the past"),
        ({"client_signed_on": "9999-12-31"}, "too far ahead"),
        ({"attest": ""}, "Tick the box"),
        ({"review_summary": "x" * 10_000}, "at most 1000"),
        ({"review_summary": "a\x00b"}, "contains a null character"),
        ({"client_agreement": "maybe"}, "Select a valid choice"),
        ({"of_version": "-1"}, "incomplete or out of date"),
    ],
)
def test_bad_review_input_is_400_with_a_message_and_nothing_saved(
    clinician, client_as, overrides, message
):
    client = admitted_client(clinician)
    web = client_as(clinician)
    web.post(_url("treatment_edit", client), _draft_post(clinician))
    form = {
        "of_version": "0",
        "client_agreement": "agrees",
        "client_signed_on": timezone.localdate().isoformat(),
        "attest": "on",
        **overrides,
    }
    response = web.post(_url("treatment_review", client), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TreatmentPlanVersion.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"coping_strategies": "x" * 10_000}, "at most"),
        ({"coping_strategies": ("y" * 400)}, "at most 300 characters"),
        ({"warning_signs": "a\x00b"}, "contains a null character"),
        ({"coping_strategies": ""}, "at least one coping strategy"),
        ({"contacts-0-phone": "12"}, "valid phone number"),
        ({"contacts-0-name": "x" * 10_000}, "at most 120"),
        ({"contacts-TOTAL_FORMS": "5000"}, "at most 8"),
        ({"internal_note": "n" * 10_000}, "at most 2000"),
    ],
)
def test_bad_relapse_input_is_400_with_a_message_and_nothing_saved(
    clinician, client_as, overrides, message
):
    client = admitted_client(clinician)
    response = client_as(clinician).post(_url("relapse_edit", client), _relapse_post(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RelapsePreventionVersion.objects.exists()


# --- Query counts --------------------------------------------------------------------------


# Every page: session, user with roles, OTP device (3); the client with every purpose's grant
# (1); the access audit row (savepoint, chain lock, head, insert, release: 5); then the
# page's own reads:
#   treatment history: the versions with their author and episode joined (1);
#   relapse history: the versions with their author joined (1);
#   treatment plan: the open episode's plan, the version in force, the open episode (3);
#   relapse plan: the current version with its author (1).
PAGES = [
    ("treatment_history", 10),
    ("relapse_history", 10),
    ("treatment", 12),
    ("relapse", 10),
]


@pytest.mark.parametrize(("page", "queries"), PAGES)
def test_plan_pages_query_count_does_not_grow_with_versions(
    clinician, client_as, django_assert_max_num_queries, page, queries
):
    client = admitted_client(clinician)
    web = client_as(clinician)
    signed_plan(client, clinician)
    relapse_version(client, clinician)
    url = _url(page, client)
    web.get(url)  # warm the permission-id cache so both measurements are alike
    with django_assert_max_num_queries(queries):
        assert web.get(url).status_code == 200
    for n in range(2, 8):
        signed_plan(client, clinician, f"Objective {n}")
        relapse_version(client, clinician, of_version=n - 1, coping_strategies=[f"Way {n}"])
    with django_assert_max_num_queries(queries):
        response = web.get(url)
    assert response.status_code == 200
    if page.endswith("history"):
        assert response.content.decode().count("Version ") >= 7


def test_dashboard_lists_plans_due_for_review_without_growing(
    clinician, other_clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    today = timezone.localdate()

    def signed_long_ago(owner):
        client = admitted_client(owner)
        plan = services_plans.treatment_plan_save_draft(
            episode=client.episodes.get(),
            content={
                "problems": [
                    {
                        "dimension": "d4",
                        "problem": "Ambivalence",
                        "goal": "Engage",
                        "objectives": [{"text": "Attend", "target_on": today}],
                    }
                ]
            },
            revision=0,
            actor=owner,
        )
        day = today - timedelta(days=40)
        services_plans.treatment_plan_review(
            plan=plan,
            of_version=0,
            client_agreement="declined",
            client_signed_on=None,
            actor=owner,
            today=day,
        )
        return client

    mine = signed_long_ago(clinician)
    theirs = signed_long_ago(other_clinician)
    web = client_as(clinician)
    web.get("/")
    # The dashboard's pinned pages (with my notes in progress) plus this section's one
    # query (the due versions with their clients, scoped by clients_for in a subquery),
    # and the screening section's open follow-ups (one); the page's read audit.
    with django_assert_max_num_queries(11 + read_audit_queries):
        html = web.get("/").content.decode()
    assert mine.display_name in html and theirs.display_name not in html
    assert "overdue since" in html
    for _ in range(5):
        signed_long_ago(clinician)
    with django_assert_max_num_queries(13 + read_audit_queries):
        html = web.get("/").content.decode()
    assert html.count("overdue since") == 6

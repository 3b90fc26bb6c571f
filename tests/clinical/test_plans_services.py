"""Plan services: versioning, review due, double submissions and bad input."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinical.plans import services as services_plans
from clinical.plans.models import (
    RelapsePreventionVersion,
    TreatmentPlanVersion,
    VersionImmutable,
    review_days,
)
from iop.audit.models import AuditEvent
from tests.clinical.plans_factories import (
    RELAPSE,
    admitted_client,
    problem,
    relapse_version,
    signed_plan,
)

pytestmark = pytest.mark.django_db


# --- Versioning -------------------------------------------------------------------------


def test_a_review_keeps_the_previous_version_unchanged(clinician):
    client = admitted_client(clinician)
    first = signed_plan(client, clinician, "Attend 3 groups a week")
    before = TreatmentPlanVersion.objects.filter(pk=first.pk).values().get()
    second = signed_plan(client, clinician, "Attend 3 groups a week", "Two negative screens")
    assert (first.number, second.number) == (1, 2)
    after = TreatmentPlanVersion.objects.filter(pk=first.pk).values().get()
    assert {**after, "is_current": True} == before  # only the current flag moved
    assert after["is_current"] is False
    assert TreatmentPlanVersion.objects.get(is_current=True, client=client) == second
    assert len(second.objectives()) == 2 and len(first.objectives()) == 1


def test_a_relapse_plan_keeps_every_version(clinician):
    client = admitted_client(clinician)
    v1 = relapse_version(client, clinician)
    v2 = relapse_version(client, clinician, of_version=1, coping_strategies=["Swim"])
    v1.refresh_from_db()
    assert v1.content["coping_strategies"] == ["Call my sponsor", "Walk the dog"]
    assert (v1.is_current, v2.is_current, v2.number) == (False, True, 2)
    assert v2.content["contacts"][0]["phone"] == "+16175550134"  # E.164


def test_a_version_is_never_edited_through_the_model(clinician):
    version = signed_plan(admitted_client(clinician), clinician)
    version.review_summary = "rewritten history"
    with pytest.raises(VersionImmutable):
        version.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_postgresql_refuses_to_edit_or_delete_a_version(clinician):
    client = admitted_client(clinician)
    version = signed_plan(client, clinician)
    relapse = relapse_version(client, clinician)
    for model, pk in ((TreatmentPlanVersion, version.pk), (RelapsePreventionVersion, relapse.pk)):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=pk).update(content={})
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=pk).delete()
    # Moving the current flag to a newer version (a review) is the one change allowed.
    signed_plan(client, clinician, "Two negative screens")
    assert not TreatmentPlanVersion.objects.get(pk=version.pk).is_current


def test_saves_are_audited_with_counts_not_words(clinician):
    client = admitted_client(clinician)
    signed_plan(client, clinician, "Attend 3 groups a week")
    relapse_version(client, clinician, note="Discussed the divorce")
    rows = {e.action: e.detail for e in AuditEvent.objects.filter(client_id=client.public_id)}
    assert rows["treatment_plan.save_draft"] == "revision=1; problems=1; objectives=1"
    assert rows["treatment_plan.review"] == (
        "version=1; problems=1; objectives=1; agreement=agrees"
    )
    assert rows["relapse_plan.save"] == "version=1; contacts=1; coping=2"
    assert not any("groups" in d or "divorce" in d for d in rows.values())


# --- Review due -------------------------------------------------------------------------


def test_review_is_due_review_days_after_signing(clinician, settings):
    client = admitted_client(clinician)
    today = timezone.localdate()
    version = signed_plan(client, clinician)
    assert version.review_due_on == today + timedelta(days=30) == today + timedelta(review_days())
    settings.IOP_PLAN_REVIEW_DAYS = 14
    assert version.review_due_on == today + timedelta(days=14)


def test_due_for_review_finds_overdue_and_due_plans_of_open_episodes(clinician):
    today = timezone.localdate()
    overdue, due_soon, fresh = (admitted_client(clinician) for _ in range(3))
    for client, days_ago in ((overdue, 35), (due_soon, 25), (fresh, 1)):
        episode = client.episodes.get()
        plan = services_plans.treatment_plan_save_draft(
            episode=episode,
            content={"problems": [problem("Attend groups")]},
            revision=0,
            actor=clinician,
        )
        signed = today - timedelta(days=days_ago)
        services_plans.treatment_plan_review(
            plan=plan,
            of_version=0,
            client_agreement="agrees",
            client_signed_on=signed,
            actor=clinician,
            today=signed,
        )
    due = TreatmentPlanVersion.objects.due_for_review(by=today)
    assert {v.client for v in due} == {overdue}
    due_week = TreatmentPlanVersion.objects.due_for_review(by=today + timedelta(days=7))
    assert {v.client for v in due_week} == {overdue, due_soon}
    version = due.get()
    assert version.is_overdue(today) and version.review_due_on == today - timedelta(days=5)
    # A discharged episode's plan is no longer due.
    overdue.episodes.update(discharged_on=today, discharge_reason="completed")
    assert not TreatmentPlanVersion.objects.due_for_review(by=today).exists()


# --- Double submission ----------------------------------------------------------------------


def test_a_double_submitted_review_lands_on_one_version(clinician):
    client = admitted_client(clinician)
    plan = services_plans.treatment_plan_save_draft(
        episode=client.episodes.get(),
        content={"problems": [problem("Attend groups")]},
        revision=0,
        actor=clinician,
    )
    kwargs = {
        "plan": plan,
        "of_version": 0,
        "client_agreement": "agrees",
        "client_signed_on": timezone.localdate(),
        "actor": clinician,
    }
    first = services_plans.treatment_plan_review(**kwargs)
    again = services_plans.treatment_plan_review(**kwargs)
    assert again.pk == first.pk and again.repeated
    assert plan.versions.count() == 1
    assert AuditEvent.objects.filter(action="treatment_plan.review").count() == 1


def test_a_stale_review_from_another_page_is_refused(clinician):
    client = admitted_client(clinician)
    signed_plan(client, clinician)
    plan = client.episodes.get().treatment_plan
    with pytest.raises(ValidationError, match="reviewed from another page"):
        services_plans.treatment_plan_review(
            plan=plan,
            of_version=0,
            client_agreement="declined",
            client_signed_on=None,
            actor=clinician,
        )


def test_a_double_submitted_relapse_plan_lands_on_one_version(clinician):
    client = admitted_client(clinician)
    first = relapse_version(client, clinician)
    again = relapse_version(client, clinician)
    assert again.pk == first.pk and again.repeated
    assert RelapsePreventionVersion.objects.filter(client=client).count() == 1
    with pytest.raises(ValidationError, match="another page"):
        relapse_version(client, clinician, coping_strategies=["Something else"])


def test_a_stale_draft_is_refused_and_a_repeated_one_changes_nothing(clinician):
    episode = admitted_client(clinician).episodes.get()
    content = {"problems": [problem("Attend groups")]}
    plan = services_plans.treatment_plan_save_draft(
        episode=episode, content=content, revision=0, actor=clinician
    )
    again = services_plans.treatment_plan_save_draft(
        episode=episode, content=content, revision=0, actor=clinician
    )
    assert again.repeated and again.draft_revision == plan.draft_revision == 1
    with pytest.raises(ValidationError, match="another page"):
        services_plans.treatment_plan_save_draft(
            episode=episode,
            content={"problems": [problem("Something else")]},
            revision=0,
            actor=clinician,
        )


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (date(1, 1, 1), "too far in the past"),
        (date(9999, 12, 31), "too far ahead"),
        ("not-a-date", "not a date"),
    ],
)
def test_objective_target_dates_at_the_ends_of_the_calendar_are_refused(clinician, target, message):
    episode = admitted_client(clinician).episodes.get()
    content = {"problems": [{**problem(), "objectives": [{"text": "x", "target_on": target}]}]}
    with pytest.raises(ValidationError, match=message):
        services_plans.treatment_plan_save_draft(
            episode=episode, content=content, revision=0, actor=clinician
        )
    assert not episode.client.treatment_plans.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"client_words": "x" * 10_000},
        {"client_words": "nul\x00byte"},
        {"problems": [{**problem("ok"), "goal": "g" * 10_000}]},
        {"problems": [{**problem("ok"), "problem": "a\x00b"}]},
        {"problems": [{**problem("ok"), "dimension": "d9"}]},
        {"problems": [{**problem(), "goal": ""}]},
        {"problems": [{**problem(), "objectives": [{"text": "", "target_on": date.today()}]}]},
    ],
)
def test_bad_treatment_content_is_refused_and_nothing_saved(clinician, bad):
    episode = admitted_client(clinician).episodes.get()
    content = {"problems": [problem("ok")], **bad}
    with pytest.raises(ValidationError):
        services_plans.treatment_plan_save_draft(
            episode=episode, content=content, revision=0, actor=clinician
        )
    assert not episode.client.treatment_plans.exists()
    assert not AuditEvent.objects.filter(action__startswith="treatment_plan.").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"coping_strategies": ["x" * 10_000]},
        {"warning_signs": ["a\x00b"]},
        {"coping_strategies": []},
        {"contacts": [{"name": "Sam", "relationship": "Sponsor", "phone": "12"}]},
        {"contacts": [{"name": "", "relationship": "", "phone": "6175550134"}]},
        {"contacts": [{"name": "\x00", "relationship": "", "phone": "6175550134"}]},
        {"reasons_for_recovery": [f"reason {n}" for n in range(50)]},
    ],
)
def test_bad_relapse_content_is_refused_and_nothing_saved(clinician, bad):
    client = admitted_client(clinician)
    with pytest.raises(ValidationError):
        relapse_version(client, clinician, **bad)
    assert not RelapsePreventionVersion.objects.exists()


def test_a_review_needs_a_measurable_objective_and_the_clients_signature(clinician):
    client = admitted_client(clinician)
    episode = client.episodes.get()
    plan = services_plans.treatment_plan_save_draft(
        episode=episode,
        content={"problems": [problem()]},  # a problem, no objective
        revision=0,
        actor=clinician,
    )
    sign = {"plan": plan, "of_version": 0, "actor": clinician}
    with pytest.raises(ValidationError, match="measurable objective"):
        services_plans.treatment_plan_review(
            **sign, client_agreement="agrees", client_signed_on=date.today()
        )
    plan = services_plans.treatment_plan_save_draft(
        episode=episode, content={"problems": [problem("Attend")]}, revision=1, actor=clinician
    )
    with pytest.raises(ValidationError, match="date the client signed"):
        services_plans.treatment_plan_review(
            **sign, client_agreement="agrees", client_signed_on=None
        )
    with pytest.raises(ValidationError, match="declined"):
        services_plans.treatment_plan_review(
            **sign, client_agreement="declined", client_signed_on=date.today()
        )
    with pytest.raises(ValidationError, match="precedes the admission"):
        services_plans.treatment_plan_review(
            **sign, client_agreement="agrees", client_signed_on=episode.admitted_on - timedelta(1)
        )
    with pytest.raises(ValidationError, match="too far"):
        services_plans.treatment_plan_review(
            **sign, client_agreement="agrees", client_signed_on=date(1, 1, 1)
        )
    assert not plan.versions.exists()
    declined = services_plans.treatment_plan_review(
        **sign, client_agreement="declined", client_signed_on=None
    )
    assert declined.number == 1


def test_a_discharged_episode_takes_no_plan(clinician):
    client = admitted_client(clinician)
    client.episodes.update(discharged_on=timezone.localdate(), discharge_reason="completed")
    with pytest.raises(ValidationError, match="discharged"):
        services_plans.treatment_plan_save_draft(
            episode=client.episodes.get(),
            content={"problems": [problem("Attend")]},
            revision=0,
            actor=clinician,
        )


def test_relapse_content_accepts_lines_as_text():
    cleaned = services_plans.relapse_content_clean(
        {**RELAPSE, "coping_strategies": "Call Sam\n\n  Walk  \n"}
    )
    assert cleaned["coping_strategies"] == ["Call Sam", "Walk"]

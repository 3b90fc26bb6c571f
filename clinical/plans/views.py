"""Treatment-plan and relapse-prevention-plan pages.

Reading needs CLINICAL; writing needs EDIT and CLINICAL together, so a supervisor
(who reads a supervisee's clients) never writes here. Every client is reached through
``clients.access`` (``client_view`` or ``owned_view``), which writes the access row;
each save writes its own row in the service.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from clients.access import Action, Purpose, client_view, owned_view
from clinical.plans import selectors, services
from clinical.plans.forms import (
    ContactFormSet,
    ProblemForm,
    ProblemFormSet,
    RelapsePlanForm,
    TreatmentDraftForm,
    TreatmentReviewForm,
)
from clinical.plans.models import CRISIS_LINE
from iop import when
from iop.audit.services import audit_context
from iop.forms import apply_validation_error

WRITE = Purpose.CLINICAL_WRITE


def _can_write(request) -> bool:
    return request.client_access.can(Action.WRITE_CLINICAL)


def _status(form) -> int:
    # A bound form shown again is a refusal: say so with the status, not only the page.
    return 400 if form.is_bound else 200


def _staff():
    staff = list(services.treating_staff())
    return [(u.pk, str(u)) for u in staff], {u.pk: u for u in staff}


# --- Treatment plan -------------------------------------------------------------------


@client_view(Purpose.CLINICAL)
def treatment_plan(request, client):
    """The plan in force, the state of the draft, and what to do next."""
    plan = selectors.open_treatment_plan(client)
    current = selectors.current_treatment_version(client)
    draft_differs = plan is not None and (current is None or plan.draft != current.content)
    return render(
        request,
        "clinical/plans/treatment_plan.html",
        {
            "client": client,
            "plan": plan,
            "current": current,
            "content": selectors.treatment_content_view(
                current.content, current.plan.episode.asam_edition
            )
            if current
            else None,
            "draft_differs": draft_differs,
            # What was saved and is not yet signed: shown as written, marked a draft, so
            # a saved draft is seen (and checked) before anyone signs it.
            "draft_content": selectors.treatment_content_view(plan.draft, plan.episode.asam_edition)
            if draft_differs
            else None,
            "today": timezone.localdate(),
            "can_write": _can_write(request),
            "open_episode": client.episodes.open().first(),
        },
    )


@client_view(WRITE)
def treatment_edit(request, client):
    """Start the plan of the open episode, or edit its draft."""
    episode = client.episodes.open().first()
    plan = selectors.open_treatment_plan(client)
    draft = plan.draft if plan else {}
    staff_choices, staff_by_pk = _staff()
    form = TreatmentDraftForm(
        request.POST or None,
        initial={
            "revision": plan.draft_revision if plan else 0,
            "client_words": draft.get("client_words", ""),
        },
    )
    formset = ProblemFormSet(
        request.POST or None,
        prefix="problems",
        initial=[ProblemForm.initial_from(p) for p in draft.get("problems", [])],
        form_kwargs={
            "staff_choices": staff_choices,
            "edition": episode.asam_edition if episode else None,
        },
    )
    if request.method == "POST":
        if episode is None:
            form.add_error(None, "The client has no open episode: admit them first.")
        elif form.is_valid() and formset.is_valid():
            content = {
                "client_words": form.cleaned_data["client_words"],
                "problems": [f.to_raw(staff_by_pk) for f in formset.forms],
            }
            try:
                plan = services.treatment_plan_save_draft(
                    episode=episode,
                    content=content,
                    revision=form.cleaned_data["revision"],
                    actor=request.user,
                    audit=audit_context(request),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                if getattr(plan, "repeated", False):
                    messages.info(request, "Nothing had changed; the draft is as it was.")
                else:
                    messages.success(request, "Draft saved. Review and sign it to put it in force.")
                if "add" in request.POST:
                    return redirect("plans:treatment_edit", client.public_id)
                return redirect("plans:treatment", client.public_id)
    return render(
        request,
        "clinical/plans/treatment_edit.html",
        {"client": client, "form": form, "formset": formset, "episode": episode, "plan": plan},
        status=400 if request.method == "POST" else 200,
    )


@client_view(WRITE)
def treatment_review(request, client):
    """Sign the draft with the client: a new version, the earlier ones kept."""
    plan = selectors.open_treatment_plan(client)
    current = selectors.current_treatment_version(client)
    form = TreatmentReviewForm(
        request.POST or None, initial={"of_version": current.number if current else 0}
    )
    if request.method == "POST" and plan is None:
        form.add_error(None, "There is no draft to sign: write the plan first.")
    elif request.method == "POST" and form.is_valid():
        try:
            version = services.treatment_plan_review(
                plan=plan,
                of_version=form.cleaned_data["of_version"],
                client_agreement=form.cleaned_data["client_agreement"],
                client_signed_on=form.cleaned_data["client_signed_on"],
                review_summary=form.cleaned_data["review_summary"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(version, "repeated", False):
                messages.info(request, f"Version {version.number} was already saved.")
            else:
                messages.success(
                    request,
                    f"Version {version.number} signed; next review due "
                    f"{when.day(version.review_due_on)}.",
                )
            return redirect("plans:treatment", client.public_id)
    return render(
        request,
        "clinical/plans/treatment_review.html",
        {
            "client": client,
            "plan": plan,
            "current": current,
            "form": form,
            "content": selectors.treatment_content_view(plan.draft, plan.episode.asam_edition)
            if plan
            else None,
        },
        status=_status(form),
    )


@client_view(Purpose.CLINICAL)
def treatment_history(request, client):
    return render(
        request,
        "clinical/plans/treatment_history.html",
        {
            "client": client,
            "versions": selectors.treatment_versions(client),
            "today": timezone.localdate(),
        },
    )


@owned_view("clinical.treatmentplanversion", purpose=Purpose.CLINICAL)
def treatment_version(request, version):
    return render(
        request,
        "clinical/plans/treatment_version.html",
        {
            "client": version.client,
            "version": version,
            "content": selectors.treatment_content_view(
                version.content, version.plan.episode.asam_edition
            ),
            "today": timezone.localdate(),
        },
    )


# --- Relapse-prevention plan ----------------------------------------------------------


@client_view(Purpose.CLINICAL)
def relapse_plan(request, client):
    current = selectors.current_relapse_version(client)
    return render(
        request,
        "clinical/plans/relapse_plan.html",
        {
            "client": client,
            "version": current,
            "crisis_line": CRISIS_LINE,
            "can_write": _can_write(request),
        },
    )


@client_view(WRITE)
def relapse_edit(request, client):
    """Write the plan, or a new version of it starting from the current one."""
    current = selectors.current_relapse_version(client)
    content = current.content if current else {}
    form = RelapsePlanForm(
        request.POST or None,
        initial=RelapsePlanForm.initial_from(
            content,
            of_version=current.number if current else 0,
            internal_note=current.internal_note if current else "",
        ),
    )
    contacts = ContactFormSet(
        request.POST or None, prefix="contacts", initial=content.get("contacts", [])
    )
    if request.method == "POST" and form.is_valid() and contacts.is_valid():
        try:
            version = services.relapse_plan_save(
                client=client,
                content=form.to_raw([c.cleaned_data for c in contacts.forms]),
                internal_note=form.cleaned_data["internal_note"],
                of_version=form.cleaned_data["of_version"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(version, "repeated", False):
                messages.info(request, f"Version {version.number} was already saved.")
            else:
                messages.success(
                    request, f"Relapse-prevention plan saved as version {version.number}."
                )
            return redirect("plans:relapse", client.public_id)
    return render(
        request,
        "clinical/plans/relapse_edit.html",
        {"client": client, "form": form, "contacts": contacts, "current": current},
        status=_status(form),
    )


@client_view(Purpose.CLINICAL)
def relapse_history(request, client):
    return render(
        request,
        "clinical/plans/relapse_history.html",
        {"client": client, "versions": selectors.relapse_versions(client)},
    )


@owned_view("clinical.relapsepreventionversion", purpose=Purpose.CLINICAL)
def relapse_version(request, version):
    return render(
        request,
        "clinical/plans/relapse_plan.html",
        {
            "client": version.client,
            "version": version,
            "crisis_line": CRISIS_LINE,
            "can_write": False,
            "viewing_version": True,
        },
    )


@owned_view("clinical.relapsepreventionversion", purpose=Purpose.CLINICAL)
def relapse_print(request, version):
    """The client's copy: their plan in big type, no internal note, no staff fields."""
    return render(
        request,
        "clinical/plans/relapse_print.html",
        {"client": version.client, "version": version, "crisis_line": CRISIS_LINE},
    )

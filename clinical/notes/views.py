"""Note pages: the group note from a session's sheet, an appointment's note, signing,
addenda, co-signature, the no-show, and a client's notes timeline.

Every page loads its object through clients.access (``owned_view`` or
``client_view``), which writes the access row; the services write the write's row.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from clients.access import Action, Purpose, access_shown, client_view, owned_view
from clinical.notes import checks, selectors, services
from clinical.notes.forms import (
    AddendumForm,
    IdentityForm,
    NoteForm,
    ReturnForm,
    SessionPlanForm,
    note_initial,
)
from clinical.notes.models import CosignStatus, NoteFormatDefault, NoteKind
from clinical.notes.services import ATTESTATION, COSIGN_ATTESTATION
from iop import when
from iop.audit.services import audit_context
from iop.forms import apply_validation_error
from scheduling.models import AppointmentStatus

# More ticks than any note has warnings is a forged form: the rest are not read.
MAX_ACKS = 1000


def _note_access(request, note):
    """The viewer's access to ``note`` (None before it is written): what the page loaded,
    about the note, so ``can(Action.SIGN)`` and the rest answer for the note itself."""
    if note is None:
        return None
    label = "clinical.groupnote" if note.session_id else "clinical.progressnote"
    return request.client_access.about(label, note)


def _status(form):
    return 400 if form.is_bound and form.errors else 200


def _identity(form):
    return {
        "password": form.cleaned_data.get("password", ""),
        "otp_token": form.cleaned_data.get("otp_token", ""),
    }


# --- Group notes (a facilitator's, from the session's sheet) -----------------------------


def _group_context(request, session, note):
    rows, absent = selectors.group_note_rows(session, note, viewer=request.user)
    return rows, absent, selectors.session_plan(session)


def _row_objectives(rows):
    """The attending clients' plans in force, as the rows read them (no query)."""
    return {r.client.pk: r.plan_objectives for r in rows if r.plan_objectives is not None}


def _group_form(request, session, note, rows, absent, plan, *, data=None):
    initial = note_initial(note, rows=rows, plan=plan)
    if note is None:  # a group usually runs its slot: start from the session's times
        initial |= {
            "time_in": services.local_time(session.starts_at),
            "time_out": services.local_time(session.ends_at),
        }
    return NoteForm(
        data,
        initial=initial,
        note_format=note.format if note else NoteFormatDefault.for_kind(NoteKind.GROUP),
        is_group=True,
        track=session.group.track,
        rows=rows,
        absent=absent,
    )


def _save_group(request, session, form, *, autosave):
    return services.group_note_save(
        session=session,
        content=form.content(),
        sections=form.sections(),
        actor=request.user,
        audit=audit_context(request),
        autosave=autosave,
    )


def _signing_wait(note, *, verb="signed"):
    """When a draft (or a note waiting for co-signature) can be signed, if not now."""
    if note is None:
        return None
    return services.signing_not_yet(note, verb=verb)


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE, per_client=True)
def group_note(request, session):
    note = selectors.group_note_for(session)
    if note is not None:
        note.session = session
    rows, absent, plan = _group_context(request, session, note)
    # Each client on the page is named, and an attending one's section, objectives and
    # last plan shown: each client's trail says who read it.
    access_shown(request, [row.client for row in rows] + [a["client"] for a in absent])
    note_access = _note_access(request, note)
    writer = (
        not session.is_cancelled
        and request.client_access.can(Action.WRITE_NOTE)
        and (note is None or (not note.is_signed and note_access.can(Action.EDIT_NOTE)))
    )
    not_begun = services.session_not_begun(session)
    editable = writer and not not_begun
    form = _group_form(request, session, note, rows, absent, plan, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _save_group(request, session, form, autosave=False)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if request.POST.get("then") == "sign":
                return redirect("notes:group_sign", session.public_id)
            messages.success(request, "Draft saved.")
            return redirect("notes:group_note", session.public_id)
    for row in rows:
        row.fields = form.section_fields(row)
    return render(
        request,
        "clinical/notes/group_note.html",
        {
            "session": session,
            "note": note,
            "form": form,
            "rows": rows,
            "absent": absent,
            "plan": plan,
            # Each section's heading names the session's topic and modality, read here
            # (the note's, else the plan's): context for the choices, never copied in.
            "session_topic": note.topic if note else getattr(plan, "topic", None),
            "session_modality": note.modality if note else getattr(plan, "modality", None),
            "editable": editable,
            "writer": writer,
            "not_begun": not_begun,
            "signing_wait": _signing_wait(note) if note and not note.is_signed else None,
            "note_access": note_access,
            "missing": services.note_missing(
                note, attending=[r.client for r in rows], objectives=_row_objectives(rows)
            )
            if note and not note.is_signed
            else [],
        },
        status=_status(form),
    )


def _autosaved(note, error=None, *, status=200):
    if error:
        html = format_html('<span class="text-danger" role="alert">Not saved: {}</span>', error)
    else:
        html = format_html(
            '<span class="text-success">Saved {}</span>', when.clock(note.saved_at, seconds=True)
        )
    return HttpResponse(html, status=status)


def _form_error_text(form):
    return " ".join(f"{e}" for errors in form.errors.values() for e in errors)


@require_POST
@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def group_autosave(request, session):
    note = selectors.group_note_for(session)
    rows, absent, plan = _group_context(request, session, note)
    form = _group_form(request, session, note, rows, absent, plan, data=request.POST)
    if not form.is_valid():
        return _autosaved(None, _form_error_text(form), status=400)
    try:
        note = _save_group(request, session, form, autosave=True)
    except ValidationError as exc:
        return _autosaved(None, " ".join(exc.messages), status=400)
    return _autosaved(note)


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def group_sign(request, session):
    note = selectors.group_note_for(session)
    if note is not None:
        note.session = session
    rows, _absent = selectors.group_note_rows(session, note, viewer=request.user)
    return _sign_page(
        request,
        note,
        missing=services.note_missing(
            note, attending=[r.client for r in rows], objectives=_row_objectives(rows)
        )
        if note is None or not note.is_signed
        else [],
        back=("notes:group_note", session.public_id),
        title=f"Sign the group note: {session.group.name}, {when.day(session.starts_at)}",
    )


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def group_addendum(request, session):
    note = selectors.group_note_for(session)
    return _addendum_page(request, note, back=("notes:group_note", session.public_id))


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def session_plan(request, session):
    plan = selectors.session_plan(session)
    form = SessionPlanForm(
        request.POST or None,
        track=session.group.track,
        initial={"topic": plan.topic_id, "modality": plan.modality_id} if plan else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.session_plan_set(
                session=session,
                topic=form.cleaned_data["topic"],
                modality=form.cleaned_data["modality"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Session planned; its group note starts from the plan.")
            return redirect("notes:group_note", session.public_id)
    return render(
        request,
        "clinical/notes/session_plan.html",
        {"session": session, "form": form},
        status=_status(form),
    )


# --- Shared: signing and addenda ---------------------------------------------------------


def _sign_page(request, note, *, missing, back, title):
    if request.method == "POST" and note is not None and note.is_signed:
        # A double submission lands on the first signature (STYLE: idempotent writes).
        messages.info(request, "This note is already signed.")
        return redirect(*back)
    form = IdentityForm(request.POST or None, user=request.user)
    note_access = _note_access(request, note)
    if request.method == "POST" and form.is_valid():
        if note is None:
            form.add_error(None, "Nothing is written yet: there is no note to sign.")
        else:
            try:
                services.note_sign(
                    note=note,
                    actor=request.user,
                    audit=audit_context(request),
                    # The warnings ticked on this page; a key of no current warning
                    # (stale after an edit, or forged) is ignored by the service.
                    acknowledged=request.POST.getlist("ack")[:MAX_ACKS],
                    **_identity(form),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    "Signed and locked."
                    + (
                        " It waits for your supervisor's co-signature."
                        if request.user.requires_cosign
                        else ""
                    ),
                )
                return redirect(*back)
    signing_wait = _signing_wait(note) if note and not note.is_signed else None
    warnings = []
    if note is not None and not note.is_signed and not missing and not signing_wait:
        warnings = checks.sign_warnings(note)
        # The page names the clients whose sections (or names) a warning points at.
        shown = {p.client.pk: p.client for w in warnings for p in w.places if p.client}
        shown |= {c.pk: c for w in warnings for c in w.bearers}
        access_shown(request, list(shown.values()))
    return render(
        request,
        "clinical/notes/sign.html",
        {
            "note": note,
            "form": form,
            "missing": missing,
            "warnings": warnings,
            "acknowledged": set(request.POST.getlist("ack")) if request.method == "POST" else (),
            "back": back,
            "title": title,
            "attestation": ATTESTATION,
            "note_access": note_access,
            "signing_wait": signing_wait,
        },
        status=_status(form) if not (request.method == "POST" and form.errors) else 400,
    )


def _addendum_page(request, note, *, back):
    form = AddendumForm(request.POST or None, user=request.user, note=note)
    if request.method == "POST" and form.is_valid():
        if note is None:
            form.add_error(None, "There is no note yet: an addendum is added to a signed note.")
        else:
            try:
                services.addendum_add(
                    note=note,
                    text=form.cleaned_data["text"],
                    section_client=form.section_client(),
                    actor=request.user,
                    audit=audit_context(request),
                    **_identity(form),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, "Addendum signed and added.")
                return redirect(*back)
    return render(
        request,
        "clinical/notes/addendum.html",
        {"note": note, "form": form, "back": back, "note_access": _note_access(request, note)},
        status=400 if request.method == "POST" and form.errors else 200,
    )


# --- Appointment notes (individual, family, medication, case management) -----------------


def _appointment_form(note, appointment, *, data=None):
    note_format = note.format if note else NoteFormatDefault.for_kind(appointment.kind)
    initial = note_initial(note)
    if note is None:
        initial |= {
            "time_in": services.local_time(appointment.starts_at),
            "time_out": services.local_time(appointment.ends_at),
        }
    return NoteForm(data, initial=initial, note_format=note_format, is_group=False)


def _save_appointment(request, appointment, form, *, autosave):
    return services.appointment_note_save(
        appointment=appointment,
        content=form.content(),
        actor=request.user,
        audit=audit_context(request),
        autosave=autosave,
    )


@owned_view("scheduling.appointment", purpose=Purpose.CLINICAL)
def appointment_note(request, appointment):
    note = selectors.appointment_note_for(appointment)
    if note is not None:
        note.appointment = appointment
    form = _appointment_form(note, appointment, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _save_appointment(request, appointment, form, autosave=False)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if request.POST.get("then") == "sign":
                return redirect("notes:appointment_sign", appointment.public_id)
            messages.success(request, "Draft saved.")
            return redirect("notes:appointment_note", appointment.public_id)
    note_access = _note_access(request, note)
    editable = (
        request.client_access.can(Action.WRITE_NOTE)
        and (note is None or (not note.is_signed and note_access.can(Action.EDIT_NOTE)))
        and appointment.status
        in (
            (AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED)
            if note is None
            else (AppointmentStatus.COMPLETED,)
        )
    )
    return render(
        request,
        "clinical/notes/appointment_note.html",
        {
            "appointment": appointment,
            "client": appointment.client,
            "note": note,
            "form": form,
            "editable": editable,
            "note_access": note_access,
            "started": appointment.starts_at <= timezone.now(),
            "signing_wait": _signing_wait(note) if note and not note.is_signed else None,
            "last_plan": selectors.last_plan_for(
                appointment.client, exclude_note_id=note.pk if note else None
            ),
            "missing": services.note_missing(note) if note and not note.is_signed else [],
        },
        status=_status(form),
    )


@require_POST
@owned_view("scheduling.appointment", purpose=Purpose.CLINICAL)
def appointment_autosave(request, appointment):
    note = selectors.appointment_note_for(appointment)
    form = _appointment_form(note, appointment, data=request.POST)
    if not form.is_valid():
        return _autosaved(None, _form_error_text(form), status=400)
    try:
        note = _save_appointment(request, appointment, form, autosave=True)
    except ValidationError as exc:
        return _autosaved(None, " ".join(exc.messages), status=400)
    return _autosaved(note)


@owned_view("scheduling.appointment", purpose=Purpose.CLINICAL)
def appointment_sign(request, appointment):
    note = selectors.appointment_note_for(appointment)
    if note is not None:
        note.appointment = appointment
    return _sign_page(
        request,
        note,
        missing=services.note_missing(note) if note is None or not note.is_signed else [],
        back=("notes:appointment_note", appointment.public_id),
        title=f"Sign the {appointment.get_kind_display().lower()} note of "
        f"{when.day(appointment.starts_at)}",
    )


@owned_view("scheduling.appointment", purpose=Purpose.CLINICAL)
def appointment_addendum(request, appointment):
    note = selectors.appointment_note_for(appointment)
    return _addendum_page(request, note, back=("notes:appointment_note", appointment.public_id))


@require_POST
@owned_view("scheduling.appointment", purpose=Purpose.CLINICAL)
def appointment_no_show(request, appointment):
    try:
        services.appointment_no_show(
            appointment=appointment, actor=request.user, audit=audit_context(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("notes:appointment_note", appointment.public_id)
    messages.success(request, "Recorded as a no-show.")
    return redirect("notes:appointment_note", appointment.public_id)


# --- Co-signature -----------------------------------------------------------------------


def _cosign_page(request, note):
    action = request.POST.get("action")
    sign_form = IdentityForm(request.POST if action == "cosign" else None, user=request.user)
    return_form = ReturnForm(request.POST if action == "return" else None)
    form = sign_form if action == "cosign" else return_form
    if request.method == "POST" and form.is_valid():
        try:
            if action == "cosign":
                services.note_cosign(
                    note=note,
                    actor=request.user,
                    audit=audit_context(request),
                    **_identity(sign_form),
                )
                messages.success(request, "Co-signed.")
            else:
                services.note_return(
                    note=note,
                    comment=return_form.cleaned_data["comment"],
                    actor=request.user,
                    audit=audit_context(request),
                )
                messages.success(request, "Returned to the author with your comment.")
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            return redirect("dashboard")
    sections = selectors.cosign_sections(note)
    if note.is_group:
        access_shown(request, [section.client for section in sections])
    return render(
        request,
        "clinical/notes/cosign.html",
        {
            "note": note,
            "sections": sections,
            "sign_form": sign_form,
            "return_form": return_form,
            "access": request.client_access,
            "waiting": note.cosign_status == CosignStatus.PENDING,
            "cosign_wait": _signing_wait(note, verb="co-signed"),
            "attestation": COSIGN_ATTESTATION,
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@owned_view("clinical.progressnote", purpose=Purpose.CLINICAL)
def cosign(request, note):
    return _cosign_page(request, note)


# The author's supervisor reads every client's section for SUPERVISION (clients.access:
# while the co-signature is outstanding and for IOP_SUPERVISION_READ_DAYS after), and
# each of those clients' trails names the reader.
@owned_view("clinical.groupnote", purpose=Purpose.SUPERVISION, per_client=True)
def group_cosign(request, note):
    return _cosign_page(request, note)


# --- A client's notes ---------------------------------------------------------------------


@client_view(Purpose.CLINICAL)
def client_notes(request, client):
    return render(
        request,
        "clinical/notes/client_notes.html",
        {"client": client, "notes": selectors.chart_notes(client)},
    )

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients import intake
from clients.access import Purpose, access_shown, client_view, clients_for, owned_view
from clients.reminders import reminder_wording
from iop import when
from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_list
from iop.forms import apply_validation_error, form_status
from iop.permissions import role_required
from scheduling import selectors, services
from scheduling.forms import (
    AppointmentForm,
    AttendanceForm,
    CancelSessionForm,
    EnrollForm,
    MakeupForm,
    StepDownForm,
    WeekForm,
)
from scheduling.models import (
    SCHEDULE_WEEKS,
    AttendanceStatus,
    Room,
)

CLINICAL_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL, Role.ADMIN)


# --- Attendance ------------------------------------------------------------------------


def _offers(session) -> dict:
    """The statuses the sheet offers now, and why the others are not offered yet (the
    service refuses them with the same words)."""
    statuses, waiting = services.attendance_offers(session)
    return {
        "statuses": statuses,
        "waiting": waiting,
        "present_open": any(value == AttendanceStatus.PRESENT for value, _label in statuses),
    }


def _sheet_rows(request, session):
    """The sheet's rows; each client on it (named, with their attendance) gets an access
    row of their own, so their trail says who read the sheet."""
    rows = selectors.sheet_rows(session)
    access_shown(request, [row["client"] for row in rows])
    return rows


def _render_sheet(request, session, *, status=200):
    return render(
        request,
        "scheduling/attendance_sheet.html",
        {
            "session": session,
            "rows": _sheet_rows(request, session),
            "is_past_day": timezone.localdate() > session.date,
            **_offers(session),
        },
        status=status,
    )


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE, per_client=True)
def attendance_sheet(request, session):
    return _render_sheet(request, session)


@require_POST
@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE, per_client=True)
def attendance_all_present(request, session):
    """One click marks every unmarked client present; the exceptions are then changed
    row by row. htmx swaps the sheet's list; without JavaScript, back to the sheet."""
    error = None
    try:
        count = services.attendance_mark_all_present(
            session=session, actor=request.user, audit=audit_context(request)
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return render(
            request,
            "scheduling/_attendance_list.html",
            {
                "session": session,
                "rows": _sheet_rows(request, session),
                "list_error": error,
                **_offers(session),
                "list_notice": None if error else f"{count} marked present.",
            },
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
        return _render_sheet(request, session, status=400)
    messages.success(request, f"{count} marked present.")
    return redirect("scheduling:attendance_sheet", session.public_id)


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def attendance_mark(request, session, client):
    form = AttendanceForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.attendance_record(
                session=session,
                client=client,
                status=form.cleaned_data["status"],
                minutes=form.cleaned_data["minutes"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose a status; minutes must be a whole number."
    if request.htmx:
        attendance = client.attendance.filter(session=session).first()
        return render(
            request,
            "scheduling/_attendance_row.html",
            {
                "session": session,
                "row": {"client": client, "attendance": attendance},
                "error": error,
                **_offers(session),
            },
            status=400 if error else 200,
        )
    if error:
        messages.error(request, f"{client.display_name}: {error}")
        return _render_sheet(request, session, status=400)
    return redirect("scheduling:attendance_sheet", session.public_id)


@owned_view("scheduling.groupsession", purpose=Purpose.ATTENDANCE)
def session_cancel(request, session):
    form = CancelSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(
                session=session,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Session cancelled; it is gone from clients' schedules.")
            return redirect("scheduling:day")
    return render(
        request,
        "scheduling/cancel_session.html",
        {"form": form, "session": session},
        status=form_status(form),
    )


# --- Enrolment and step-down -----------------------------------------------------------


@client_view(Purpose.EDIT)
def enroll(request, client):
    form = EnrollForm(request.POST or None, groups=selectors.groups_with_seats())
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_create(
                client=client,
                group=form.cleaned_data["group"],
                start_on=form.cleaned_data["start_on"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Placed on the track.")
            return redirect("clients:chart", client.public_id)
    return render(
        request,
        "clients/form.html",
        {
            "form": form,
            "client": client,
            "title": "Place on a track and slot",
            "intake": intake.progress(client, "placement"),
        },
        status=form_status(form),
    )


@client_view(Purpose.EDIT)
def step_down(request, client):
    enrollment = selectors.current_enrollment(client)
    if enrollment is None or enrollment.track.steps_down_to_id is None:
        raise Http404("Nothing to step down from.")
    planned = selectors.planned_step_down(client)
    if planned is not None:
        messages.info(
            request,
            f"A step-down to {planned.track} on {when.day(planned.start_on)} is already planned.",
        )
        return redirect("clients:chart", client.public_id)
    groups = selectors.groups_with_seats().filter(track=enrollment.track.steps_down_to)
    form = StepDownForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrollment_step_down(
                enrollment=enrollment,
                group=form.cleaned_data["group"],
                on=form.cleaned_data["start_on"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            on = form.cleaned_data["start_on"]
            target = enrollment.track.steps_down_to
            if on > timezone.localdate():
                messages.success(request, f"Step-down to {target} planned for {when.day(on)}.")
            else:
                messages.success(request, f"Stepped down to {target}.")
            return redirect("clients:chart", client.public_id)
    return render(
        request,
        "clients/form.html",
        {
            "form": form,
            "client": client,
            "title": f"Step down from {enrollment.track} to {enrollment.track.steps_down_to}",
        },
        status=form_status(form),
    )


@client_view(Purpose.EDIT)
def makeup(request, client):
    form = MakeupForm(request.POST or None, sessions=selectors.makeup_sessions(client))
    if request.method == "POST" and form.is_valid():
        try:
            services.attendance_record(
                session=form.cleaned_data["session"],
                client=client,
                status=form.cleaned_data["status"],
                minutes=form.cleaned_data["minutes"],
                is_makeup=True,
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Make-up session recorded; its hours count this week.")
            return redirect("clients:chart", client.public_id)
    return render(
        request,
        "clients/form.html",
        {"form": form, "client": client, "title": "Record a make-up session"},
        status=form_status(form),
    )


@client_view(Purpose.CHART)
def client_schedule(request, client):
    """The client's printed schedule: SCHEDULE_WEEKS from today, every session in it
    generated first (the page promises them), with the clinic's address and phone (and
    the program's name only for a client who agreed to be reminded with it)."""
    today = timezone.localdate()
    last = today + timedelta(weeks=SCHEDULE_WEEKS, days=-1)
    services.sessions_generate_through(last, today=today)
    return render(
        request,
        "scheduling/client_schedule.html",
        {
            "client": client,
            "items": selectors.upcoming_schedule(client, days=SCHEDULE_WEEKS * 7, today=today),
            "weeks": SCHEDULE_WEEKS,
            "first": today,
            "last": last,
            "clinic": reminder_wording(client),
        },
    )


# --- Appointments ----------------------------------------------------------------------


@role_required(*CLINICAL_ROLES)
def appointment_new(request):
    clients = clients_for(request.user, Purpose.EDIT).filter(status="active")
    initial = {"clinician": request.user}
    if request.GET.get("client"):
        initial["client"] = request.GET["client"]
    form = AppointmentForm(request.POST or None, clients=clients, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.appointment_book(
                client=data["client"],
                clinician=data["clinician"],
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                room=data["room"],
                telehealth_url=data.get("telehealth_url", ""),
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Appointment booked.")
            return redirect("scheduling:week")
    # The client choices show each client's name and MRN: the page's row counts them.
    audit_list(request, listed=clients.values_list("public_id", flat=True))
    return render(
        request, "scheduling/appointment_form.html", {"form": form}, status=form_status(form)
    )


@require_POST
@owned_view("scheduling.appointment", purpose=Purpose.EDIT)
def appointment_cancel(request, appointment):
    try:
        services.appointment_cancel(
            appointment=appointment, actor=request.user, audit=audit_context(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Appointment cancelled.")
    return redirect("scheduling:week")


# --- Calendars -------------------------------------------------------------------------


def _calendar_day(form):
    """The day a calendar asks for, or today. A date outside the VIEW policy (such as
    ``?start=9999-12-31``, which would overflow the week's arithmetic) falls back to
    today, and the page answers 400 with the message."""
    day = form.cleaned_data.get("start") if form.is_valid() else None
    return day or timezone.localdate()


def _calendar_status(form):
    return 400 if form.is_bound and not form.is_valid() else 200


def _week_start(form):
    return selectors.week_start(_calendar_day(form))


def _audit_calendar(request, days):
    """A calendar names the clients of the appointments the viewer may open, with the
    time: the page's row counts them (the others show as "Busy")."""
    audit_list(
        request,
        listed=[
            item["appointment"].client
            for day in days
            for item in day["items"]
            if item.get("can_open")
        ],
    )


@role_required(*CLINICAL_ROLES)
def week(request):
    form = WeekForm(request.GET or None)
    start = _week_start(form)
    staff = request.user
    if form.is_valid() and form.cleaned_data.get("staff") and request.user.is_program_admin:
        staff = form.cleaned_data["staff"]
    days = selectors.staff_week(staff, start, viewer=request.user)
    _audit_calendar(request, days)
    return render(
        request,
        "scheduling/week.html",
        {
            "form": form,
            "staff": staff,
            "days": days,
            "start": start,
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
        },
        status=_calendar_status(form),
    )


@role_required(*CLINICAL_ROLES, Role.INTAKE)
def room_week(request, room_id):
    room = get_object_or_404(Room, pk=room_id)
    form = WeekForm(request.GET or None)
    start = _week_start(form)
    days = selectors.room_week(room, start, viewer=request.user)
    _audit_calendar(request, days)
    return render(
        request,
        "scheduling/room_week.html",
        {
            "form": form,
            "room": room,
            "rooms": Room.objects.all(),
            "days": days,
            "start": start,
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
        },
        status=_calendar_status(form),
    )


@role_required(*CLINICAL_ROLES, Role.INTAKE)
def day(request):
    form = WeekForm(request.GET or None)
    day = _calendar_day(form)
    sessions = selectors.program_day(day, viewer=request.user)
    slots = {}
    for session in sessions:
        slots.setdefault(session.group.slot, []).append(session)
    return render(
        request,
        "scheduling/day.html",
        {
            "form": form,
            "day": day,
            "slots": slots.items(),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "rooms": Room.objects.all(),
        },
        status=_calendar_status(form),
    )

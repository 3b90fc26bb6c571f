"""Builders for the notes tests: a group session with attending clients, a complete
note's content, a past appointment."""

import secrets
from datetime import time, timedelta

from django.utils import timezone

from clinical.notes.catalog import seed_catalog
from clinical.notes.checks import sign_warnings
from clinical.notes.models import Modality
from clinical.notes.services import NoteContent, group_note_save, local_time, note_sign
from scheduling import services as scheduling
from scheduling.models import local_datetime
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.iop.factories import PASSWORD
from tests.scheduling.factories import GroupFactory, ended_session


def modality(code="cbt") -> Modality:
    if not Modality.objects.exists():  # a transactional test's flush removed the seed
        from django.apps import apps

        seed_catalog(apps)
    return Modality.objects.get(code=code)


def group_session(facilitator, admin_user, n, *, absent=0, care_team=True, names=None):
    """A session of a group ``facilitator`` runs, ended a few minutes ago (its note may
    be signed), with ``n`` clients marked present and ``absent`` more marked as an
    unexcused absence."""
    group = GroupFactory(facilitator=facilitator, capacity=max(30, n + absent))
    clients = []
    today = timezone.localdate()
    for i in range(n + absent):
        client = ClientFactory(
            status="active", preferred_name=names[i] if names and i < len(names) else ""
        )
        EpisodeFactory(client=client, admitted_on=today - timedelta(days=30))
        if care_team:
            with_care_team(client, facilitator)
        scheduling.enrollment_create(
            client=client, group=group, start_on=today - timedelta(days=14), actor=admin_user
        )
        clients.append(client)
    session = ended_session(group)
    for i, client in enumerate(clients):
        scheduling.attendance_record(
            session=session,
            client=client,
            status="present" if i < n else "unexcused",
            minutes=None,
            actor=facilitator,
        )
    return session, clients[:n], clients[n:]


def _local_times(start, end) -> dict:
    return {"time_in": local_time(start), "time_out": local_time(end)}


def complete_content(session=None, **overrides) -> NoteContent:
    """A complete group note; its times in and out are ``session``'s when given (a
    note is signed only once its time out has passed), else 18:00-21:00."""
    values = {
        "modality": modality(),
        "interventions": ["psychoeducation", "skills_training"],
        "time_in": time(18, 0),
        "time_out": time(21, 0),
        **(_local_times(session.starts_at, session.ends_at) if session else {}),
        "narrative": "Psychoeducation on identifying triggers; role play of refusal skills.",
    }
    return NoteContent(**(values | overrides))


def individual(text: str) -> str:
    """``text`` made this note's own: signing warns of text copied between sections or
    from the client's earlier notes (clinical/notes/checks.py), so each generated line
    ends with a random reference (hex: it can never be a member's name either)."""
    return f"{text} (ref {secrets.token_hex(10)})"


def section(client, **overrides) -> dict:
    name = client.display_name
    return {
        "participation_level": "active",
        "affect": "euthymic",
        "intervention_response": "receptive",
        "response": individual(f"{name} named two triggers"),
        "plan_choice": "continue",
        "risk": "none",
        "safety_plan_note": "",
    } | overrides


def legacy_section(client, **overrides) -> dict:
    """A section as written before the structured choices (issue 20): text only."""
    name = client.display_name
    return {
        "participation": individual(f"{name} took part actively"),
        "response": individual(f"{name} named two triggers"),
        "progress": individual("On track"),
        "plan": individual(f"{name} practises refusal skills"),
        "risk": "none",
        "safety_plan_note": "",
    } | overrides


def signed_group_note(session, clients, facilitator, **kwargs):
    note = group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c) for c in clients},
        actor=facilitator,
    )
    return note_sign(note=note, actor=facilitator, password=PASSWORD, **kwargs)


def sign_acknowledging(note, actor, **kwargs):
    """Sign ``note`` acknowledging every warning it raises (copied text, a member's
    name), as an author who ticked each one on the sign page."""
    keys = [w.key for w in sign_warnings(note)]
    return note_sign(note=note, actor=actor, password=PASSWORD, acknowledged=keys, **kwargs)


def past_appointment(client, clinician, *, hours_ago=2, kind="individual"):
    """A 50-minute appointment that began ``hours_ago`` hours ago. One that would span
    midnight starts at midnight instead (a note's times are times of one day), so it
    is never earlier than asked: a late entry stays as late as the test says."""
    start = timezone.localtime().replace(microsecond=0) - timedelta(hours=hours_ago)
    if (start + timedelta(minutes=50)).date() != start.date():
        start = local_datetime(start.date() + timedelta(days=1), time(0))
    return scheduling.appointment_book(
        client=client,
        clinician=clinician,
        kind=kind,
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )


def individual_content(appointment=None, **overrides) -> NoteContent:
    """A complete individual note; its times are ``appointment``'s when given, else
    09:00-09:50."""
    values = {
        "modality": modality(),
        "interventions": ["motivational_interviewing"],
        "time_in": time(9, 0),
        "time_out": time(9, 50),
        **(_local_times(appointment.starts_at, appointment.ends_at) if appointment else {}),
        "body": {
            "data": individual("Reports 20 days abstinent."),
            "assessment": individual("Engaged, hopeful."),
        },
        "plan": individual("Meet weekly; review triggers log."),
        "risk": "none",
    }
    return NoteContent(**(values | overrides))


def client_with_team(clinician):
    client = ClientFactory(status="active")
    EpisodeFactory(client=client)
    with_care_team(client, clinician)
    return client

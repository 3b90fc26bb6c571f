"""Writes of treatment plans and relapse-prevention plans: keyword-only, atomic,
validating and audited.

The services own the rules (what a plan must hold, how long a line may be, which
dates are plausible, when a client's signature is needed); forms only carry the
message. Content is stored as JSON in a fixed shape, built here from what the form
gives, so every path (page, demo, shell) writes the same shape:

treatment plan::

    {"client_words": str,
     "problems": [{"dimension": "d1".."d6", "problem": str, "goal": str,
                   "objectives": [{"text": str, "target_on": "YYYY-MM-DD"}],
                   "interventions": [{"modality": str, "frequency": str,
                                      "staff_id": int, "staff_name": str}]}]}

relapse-prevention plan::

    {"triggers": {"people": [str], "places": [str], "emotions": [str], "workplace": [str]},
     "warning_signs": [str], "coping_strategies": [str], "workplace_strategies": [str],
     "contacts": [{"name": str, "relationship": str, "phone": "+1..."}],
     "emergency_steps": [str], "reasons_for_recovery": [str]}

Audit rows carry codes and counts (version number, how many objectives), never the
words written about the client.
"""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import ASAM_DIMENSIONS, Client, Episode
from clients.services import normalise_phone
from clinical.plans.models import (
    ClientAgreement,
    RelapsePreventionPlan,
    RelapsePreventionVersion,
    TreatmentPlan,
    TreatmentPlanVersion,
)
from iop import when
from iop.accounts.models import Role
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date
from iop.forms import clean_text

# Lengths a clinician or a client fills in one sitting; anything longer is a paste
# gone wrong, refused with a message rather than stored.
LINE_MAX = 300
PROBLEM_MAX = 1000
GOAL_MAX = 500
CLIENT_WORDS_MAX = 2000
SUMMARY_MAX = 1000
NOTE_MAX = 2000
NAME_MAX = 120
RELATIONSHIP_MAX = 60
SHORT_MAX = 80
# How many of each a plan may hold: enough for any real plan, a bound for a bad post.
MAX_PROBLEMS = 12
MAX_OBJECTIVES = 5
MAX_INTERVENTIONS = 5
MAX_LINES = 20
MAX_CONTACTS = 8

DIMENSIONS = dict(ASAM_DIMENSIONS)
TRIGGER_KINDS = ("people", "places", "emotions", "workplace")
RELAPSE_LISTS = (
    "warning_signs",
    "coping_strategies",
    "workplace_strategies",
    "emergency_steps",
    "reasons_for_recovery",
)
# Who signs a treatment plan and who may be named responsible for an intervention.
TREATING_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL)


def treating_staff():
    """Active staff who may be named responsible for an intervention."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=TREATING_ROLES)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- Text -------------------------------------------------------------------------------


def _text(value, *, field: str, max_length: int, label: str) -> str:
    """Trimmed text; refuses NUL characters (PostgreSQL cannot store them) and overlong."""
    return clean_text(value, field=field, limit=max_length, label=label)


def _lines(values, *, field: str, label: str, max_lines: int = MAX_LINES) -> list[str]:
    """A list of short lines, blanks dropped."""
    if isinstance(values, str):
        values = values.splitlines()
    lines = [
        line
        for line in (_text(v, field=field, max_length=LINE_MAX, label=label) for v in values or [])
        if line
    ]
    if len(lines) > max_lines:
        raise ValidationError({field: f"{label}: at most {max_lines} lines."})
    return lines


# --- Treatment plan -----------------------------------------------------------------


def treatment_content_clean(raw: dict) -> dict:
    """The treatment plan's content in its stored shape, or a ValidationError.

    ``raw`` has ``client_words`` and ``problems``, each problem a dict with
    ``dimension``, ``problem``, ``goal``, ``objectives`` (dicts with ``text`` and a
    ``target_on`` date) and ``interventions`` (dicts with ``modality``, ``frequency``
    and ``staff``, a User). Blank problems, objectives and interventions are dropped.
    """
    client_words = _text(
        raw.get("client_words"),
        field="client_words",
        max_length=CLIENT_WORDS_MAX,
        label="The client's own words",
    )
    problems = []
    for n, item in enumerate(raw.get("problems") or [], start=1):
        problem = _clean_problem(item, n)
        if problem is not None:
            problems.append(problem)
    if len(problems) > MAX_PROBLEMS:
        raise ValidationError({"problems": f"At most {MAX_PROBLEMS} problems in one plan."})
    return {"client_words": client_words, "problems": problems}


def _clean_problem(item: dict, n: int) -> dict | None:
    where = f"Problem {n}"
    statement = _text(item.get("problem"), field="problems", max_length=PROBLEM_MAX, label=where)
    goal = _text(item.get("goal"), field="problems", max_length=GOAL_MAX, label=f"{where}, goal")
    dimension = item.get("dimension") or ""
    objectives = []
    for o in item.get("objectives") or []:
        text = _text(
            o.get("text"), field="problems", max_length=LINE_MAX, label=f"{where}, objective"
        )
        target = o.get("target_on")
        if not text and target is None:
            continue
        if not text or target is None:
            raise ValidationError(
                {"problems": f"{where}: each objective needs its words and a target date."}
            )
        if isinstance(target, str):
            try:
                target = date.fromisoformat(target)
            except ValueError:
                raise ValidationError(
                    {"problems": f"{where}: the target date is not a date."}
                ) from None
        try:
            check_date(target, DateKind.SCHEDULE, field="problems")
        except ValidationError as exc:
            raise ValidationError(
                {"problems": f"{where}, target date: {exc.message_dict['problems'][0]}"}
            ) from None
        objectives.append({"text": text, "target_on": target.isoformat()})
    interventions = []
    for i in item.get("interventions") or []:
        modality = _text(
            i.get("modality"), field="problems", max_length=SHORT_MAX, label=f"{where}, modality"
        )
        frequency = _text(
            i.get("frequency"), field="problems", max_length=SHORT_MAX, label=f"{where}, frequency"
        )
        staff = i.get("staff")
        if not modality and not frequency and staff is None:
            continue
        if not modality or not frequency or staff is None:
            raise ValidationError(
                {
                    "problems": f"{where}: each intervention needs a modality, a frequency and "
                    "the responsible staff member."
                }
            )
        if not staff.is_active or not staff.has_role(*TREATING_ROLES):
            raise ValidationError(
                {"problems": f"{where}: {staff} cannot be responsible for an intervention."}
            )
        interventions.append(
            {
                "modality": modality,
                "frequency": frequency,
                "staff_id": staff.pk,
                "staff_name": str(staff),
            }
        )
    if not (statement or goal or objectives or interventions or dimension):
        return None
    if dimension not in DIMENSIONS:
        raise ValidationError({"problems": f"{where}: choose the ASAM dimension it belongs to."})
    if not statement or not goal:
        raise ValidationError({"problems": f"{where}: state the problem and its goal."})
    if len(objectives) > MAX_OBJECTIVES or len(interventions) > MAX_INTERVENTIONS:
        raise ValidationError(
            {
                "problems": f"{where}: at most {MAX_OBJECTIVES} objectives and "
                f"{MAX_INTERVENTIONS} interventions."
            }
        )
    return {
        "dimension": dimension,
        "problem": statement,
        "goal": goal,
        "objectives": objectives,
        "interventions": interventions,
    }


def _count_objectives(content: dict) -> int:
    return sum(len(p["objectives"]) for p in content.get("problems", []))


@transaction.atomic
def treatment_plan_save_draft(
    *,
    episode: Episode,
    content: dict,
    revision: int,
    actor,
    audit: AuditContext | None = None,
) -> TreatmentPlan:
    """Save the working draft of the episode's plan, starting the plan if needed.

    ``revision`` is the draft revision the form was opened on. A post from an older
    page is refused (another tab saved meanwhile), unless it carries exactly what is
    already saved (a double submission), which changes nothing.
    """
    Client.objects.lock(episode.client)
    episode = Episode.objects.get(pk=episode.pk)
    if not episode.is_open:
        raise ValidationError("This episode is discharged: its plan is closed.")
    cleaned = treatment_content_clean(content)
    plan = TreatmentPlan.objects.select_for_update().filter(episode=episode).first()
    if plan is None:
        plan = TreatmentPlan(client_id=episode.client_id, episode=episode, created_by=actor)
    if plan.pk and plan.draft_revision != revision:
        if plan.draft == cleaned:
            plan.repeated = True
            return plan
        raise ValidationError(
            "The draft was saved from another page since you opened this one. Copy your "
            "changes, open the draft again and add them."
        )
    if plan.pk and plan.draft == cleaned:
        plan.repeated = True
        return plan
    plan.draft = cleaned
    plan.draft_revision += 1
    plan.draft_updated_at = timezone.now()
    plan.draft_updated_by = actor
    plan.save()
    audit_record(
        action="treatment_plan.save_draft",
        actor=actor,
        audit=audit,
        obj=plan,
        client=episode.client,
        detail=(
            f"revision={plan.draft_revision}; problems={len(cleaned['problems'])}; "
            f"objectives={_count_objectives(cleaned)}"
        ),
    )
    return plan


@transaction.atomic
def treatment_plan_review(
    *,
    plan: TreatmentPlan,
    of_version: int,
    client_agreement: str,
    client_signed_on: date | None,
    review_summary: str = "",
    actor,
    audit: AuditContext | None = None,
    today: date | None = None,
) -> TreatmentPlanVersion:
    """Sign the draft as the plan in force: a new version; the earlier ones stay as they were.

    ``of_version`` is the number of the version in force when the page was opened (0
    for none). If a version was saved since, the same post again (a double click) lands
    on it; a different one is refused, so two reviews never pass each other.
    ``today`` is the day of signing (the demo and tests pass an earlier one).
    """
    today = today or timezone.localdate()
    Client.objects.lock(plan.client)
    plan = TreatmentPlan.objects.select_for_update().select_related("episode").get(pk=plan.pk)
    latest = plan.versions.order_by("-number").first()
    summary = _text(
        review_summary, field="review_summary", max_length=SUMMARY_MAX, label="What changed"
    )
    if (latest.number if latest else 0) != of_version:
        if (
            latest is not None
            and latest.created_by_id == actor.pk
            and latest.content == plan.draft
            and latest.client_agreement == client_agreement
            and latest.client_signed_on == client_signed_on
            and latest.review_summary == summary
        ):
            latest.repeated = True
            return latest
        raise ValidationError(
            "The plan was reviewed from another page since you opened this one: open the "
            "review again."
        )
    if not plan.episode.is_open:
        raise ValidationError("This episode is discharged: its plan is closed.")
    if not actor.has_role(*TREATING_ROLES):
        raise ValidationError("Only clinical staff sign a treatment plan.")
    content = plan.draft  # cleaned when it was saved
    if not content.get("problems") or not _count_objectives(content):
        raise ValidationError(
            "A plan needs at least one problem with a measurable objective: edit the draft first."
        )
    if client_agreement not in ClientAgreement.values:
        raise ValidationError({"client_agreement": "Say whether the client agrees."})
    if client_agreement == ClientAgreement.DECLINED:
        if client_signed_on is not None:
            raise ValidationError(
                {"client_signed_on": "A client who declined to sign has no signature date."}
            )
    else:
        if client_signed_on is None:
            raise ValidationError({"client_signed_on": "Give the date the client signed."})
        check_date(client_signed_on, DateKind.RECORD, field="client_signed_on")
        if client_signed_on > today:
            raise ValidationError({"client_signed_on": "The client's signature is in the future."})
        if client_signed_on < plan.episode.admitted_on:
            raise ValidationError(
                {
                    "client_signed_on": "The client's signature precedes the admission "
                    f"({when.day(plan.episode.admitted_on)})."
                }
            )
    plan.versions.filter(is_current=True).update(is_current=False)
    version = TreatmentPlanVersion(
        plan=plan,
        client_id=plan.client_id,
        number=(latest.number if latest else 0) + 1,
        is_current=True,
        content=content,
        client_agreement=client_agreement,
        client_signed_on=client_signed_on,
        reviewed_on=today,
        review_summary=summary,
        created_by=actor,
    )
    version.full_clean()
    version.save()
    audit_record(
        action="treatment_plan.review",
        actor=actor,
        audit=audit,
        obj=version,
        client=plan.client,
        detail=(
            f"version={version.number}; problems={len(content['problems'])}; "
            f"objectives={_count_objectives(content)}; agreement={client_agreement}"
        ),
    )
    return version


# --- Relapse-prevention plan --------------------------------------------------------


def relapse_content_clean(raw: dict) -> dict:
    """The relapse-prevention plan's content in its stored shape, or a ValidationError.

    Lists may be given as lists or as text with one item a line. Phone numbers are
    validated and stored in E.164. The plan needs at least one trigger or warning sign
    and one coping strategy: without them it is not a plan the client can use.
    """
    raw_triggers = raw.get("triggers") or {}
    triggers = {
        kind: _lines(raw_triggers.get(kind), field=f"triggers_{kind}", label=f"Triggers ({kind})")
        for kind in TRIGGER_KINDS
    }
    lists = {
        name: _lines(raw.get(name), field=name, label=name.replace("_", " ").capitalize())
        for name in RELAPSE_LISTS
    }
    contacts = []
    for n, c in enumerate(raw.get("contacts") or [], start=1):
        name = _text(c.get("name"), field="contacts", max_length=NAME_MAX, label=f"Person {n}")
        relationship = _text(
            c.get("relationship"),
            field="contacts",
            max_length=RELATIONSHIP_MAX,
            label=f"Person {n}, relationship",
        )
        phone = _text(c.get("phone"), field="contacts", max_length=40, label=f"Person {n}, phone")
        if not (name or relationship or phone):
            continue
        if not name or not phone:
            raise ValidationError({"contacts": f"Person {n}: give a name and a phone number."})
        try:
            phone = normalise_phone(phone, field="contacts")
        except ValidationError as exc:
            raise ValidationError(
                {"contacts": f"Person {n}: {exc.message_dict['contacts'][0]}"}
            ) from None
        contacts.append({"name": name, "relationship": relationship, "phone": phone})
    if len(contacts) > MAX_CONTACTS:
        raise ValidationError({"contacts": f"At most {MAX_CONTACTS} people to call."})
    if not any(triggers.values()) and not lists["warning_signs"]:
        raise ValidationError({"triggers_people": "Name at least one trigger or warning sign."})
    if not lists["coping_strategies"]:
        raise ValidationError({"coping_strategies": "Name at least one coping strategy."})
    return {"triggers": triggers, **lists, "contacts": contacts}


@transaction.atomic
def relapse_plan_save(
    *,
    client: Client,
    content: dict,
    internal_note: str = "",
    of_version: int,
    actor,
    audit: AuditContext | None = None,
) -> RelapsePreventionVersion:
    """Save a new version of the client's relapse-prevention plan; earlier ones stay.

    ``of_version`` is the version the form was opened on (0 for none): the same post
    again lands on the version it made; a post from a page older than another save is
    refused rather than silently replacing it.
    """
    client = Client.objects.lock(client)
    cleaned = relapse_content_clean(content)
    note = _text(internal_note, field="internal_note", max_length=NOTE_MAX, label="Internal note")
    plan = RelapsePreventionPlan.objects.filter(client=client).first()
    latest = plan.versions.order_by("-number").first() if plan else None
    if (latest.number if latest else 0) != of_version:
        if (
            latest is not None
            and latest.created_by_id == actor.pk
            and latest.content == cleaned
            and latest.internal_note == note
        ):
            latest.repeated = True
            return latest
        raise ValidationError(
            "The plan was saved from another page since you opened this one: open it again."
        )
    if plan is None:
        plan = RelapsePreventionPlan.objects.create(client=client, created_by=actor)
    plan.versions.filter(is_current=True).update(is_current=False)
    version = RelapsePreventionVersion(
        plan=plan,
        client=client,
        number=(latest.number if latest else 0) + 1,
        is_current=True,
        content=cleaned,
        internal_note=note,
        created_by=actor,
    )
    version.full_clean()
    version.save()
    audit_record(
        action="relapse_plan.save",
        actor=actor,
        audit=audit,
        obj=version,
        client=client,
        detail=(
            f"version={version.number}; contacts={len(cleaned['contacts'])}; "
            f"coping={len(cleaned['coping_strategies'])}"
        ),
    )
    return version

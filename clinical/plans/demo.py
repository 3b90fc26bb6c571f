"""A treatment plan and a relapse-prevention plan for every active demo client.

Written through the services, as a clinician would: the draft, the signed first
version a week after admission, and a 30-day review for clients admitted long enough
ago (so some plans are due or overdue on the dashboard); a relapse-prevention plan,
with a second version for every other client. Idempotent: a client whose open episode
already has a plan, or who already has a relapse-prevention plan, is left alone.
"""

import random
from datetime import timedelta

from django.utils import timezone

from clients.models import CareTeamMember, CareTeamRole, Client, ClientStatus
from clinical.plans import services as services_plans
from clinical.plans.models import RelapsePreventionPlan, TreatmentPlan, review_days
from iop.audit.services import AuditContext

AUDIT = AuditContext.system("seed_demo")

PROBLEMS = {
    "d1": ("Withdrawal symptoms in the first weeks", "Complete withdrawal safely"),
    "d2": ("Sleep disrupted by shift work", "Restore regular sleep"),
    "d3": ("Anxiety before shifts, low mood on days off", "Manage anxiety without using"),
    "d4": ("Ambivalent about the need for treatment", "Commit to the program's goals"),
    "d5": ("Cravings after long shifts and on payday", "Stay abstinent through high-risk times"),
    "d6": ("Colleagues who drink after work", "Build a sober support network"),
}
OBJECTIVES = {
    "d1": "Attend every medication check this month",
    "d2": "Keep a sleep log 5 nights a week",
    "d3": "Use a grounding skill before each shift and log it",
    "d4": "Name three costs of use in group",
    "d5": "Call a support person when a craving is over 5/10",
    "d6": "Attend two mutual-help meetings a week",
}
INTERVENTIONS = {
    "d1": ("Medication management", "Weekly"),
    "d2": ("Psychoeducation", "Twice a week in group"),
    "d3": ("CBT", "Weekly individual session"),
    "d4": ("Motivational interviewing", "Weekly individual session"),
    "d5": ("Relapse prevention", "In every group"),
    "d6": ("Family therapy", "Every other week"),
}


def seed(*, stdout):
    today = timezone.localdate()
    rng = random.Random(9)  # noqa: S311 - demo data
    primaries = {
        m.client_id: m.staff
        for m in CareTeamMember.objects.active()
        .filter(role=CareTeamRole.PRIMARY, client__status=ClientStatus.ACTIVE)
        .select_related("staff")
    }
    clients = Client.objects.filter(pk__in=primaries, mrn__startswith="D").order_by("mrn")
    plans = relapse = 0
    for client in clients:
        episode = client.episodes.open().first()
        clinician = primaries[client.pk]
        if episode and not TreatmentPlan.objects.filter(episode=episode).exists():
            plans += _treatment_plan(episode, clinician, today, rng)
        if not RelapsePreventionPlan.objects.filter(client=client).exists():
            relapse += _relapse_plan(client, clinician, rng)
    stdout.write(f"Plans: {plans} treatment plan versions, {relapse} relapse-prevention versions.")


def _problem(key, clinician, target):
    return {
        "dimension": key,
        "problem": PROBLEMS[key][0],
        "goal": PROBLEMS[key][1],
        "objectives": [{"text": OBJECTIVES[key], "target_on": target}],
        "interventions": [
            {
                "modality": INTERVENTIONS[key][0],
                "frequency": INTERVENTIONS[key][1],
                "staff": clinician,
            }
        ],
    }


def _treatment_plan(episode, clinician, today, rng) -> int:
    # The dimensions rated highest at admission are the problems the plan addresses.
    ratings = episode.dimension_ratings or {}
    keys = sorted(PROBLEMS, key=lambda k: -int(ratings.get(k) or 0))[:2]
    signed = min(episode.admitted_on + timedelta(days=7), today)
    content = {
        "client_words": rng.choice(
            [
                "I want to get back to work and be someone my team can rely on.",
                "I want my licence back and my family to trust me again.",
                "I don't want to hide anymore.",
            ]
        ),
        "problems": [_problem(k, clinician, signed + timedelta(days=45)) for k in keys],
    }
    plan = services_plans.treatment_plan_save_draft(
        episode=episode, content=content, revision=0, actor=clinician, audit=AUDIT
    )
    services_plans.treatment_plan_review(
        plan=plan,
        of_version=0,
        client_agreement="agrees",
        client_signed_on=signed,
        actor=clinician,
        audit=AUDIT,
        today=signed,
    )
    review_on = signed + timedelta(days=review_days())
    if review_on > today:
        return 1
    third = next(k for k in PROBLEMS if k not in keys)
    content["problems"].append(_problem(third, clinician, review_on + timedelta(days=30)))
    plan = services_plans.treatment_plan_save_draft(
        episode=episode, content=content, revision=1, actor=clinician, audit=AUDIT
    )
    services_plans.treatment_plan_review(
        plan=plan,
        of_version=1,
        client_agreement="partly",
        client_signed_on=review_on,
        review_summary="Added a problem after the 30-day review.",
        actor=clinician,
        audit=AUDIT,
        today=review_on,
    )
    return 2


def _relapse_plan(client, clinician, rng) -> int:
    n = int(client.mrn[1:])
    content = {
        "triggers": {
            "people": ["Friends from the old bar crowd"],
            "places": [
                rng.choice(["The hotel bar on work trips", "The liquor store on my way home"])
            ],
            "emotions": ["Feeling overwhelmed", "Loneliness after a hard shift"],
            "workplace": [rng.choice(["Back-to-back night shifts", "Deadline weeks", "Audits"])],
        },
        "warning_signs": ["Skipping group", "Sleeping badly", "Thinking 'just one'"],
        "coping_strategies": ["Call my sponsor", "Go for a walk", "Play the tape forward"],
        "workplace_strategies": ["Take my break away from the unit", "Tell my monitor early"],
        "contacts": [
            {"name": "Jordan Reyes", "relationship": "Sponsor", "phone": f"+1617555{n % 10000:04d}"}
        ],
        "emergency_steps": ["Leave the situation", "Call my sponsor", "Come to the clinic"],
        "reasons_for_recovery": ["My children", "My career"],
    }
    services_plans.relapse_plan_save(
        client=client, content=content, of_version=0, actor=clinician, audit=AUDIT
    )
    if n % 2:
        return 1
    content["coping_strategies"].append("Mindfulness app before bed")
    services_plans.relapse_plan_save(
        client=client,
        content=content,
        internal_note="Updated after a lapse conversation.",
        of_version=1,
        actor=clinician,
        audit=AUDIT,
    )
    return 2

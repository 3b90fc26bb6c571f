"""The large dataset's landmarks: who to sign in as and which pages to open.

``python manage.py seed_scale`` builds the dataset (``tooling/scale_seed.py``); the
benchmark and anyone timing pages by hand read the landmarks from here. Everything
is read from the database, never remembered from the seeding run, so a dataset built
yesterday (or by another process) answers the same.

It looks at every app (through ``apps.get_model``), as tooling may: nothing imports it
but the benchmark, seed_scale and their tests.
"""

from django.apps import apps
from django.db import connection
from django.utils import timezone

# Every seeded staff account has this password. The bench server runs with
# IOP_REQUIRE_2FA=0, so no TOTP device is needed; seed_scale refuses to run on a
# production-looking setup (see its --help).
SCALE_PASSWORD = "scale-bench-password-2026"  # noqa: S105  (seeded bench data only)

ADMIN = "scale-admin"
SUPERVISOR = "scale-supervisor"
INTAKE = "scale-intake"
MEDICAL = "scale-medical"
# The clinician with the large caseload (about 300 clients as primary), supervised by
# SUPERVISOR, facilitating the 50-client and the 12-client groups below.
CLINICIAN = "scale-clinician"

# Seeded rows carry these marks, so the command can tell its own rows from real ones.
MRN_PREFIX = "S"  # seeded MRNs are "S" + 7 digits; real ones are 7 digits
EMAIL_DOMAIN = "scale.example"
GROUP_PREFIX = "Scale "
SHEET_GROUP = "Scale IOP 3 Evening (50)"
NOTE_GROUP = "Scale IOP 6 Midday (12)"


def _model(label: str):
    return apps.get_model(label)


def _recent_held_session(group_name: str, *, unsigned: bool = False):
    """The group's latest held session before today (attendance taken); ``unsigned``:
    the latest whose group note is still a draft (seed_scale leaves the 12-client
    group's latest so), for a note form that is still editable."""
    GroupSession = _model("scheduling.GroupSession")
    today = timezone.localdate()
    sessions = GroupSession.objects.filter(
        group__name=group_name, date__lt=today, cancelled_at__isnull=True
    )
    if unsigned:
        sessions = sessions.filter(group_note__status="draft")
    return sessions.order_by("-date").select_related("group").first()


def landmarks() -> dict:
    """Usernames, password and public ids of the pages a benchmark opens.

    Raises LookupError when the dataset is not there (run ``seed_scale``)."""
    User = _model("accounts.User")
    Client = _model("clients.Client")
    CareTeamMember = _model("clients.CareTeamMember")
    Episode = _model("clients.Episode")
    Appointment = _model("scheduling.Appointment")
    UrineScreen = _model("screening.UrineScreen")
    ClientAccount = _model("portal.ClientAccount")
    Payer = _model("billing.Payer")
    clinician = User.objects.filter(username=CLINICIAN).first()
    if clinician is None:
        raise LookupError("No scale dataset here: run `python manage.py seed_scale`.")
    today = timezone.localdate()
    # A client of scale-clinician admitted about a year ago and still active: the
    # chart with the longest history.
    chart_client = Client.objects.filter(
        status="active",
        care_team__staff=clinician,
        care_team__role="primary",
        care_team__ended_on__isnull=True,
    )
    first_episode = (
        Episode.objects.filter(client__in=chart_client.values("pk"), discharged_on__isnull=True)
        .order_by("admitted_on", "pk")
        .select_related("client")
        .first()
    )
    sheet = _recent_held_session(SHEET_GROUP)
    note = _recent_held_session(NOTE_GROUP, unsigned=True) or _recent_held_session(NOTE_GROUP)
    appointment = (
        Appointment.objects.filter(
            clinician=clinician, status="completed", starts_at__lt=timezone.now()
        )
        .order_by("-starts_at")
        .first()
    )
    screen = (
        UrineScreen.objects.filter(client=first_episode.client).order_by("-collected_at").first()
        if first_episode is not None
        else None
    )
    search_name = (
        Client.objects.filter(mrn__startswith=MRN_PREFIX)
        .values_list("legal_last_name", flat=True)
        .order_by("pk")
        .first()
    )
    return {
        "admin": ADMIN,
        "supervisor": SUPERVISOR,
        "intake": INTAKE,
        "medical": MEDICAL,
        "clinician": CLINICIAN,
        "password": SCALE_PASSWORD,
        "chart_client": str(first_episode.client.public_id) if first_episode else None,
        "chart_client_mrn": first_episode.client.mrn if first_episode else None,
        "sheet_session": str(sheet.public_id) if sheet else None,
        "sheet_group": str(sheet.group.public_id) if sheet else None,
        "sheet_room_id": sheet.room_id if sheet else None,
        "note_session": str(note.public_id) if note else None,
        "appointment": str(appointment.public_id) if appointment else None,
        "urine_screen": str(screen.public_id) if screen else None,
        "search_term": search_name,
        # A client with portal access (portal_link --mrn), when the dataset gave any.
        "portal_client_mrn": ClientAccount.objects.filter(enabled=True)
        .order_by("pk")
        .values_list("client__mrn", flat=True)
        .first(),
        # The payer a claims export is timed for (None until billing data is seeded).
        "payer": Payer.objects.filter(active=True)
        .order_by("code")
        .values_list("code", flat=True)
        .first(),
        "caseload": CareTeamMember.objects.filter(
            staff=clinician, role="primary", ended_on__isnull=True, client__status="active"
        ).count(),
        "clients": Client.objects.count(),
        "date": today.isoformat(),
    }


# table name -> key in dataset_size()
_TABLES = {
    "clients_client": "clients",
    "clients_episode": "episodes",
    "clients_careteammember": "care_team",
    "clients_clientuserobjectpermission": "permissions",
    "scheduling_group": "groups",
    "scheduling_groupsession": "sessions",
    "scheduling_enrollment": "enrollments",
    "scheduling_attendance": "attendance",
    "scheduling_appointment": "appointments",
    "clinical_progressnote": "notes",
    "clinical_groupnotesection": "note_sections",
    "clinical_measure": "measures",
    "clinical_treatmentplan": "treatment_plans",
    "screening_urinescreen": "urine_screens",
    "screening_breathtest": "breath_tests",
    "billing_charge": "charges",
    "billing_claim": "claims",
    "audit_auditevent": "audit",
    "notifications_outboxmessage": "outbox",
    "accounts_user": "staff",
}


def dataset_size(*, exact: bool = False) -> dict:
    """Row counts of the big tables. By default the planner's estimate
    (``pg_class.reltuples``, exact after the ANALYZE seed_scale ends with, cheap at any
    size); ``exact=True`` counts (seconds on a million rows). ``screens`` is urine
    plus breath."""
    sizes = {}
    with connection.cursor() as cursor:
        for table, key in _TABLES.items():
            value = -1
            if not exact and connection.vendor == "postgresql":
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                row = cursor.fetchone()
                value = row[0] if row else -1
            if value < 0:  # never analysed (or not PostgreSQL): count
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                value = cursor.fetchone()[0]
            sizes[key] = int(value)
    sizes["screens"] = sizes["urine_screens"] + sizes["breath_tests"]
    return sizes

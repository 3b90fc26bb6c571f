"""``seed_scale``: a clinic-sized dataset on PostgreSQL, built set-wise.

N clients (5,000 by default) over a year back from today: about 150 staff in the real
role groups, IOP 6 and IOP 3 groups in every slot, a year of sessions, enrolments with
step-downs and discharges, attendance, group and individual notes, treatment plans,
PHQ-9/GAD-7, urine and breath screens, reminders in the outbox, care teams with the
object permissions they grant, and an audit trail of 200 rows per client, chained.

How it stays true to the rules while skipping the per-row services:
- the clients' plans (admission, step-down, discharge, slot, clinician) are drawn in
  Python with a fixed seed, then inserted with COPY or ``INSERT ... SELECT``;
- object permissions come from the care-team rows through
  ``clients.services.client_permissions_sync_bulk`` (the same rule as the per-client
  sync: ``rebuild_client_permissions --dry-run`` finds nothing to change);
- the audit rows go through ``iop.audit.services.audit_bulk_append``, which chains them
  with the model's own keyed hash under the chain lock (``verify_audit`` holds);
- the database's own guards stay on: exclusion constraints on rooms and appointments,
  the note-lock triggers (group notes are written as drafts, their sections added,
  then signed, then co-signed, as the app does: a co-signature carries the seeding
  time, the only one the co-signature trigger takes).

Seeded rows are recognisable: MRNs start with ``S``, staff usernames with ``scale-``,
groups with ``Scale ``. See ``tooling/scale.py`` for the landmarks a benchmark reads.

A dataset of the whole clinic looks at every app: this module imports from them, which
is why it lives in tooling, the package above every app (tests/test_architecture.py).
"""

import io
import json
import math
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group as RoleGroup
from django.db import connection, transaction
from django.utils import timezone

from billing.models import BillingProvider, Fee, Payer
from clients.models import (
    DEFAULT_REVOCATION,
    TPO_REDISCLOSURE,
    TPO_REFUSAL,
    CareTeamRole,
    Client,
    DischargeReason,
    Episode,
    Profession,
)
from clients.services import client_permissions_sync_bulk
from clinical.meds.measures import GAD7, PHQ9, band_for
from clinical.notes.services import ATTESTATION, COSIGN_ATTESTATION
from clinical.plans.models import TreatmentPlan
from clinical.plans.services import treatment_content_clean
from iop.accounts.models import Role, User
from iop.accounts.npi import check_digit
from iop.audit.services import audit_bulk_append
from scheduling import selectors as scheduling_selectors
from tooling import scale

# Per 5,000 clients (the figures); everything scales linearly with N.
AUDIT_ROWS_PER_CLIENT = 200
GROUP_SIZE = 12
HORIZON_WEEKS = 4  # sessions generated ahead of today, as the beat task keeps them

FIRST = [
    "Alex",
    "Avery",
    "Blake",
    "Cameron",
    "Casey",
    "Dana",
    "Devon",
    "Drew",
    "Elliot",
    "Emery",
    "Finley",
    "Frankie",
    "Gray",
    "Harper",
    "Hayden",
    "Jamie",
    "Jessie",
    "Jordan",
    "Kai",
    "Kendall",
    "Lee",
    "Logan",
    "Morgan",
    "Noel",
    "Parker",
    "Peyton",
    "Quinn",
    "Reese",
    "Riley",
    "Rowan",
    "Sage",
    "Sam",
    "Shawn",
    "Skyler",
    "Taylor",
    "Terry",
    "Toby",
    "Tracy",
    "Val",
    "Wren",
    "Ana",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Frank",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Karen",
    "Liam",
    "Maria",
    "Nathan",
    "Olivia",
    "Paul",
    "Rosa",
    "Simon",
    "Tara",
    "Victor",
]
LAST = [
    "Abbott",
    "Baker",
    "Carter",
    "Dalton",
    "Ellis",
    "Fisher",
    "Garcia",
    "Hughes",
    "Ingram",
    "Jensen",
    "Keller",
    "Lawson",
    "Moreno",
    "Nolan",
    "Owens",
    "Patel",
    "Quintero",
    "Ramsey",
    "Santos",
    "Turner",
    "Underwood",
    "Vargas",
    "Walsh",
    "Xu",
    "Young",
    "Zimmer",
    "Alvarez",
    "Brennan",
    "Chen",
    "Dorsey",
    "Easton",
    "Fleming",
    "Gibbs",
    "Holt",
    "Iverson",
    "Joyce",
    "Kirby",
    "Lindqvist",
    "Mercer",
    "Nakamura",
    "Ortiz",
    "Pruitt",
    "Rahman",
    "Sokolov",
    "Tanaka",
    "Ulrich",
    "Vance",
    "Whitaker",
    "Yates",
    "Zhou",
    "Becker",
    "Coleman",
    "Duarte",
    "Farrell",
    "Grady",
    "Hale",
    "Irwin",
    "Jacobs",
    "Kowalski",
    "Lynch",
    "Maddox",
    "Novak",
    "Osei",
    "Pace",
    "Reilly",
    "Stone",
    "Thornton",
    "Upton",
    "Voss",
    "Webb",
    "Yoder",
    "Ziegler",
    "Acosta",
    "Bishop",
]
PROFESSIONS = [
    (Profession.PHYSICIAN, 22),
    (Profession.NURSE, 24),
    (Profession.PHARMACIST, 6),
    (Profession.ATTORNEY, 12),
    (Profession.PILOT, 5),
    (Profession.EXECUTIVE, 14),
    (Profession.FIRST_RESPONDER, 9),
    (Profession.OTHER, 8),
]
EARLY_EXITS = [
    (DischargeReason.AMA, 35),
    (DischargeReason.ADMINISTRATIVE, 20),
    (DischargeReason.HIGHER_LEVEL, 15),
    (DischargeReason.TRANSFERRED, 15),
    (DischargeReason.INCARCERATED, 5),
    (DischargeReason.OTHER, 10),
]
# Slot code -> share of clients choosing it (the weekend slot is IOP 3 only).
SLOT_SHARE = {"morning": 30, "midday": 18, "evening": 42, "weekend": 10}
IOP3_WEEKDAYS = ([0, 2, 4], [1, 3, 5])
WEEKEND_WEEKDAYS = [4, 5, 6]
IOP6_WEEKDAYS = [0, 1, 2, 3, 4, 5]
# Individual sessions with the primary clinician (or the counsellor), 50 minutes, local.
INDIVIDUAL_HOURS = (dtime(10, 0), dtime(14, 0), dtime(15, 0), dtime(16, 0), dtime(17, 0))
MEDICATION_TIMES = tuple(dtime(h, m) for h in (14, 15, 16, 17) for m in (0, 30))


SUMMARY = {"completed": "Completed the program's goals.", "left": "Left the program.", "": ""}


class ScaleRefused(Exception):
    """The database is not one seed_scale may write to (the message says why)."""


@dataclass
class Plan:
    """One client's year, drawn before anything is inserted."""

    index: int
    admitted: date
    slot: str
    iop6_days: int | None  # None: placed on IOP 3 directly
    iop3_days: int
    exit_after: int | None  # early discharge this many days after admission
    reason: str = ""
    special: str = ""  # "sheet", "note", "chart" or ""
    prospect: bool = False
    mat: bool = False
    primary: int = 0  # clinician index
    counsellor: int | None = None
    prescriber: int | None = None
    intake: int = 0
    enrollments: list = field(default_factory=list)  # (track, start, end|None, status)
    discharged: date | None = None


def log(stdout, message: str, started: float) -> None:
    stdout.write(f"  {message} ({time.monotonic() - started:.1f} s)")


# --- Entry point -------------------------------------------------------------------


def seeded_clients() -> int:
    return Client.objects.filter(mrn__startswith=scale.MRN_PREFIX).count()


def real_clients() -> int:
    return Client.objects.exclude(mrn__startswith=scale.MRN_PREFIX).count()


def check_database(*, clients: int, force: bool, reset: bool) -> str:
    """Why seeding should not go on ("" when it may); ScaleRefused when it must not."""
    if connection.vendor != "postgresql":
        raise ScaleRefused("seed_scale needs PostgreSQL (set DATABASE_URL).")
    real = real_clients()
    if real and reset:
        raise ScaleRefused(
            f"This database holds {real} clients seed_scale did not create: --reset would"
            " delete them. Use another database."
        )
    if real and not force:
        raise ScaleRefused(
            f"This database holds {real} clients seed_scale did not create. Use a database"
            " of its own, or --force to add the dataset beside them."
        )
    seeded = seeded_clients()
    if seeded and not reset:
        if seeded == clients:
            return f"Already seeded with {seeded} clients: nothing to do (--reset rebuilds)."
        raise ScaleRefused(
            f"This database was seeded with {seeded} clients, not {clients}: use --reset to"
            " rebuild it at the new size."
        )
    return ""


# Tables the dataset fills, emptied by --reset (only when every client is seeded).
# TRUNCATE, not DELETE: the note and plan triggers refuse to delete signed rows, and
# they are right to outside a reset. The audit trail is not emptied: it is append-only,
# and a reset appends the new dataset's rows after the old ones.
RESET_TABLES = (
    "clients_client",
    "scheduling_group",
    "scheduling_room",
    "scheduling_clinicclosure",
    "notifications_outboxmessage",
)


def reset(*, stdout) -> None:
    with connection.cursor() as cursor:
        # Inside an open transaction (a test), deferred foreign-key checks pending on
        # these tables would refuse the TRUNCATE: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(RESET_TABLES)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    stdout.write("Reset: clients, groups, sessions and everything hanging off them removed.")


def seed(*, clients: int, stdout, today: date | None = None, seed_value: int = 13) -> dict:
    """Build the dataset; returns the seconds each step took."""
    today = today or timezone.localdate()
    seeder = _Seeder(n=clients, today=today, rng=random.Random(seed_value), stdout=stdout)
    return seeder.run()


class _Seeder:
    def __init__(self, *, n: int, today: date, rng: random.Random, stdout):
        self.n = n
        self.today = today
        self.first_day = today - timedelta(days=365)
        self.rng = rng
        self.stdout = stdout
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.timings = {}

    def step(self, name, function):
        started = time.monotonic()
        with transaction.atomic():
            result = function()
        self.timings[name] = round(time.monotonic() - started, 1)
        log(self.stdout, f"{name}: {result}", started)

    def run(self) -> dict:
        # All or nothing: a run that fails half-way leaves no half dataset that a second
        # run would take for a finished one.
        with transaction.atomic():
            self._run()
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.timings["analyze"] = round(time.monotonic() - started, 1)
        return self.timings

    def _run(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.13)")
        self.step("staff", self.staff)
        self.step("plans", self.plans)
        self.step("groups", self.groups)
        self.step("clients", self.clients)
        self.step("episodes and enrolments", self.episodes)
        self.step("sessions", self.sessions)
        self.step("attendance", self.attendance)
        self.step("care teams and permissions", self.care_teams)
        self.step("appointments", self.appointments)
        self.step("notes", self.notes)
        self.step("plans and measures", self.measures)
        self.step("screens", self.screens)
        self.step("outbox", self.outbox)
        self.step("billing", self.billing)
        self.step("audit", self.audit)  # last: it writes a checkpoint outside the database

    # --- helpers --------------------------------------------------------------------

    def sql(self, statement: str, params=None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.rowcount

    def copy(self, table: str, columns: tuple[str, ...], rows) -> int:
        """COPY rows (tuples) into ``table``; None is NULL."""
        buffer = io.StringIO()
        count = 0
        for row in rows:
            buffer.write(",".join(_csv(value) for value in row))
            buffer.write("\n")
            count += 1
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
            )
        return count

    def local(self, day: date, at: dtime) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz)

    def pick(self, weighted):
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    # --- staff ------------------------------------------------------------------------

    def staff(self) -> str:
        n = self.n
        counts = {
            Role.ADMIN: max(1, round(n / 2000)),
            Role.SUPERVISOR: max(1, round(n / 600)),
            Role.INTAKE: max(1, round(n / 500)),
            Role.MEDICAL: max(1, round(n / 350)),
            Role.CLINICIAN: max(3, round(n / 45)),
        }
        base = {
            Role.ADMIN: scale.ADMIN,
            Role.SUPERVISOR: scale.SUPERVISOR,
            Role.INTAKE: scale.INTAKE,
            Role.MEDICAL: scale.MEDICAL,
            Role.CLINICIAN: scale.CLINICIAN,
        }
        password = make_password(scale.SCALE_PASSWORD)  # one hash: seconds saved, same login
        wanted = []
        for role, count in counts.items():
            for k in range(count):
                username = base[role] if k == 0 else f"{base[role]}-{k:03d}"
                first = FIRST[(k * 7 + len(role)) % len(FIRST)]
                last = LAST[(k * 11 + len(role) * 3) % len(LAST)]
                if role == Role.CLINICIAN:
                    # About half pre-licensed, needing co-signature; scale-clinician is.
                    cosign = k % 2 == 0
                    credential = "LPC-Associate" if cosign else self.rng.choice(["LCSW", "LPC"])
                else:
                    cosign = False
                    credential = {
                        Role.SUPERVISOR: "LCSW-S",
                        Role.MEDICAL: "MD" if k % 3 == 0 else "RN",
                    }.get(role, "")
                wanted.append(
                    User(
                        username=username,
                        first_name=first,
                        last_name=last,
                        email=f"{username}@{scale.EMAIL_DOMAIN}",
                        credential=credential,
                        requires_cosign=cosign,
                        is_staff=role == Role.ADMIN,
                        is_superuser=role == Role.ADMIN,
                        password=password,
                    )
                )
        User.objects.bulk_create(wanted, ignore_conflicts=True)
        users = {u.username: u for u in User.objects.filter(username__startswith="scale-")}
        roles = {g.name: g for g in RoleGroup.objects.filter(name__in=Role.values)}
        through = User.groups.through
        links = []
        self.by_role = {}
        for role, count in counts.items():
            members = []
            for k in range(count):
                user = users[base[role] if k == 0 else f"{base[role]}-{k:03d}"]
                members.append(user)
                links.append(through(user_id=user.pk, group_id=roles[role].pk))
            self.by_role[role] = members
        through.objects.bulk_create(links, ignore_conflicts=True)
        supervisors = self.by_role[Role.SUPERVISOR]
        for k, clinician in enumerate(self.by_role[Role.CLINICIAN]):
            clinician.clinical_supervisor_id = supervisors[k % len(supervisors)].pk
        User.objects.bulk_update(self.by_role[Role.CLINICIAN], ["clinical_supervisor"])
        self.clinicians = self.by_role[Role.CLINICIAN]
        self.admin = self.by_role[Role.ADMIN][0]
        self.supervisor_of = {
            c.pk: c.clinical_supervisor_id for c in self.clinicians if c.requires_cosign
        }
        return f"{sum(counts.values())} staff " + ", ".join(
            f"{count} {role}" for role, count in counts.items()
        )

    # --- plans ------------------------------------------------------------------------

    def plans(self) -> str:
        n, rng, today = self.n, self.rng, self.today
        self.sheet_size = min(50, max(4, n // 100))
        self.note_size = min(12, max(3, n // 400))
        chart_count = 3
        plans = []
        slots = list(SLOT_SHARE.items())
        window = 365 + 120  # admissions from 16 months back: some begin the year in care
        for i in range(n):
            admitted = today - timedelta(days=rng.randint(0, window))
            slot = self.pick(slots)
            direct_iop3 = slot == "weekend" or rng.random() < 0.12
            plan = Plan(
                index=i,
                admitted=admitted,
                slot=slot,
                iop6_days=None if direct_iop3 else rng.randint(50, 75),
                iop3_days=rng.randint(150, 330),
                exit_after=None,
                mat=rng.random() < 0.3,
            )
            if rng.random() < 0.12:
                plan.exit_after = rng.randint(5, 120)
                plan.reason = self.pick(EARLY_EXITS)
            plans.append(plan)
        # The landmarks: fixed shapes, taken from the front of the list.
        k = 0
        for _ in range(self.sheet_size):
            p = plans[k]
            p.special, p.slot, p.exit_after = "sheet", "evening", None
            p.admitted = today - timedelta(days=rng.randint(70, 110))
            p.iop6_days = rng.randint(35, 45)
            p.iop3_days = 400
            k += 1
        for _ in range(self.note_size):
            p = plans[k]
            p.special, p.slot, p.exit_after = "note", "midday", None
            p.admitted = today - timedelta(days=rng.randint(5, 25))
            p.iop6_days = 50
            k += 1
        for _ in range(chart_count):
            p = plans[k]
            p.special, p.exit_after = "chart", None
            p.admitted = today - timedelta(days=rng.randint(335, 350))
            p.iop6_days, p.iop3_days = 45, 400
            k += 1
        # A few prospects: registered, not yet admitted.
        for p in plans[k : k + max(1, n // 100)]:
            p.prospect = True
            p.admitted = today - timedelta(days=rng.randint(0, 10))
        for p in plans:
            self._outline(p)
        self.plans_list = plans
        active = [p for p in plans if not p.prospect and p.discharged is None]
        self.active_count = len(active)
        return (
            f"{n} clients: {len(active)} active, "
            f"{sum(1 for p in plans if p.discharged)} discharged, "
            f"{sum(1 for p in plans if p.prospect)} prospects"
        )

    def _outline(self, p: Plan) -> None:
        """Enrolment stretches from the drawn lengths (``end`` is the first day off)."""
        if p.prospect:
            return
        today = self.today
        start = p.admitted
        course_end = start + timedelta(days=(p.iop6_days or 0) + p.iop3_days)
        exit_on = start + timedelta(days=p.exit_after) if p.exit_after is not None else None
        if exit_on is None and course_end <= today:
            exit_on, p.reason = course_end, DischargeReason.COMPLETED
        if exit_on is not None and exit_on > today:
            exit_on, p.reason = None, ""
        p.discharged = exit_on
        stretches = []
        if p.iop6_days:
            step = start + timedelta(days=p.iop6_days)
            if exit_on is not None and exit_on <= step:
                stretches.append(("iop6", start, max(exit_on, start), "discharged"))
            elif step > today:
                stretches.append(("iop6", start, None, "active"))
            else:
                stretches.append(("iop6", start, step, "stepped_down"))
                start = step
        if not stretches or stretches[-1][3] == "stepped_down":
            if exit_on is not None:
                stretches.append(("iop3", start, max(exit_on, start), "discharged"))
            else:
                stretches.append(("iop3", start, None, "active"))
        p.enrollments = stretches

    # --- groups -----------------------------------------------------------------------

    def groups(self) -> str:
        from scheduling.models import Group, Room, Slot, Track

        tracks = {t.code: t for t in Track.objects.filter(code__in=["iop6", "iop3"])}
        slots = {s.code: s for s in Slot.objects.all()}
        horizon = self.today + timedelta(days=1)
        day0 = min(p.admitted for p in self.plans_list)
        days = (horizon - day0).days + 1
        # Peak concurrent clients per (track, slot), special clients apart.
        load = defaultdict(lambda: [0] * days)
        for p in self.plans_list:
            if p.special in ("sheet", "note"):
                continue
            for track, start, end, _status in p.enrollments:
                counts = load[(track, p.slot)]
                stop = (min(end or horizon, horizon) - day0).days
                for d in range((start - day0).days, stop):
                    counts[d] += 1
        specs = []  # (name, track, slot, weekdays, capacity, special)
        for (track, slot), counts in sorted(load.items()):
            peak = max(counts[(self.first_day - day0).days :] or [0])
            count = max(1, math.ceil(peak / GROUP_SIZE))
            for k in range(count):
                if slot == "weekend":
                    weekdays = WEEKEND_WEEKDAYS
                elif track == "iop6":
                    weekdays = IOP6_WEEKDAYS
                else:
                    weekdays = IOP3_WEEKDAYS[k % 2]
                label = "IOP 6" if track == "iop6" else "IOP 3"
                specs.append((f"Scale {label} {slot.title()} {k + 1:02d}", track, slot, weekdays))
        specs.append((scale.SHEET_GROUP, "iop3", "evening", IOP3_WEEKDAYS[0]))
        specs.append((scale.NOTE_GROUP, "iop6", "midday", IOP6_WEEKDAYS))
        # Rooms: within a slot each group has its own; the weekend block (09-12, Fri
        # to Sun) overlaps the morning slot on Friday and Saturday, so it has its own
        # rooms. Different weekday slots never overlap, so they share rooms.
        room_names = []
        per_slot = defaultdict(int)
        self.group_rooms = {}
        for name, _track, slot, _days in specs:
            k = per_slot[slot]
            per_slot[slot] += 1
            room = f"Scale Room {'W' if slot == 'weekend' else ''}{k + 1:02d}"
            self.group_rooms[name] = room
            if room not in room_names:
                room_names.append(room)
        Room.objects.bulk_create([Room(name=r, seats=60) for r in room_names])
        rooms = {r.name: r for r in Room.objects.filter(name__in=room_names)}
        Group.objects.bulk_create(
            [
                Group(
                    name=name,
                    track=tracks[track],
                    slot=slots[slot],
                    weekdays=weekdays,
                    room=rooms[self.group_rooms[name]],
                    capacity=GROUP_SIZE,
                )
                for name, track, slot, weekdays in specs
            ]
        )
        groups = {g.name: g for g in Group.objects.filter(name__startswith=scale.GROUP_PREFIX)}
        # Facilitators: one clinician per group, never two groups of one slot (nor a
        # weekend group beside a morning one); scale-clinician runs the two landmarks.
        star = self.clinicians[0]
        others = self.clinicians[1:]
        busy = defaultdict(set)  # clinician pk -> slots
        facilitation = {}
        turn = 0
        for name, _track, slot, _days in specs:
            if name in (scale.SHEET_GROUP, scale.NOTE_GROUP):
                facilitation[name] = star
                continue
            clash = {slot, {"morning": "weekend", "weekend": "morning"}.get(slot, "")}
            for _ in range(len(others)):
                candidate = others[turn % len(others)]
                turn += 1
                if not busy[candidate.pk] & clash:
                    break
            else:
                candidate = others[turn % len(others)]  # more groups than clinicians
            busy[candidate.pk].add(slot)
            facilitation[name] = candidate
        through = Group.facilitators.through
        through.objects.bulk_create(
            [
                through(group_id=groups[name].pk, user_id=user.pk)
                for name, user in facilitation.items()
            ]
        )
        self.facilitator = {groups[name].pk: user for name, user in facilitation.items()}
        self.groups_by_name = groups
        self._assign_groups(specs, day0, days)
        return f"{len(groups)} groups in {len(rooms)} rooms"

    def _assign_groups(self, specs, day0, days) -> None:
        """Each stretch to the least-loaded group of its track and slot on its first day;
        capacities then cover the fullest day, as the seat check would have required."""
        horizon = self.today + timedelta(days=1)
        candidates = defaultdict(list)
        for name, track, slot, _days in specs:
            if name not in (scale.SHEET_GROUP, scale.NOTE_GROUP):
                candidates[(track, slot)].append(self.groups_by_name[name])
        occupancy = {g.pk: [0] * days for g in self.groups_by_name.values()}
        self.stretches = []  # (plan, track, group, start, end, status)
        for p in sorted(self.plans_list, key=lambda p: p.admitted):
            for track, start, end, status in p.enrollments:
                if p.special == "sheet" and track == "iop3":
                    group = self.groups_by_name[scale.SHEET_GROUP]
                elif p.special == "note" and track == "iop6":
                    group = self.groups_by_name[scale.NOTE_GROUP]
                else:
                    first = (start - day0).days
                    group = min(
                        candidates[(track, p.slot)], key=lambda g: (occupancy[g.pk][first], g.pk)
                    )
                counts = occupancy[group.pk]
                stop = (min(end or horizon, horizon) - day0).days
                for d in range((start - day0).days, stop):
                    counts[d] += 1
                self.stretches.append((p, track, group, start, end, status))
        from scheduling.models import Group

        for group in self.groups_by_name.values():
            group.capacity = max(
                GROUP_SIZE if group.name != scale.SHEET_GROUP else self.sheet_size,
                max(occupancy[group.pk]),
            )
        Group.objects.bulk_update(list(self.groups_by_name.values()), ["capacity"])

    # --- clients ----------------------------------------------------------------------

    def clients(self) -> str:
        rng = self.rng
        professions = PROFESSIONS
        rows = []
        self.public_ids = {}
        for p in self.plans_list:
            public_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            self.public_ids[p.index] = public_id
            first = FIRST[rng.randrange(len(FIRST))]
            last = LAST[rng.randrange(len(LAST))]
            channel = self.pick([("sms", 55), ("email", 25), ("none", 20)])
            dob = date(rng.randint(1958, 2000), rng.randint(1, 12), rng.randint(1, 28))
            status = "prospect" if p.prospect else "discharged" if p.discharged else "active"
            created = self.local(p.admitted - timedelta(days=rng.randint(1, 6)), dtime(9, 30))
            rows.append(
                (
                    str(public_id),
                    f"{scale.MRN_PREFIX}{p.index + 1:07d}",
                    first,
                    last,
                    "",
                    dob,
                    "",
                    f"+1202555{p.index % 10000:04d}",
                    f"client{p.index + 1}@{scale.EMAIL_DOMAIN}",
                    self.pick(professions),
                    "",
                    "",
                    "",
                    "",
                    json.dumps(["alcohol"] if rng.random() < 0.5 else ["opioids", "alcohol"]),
                    "",
                    status,
                    channel,
                    channel != "none",
                    False,
                    None,
                    None,
                    created,
                    None,
                )
            )
        count = self.copy(
            "clients_client",
            (
                "public_id",
                "mrn",
                "legal_first_name",
                "legal_last_name",
                "preferred_name",
                "date_of_birth",
                "pronouns",
                "phone",
                "email",
                "profession",
                "employer",
                "monitoring_program",
                "monitoring_contact",
                "referral_source",
                "primary_substances",
                "co_occurring_conditions",
                "status",
                "reminder_channel",
                "reminder_consent",
                "reminder_may_name_program",
                "quiet_hours_start",
                "quiet_hours_end",
                "created_at",
                "created_by_id",
            ),
            rows,
        )
        by_public = dict(
            Client.objects.filter(mrn__startswith=scale.MRN_PREFIX).values_list("public_id", "pk")
        )
        self.client_pk = {i: by_public[u] for i, u in self.public_ids.items()}
        # Care: the star clinician takes about 300 active clients (the landmarks among
        # them), everyone else shares the rest; MAT clients get a prescriber.
        active = [p for p in self.plans_list if not p.prospect and p.discharged is None]
        star_share = min(300, max(5, len(active) * 14 // 100))
        star_clients = [p for p in active if p.special] + [p for p in active if not p.special]
        star_ids = {p.index for p in star_clients[:star_share]}
        medical = self.by_role[Role.MEDICAL]
        intake = self.by_role[Role.INTAKE]
        for p in self.plans_list:
            if p.index in star_ids:
                p.primary = 0
                if p.special != "chart":  # 300 weekly sessions would not fit one diary
                    p.counsellor = 1 + rng.randrange(len(self.clinicians) - 1)
            else:
                p.primary = 1 + rng.randrange(len(self.clinicians) - 1)
            p.intake = rng.randrange(len(intake))
            if p.mat:
                p.prescriber = rng.randrange(len(medical))
        self.star_caseload = len(star_ids)
        return f"{count} clients; scale-clinician primary for {len(star_ids)} active"

    # --- episodes and enrolments ------------------------------------------------------

    def episodes(self) -> str:
        rng = self.rng
        rows = []
        for p in self.plans_list:
            if p.prospect:
                continue
            ratings = {f"d{k}": rng.randint(0, 3) for k in range(1, 7)}
            completed = p.reason == DischargeReason.COMPLETED
            rows.append(
                (
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    self.client_pk[p.index],
                    p.admitted,
                    "2.1",
                    json.dumps(ratings),
                    "{}",
                    (p.iop6_days or 0) + p.iop3_days,
                    p.discharged,
                    p.reason,
                    SUMMARY["completed" if completed else "left" if p.discharged else ""],
                    (rng.choice(["outpatient", "alumni", "sober_living"]) if completed else "none")
                    if p.discharged
                    else "",
                    self.by_role[Role.INTAKE][p.intake].pk,
                )
            )
        episodes = self.copy(
            "clients_episode",
            (
                "public_id",
                "client_id",
                "admitted_on",
                "asam_level",
                "dimension_ratings",
                "dimension_notes",
                "planned_length_days",
                "discharged_on",
                "discharge_reason",
                "discharge_summary",
                "continuing_care",
                "admitted_by_id",
            ),
            rows,
        )
        from scheduling.models import Track

        episode_of = dict(
            Episode.objects.filter(client__mrn__startswith=scale.MRN_PREFIX).values_list(
                "client_id", "pk"
            )
        )
        tracks = dict(Track.objects.values_list("code", "pk"))
        rows = []
        for p, track, group, start, end, status in self.stretches:
            days = 45 if track == "iop6" else 60
            rows.append(
                (
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    self.client_pk[p.index],
                    episode_of[self.client_pk[p.index]],
                    tracks[track],
                    group.pk,
                    start,
                    start + timedelta(days=days),
                    end,
                    status,
                    self.clinicians[p.primary].pk,
                    self.local(start - timedelta(days=1), dtime(16, 0)),
                )
            )
        enrollments = self.copy(
            "scheduling_enrollment",
            (
                "public_id",
                "client_id",
                "episode_id",
                "track_id",
                "group_id",
                "start_on",
                "planned_end_on",
                "ended_on",
                "status",
                "created_by_id",
                "created_at",
            ),
            rows,
        )
        return f"{episodes} episodes, {enrollments} enrolments"

    # --- sessions ---------------------------------------------------------------------

    def sessions(self) -> str:
        from scheduling.models import ClinicClosure

        last = self.today + timedelta(weeks=HORIZON_WEEKS)
        holidays = {}
        for start in (self.first_day, self.today):
            for day, name in scheduling_selectors.federal_holidays(today=start):
                if self.first_day <= day <= last and name.startswith(
                    ("Thanksgiving", "Christmas Day", "New Year's Day", "Independence Day")
                ):
                    holidays[day] = name
        taken = set(ClinicClosure.objects.values_list("date", flat=True))
        ClinicClosure.objects.bulk_create(
            [
                ClinicClosure(date=day, reason=name, created_by=self.admin)
                for day, name in sorted(holidays.items())
                if day not in taken
            ]
        )
        count = self.sql(
            """
            INSERT INTO scheduling_groupsession
                (public_id, group_id, date, starts_at, ends_at, room_id, cancelled_at,
                 cancel_reason)
            SELECT gen_random_uuid(), g.id, d::date,
                   (d::date + s.start_time) AT TIME ZONE %(tz)s,
                   (d::date + s.end_time) AT TIME ZONE %(tz)s,
                   g.room_id, NULL, ''
            FROM scheduling_group g
            JOIN scheduling_slot s ON s.id = g.slot_id
            CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
            WHERE g.name LIKE %(prefix)s
              AND g.weekdays @> to_jsonb(extract(isodow FROM d)::int - 1)
              AND NOT EXISTS (SELECT 1 FROM scheduling_clinicclosure c WHERE c.date = d::date)
            ORDER BY d, g.id
            """,
            {
                "tz": settings.TIME_ZONE,
                "first": self.first_day,
                "last": last,
                "prefix": scale.GROUP_PREFIX + "%",
            },
        )
        # A few past sessions cancelled (a facilitator ill, a burst pipe): no
        # attendance, no note. Never a landmark group's.
        cancelled = self.sql(
            """
            UPDATE scheduling_groupsession gs
            SET cancelled_at = gs.starts_at - interval '3 hours',
                cancel_reason = 'Facilitator unavailable'
            FROM scheduling_group g
            WHERE g.id = gs.group_id AND g.name LIKE %(prefix)s
              AND g.name NOT IN (%(sheet)s, %(note)s)
              AND gs.date < %(today)s AND random() < 0.006
            """,
            {
                "prefix": scale.GROUP_PREFIX + "%",
                "sheet": scale.SHEET_GROUP,
                "note": scale.NOTE_GROUP,
                "today": self.today,
            },
        )
        self.sql("ANALYZE scheduling_groupsession, scheduling_enrollment, clients_client")
        return f"{count} sessions ({cancelled} cancelled), {len(holidays)} closures"

    # --- attendance -------------------------------------------------------------------

    def attendance(self) -> str:
        params = {"today": self.today, "prefix": scale.GROUP_PREFIX + "%"}
        count = self.sql(
            """
            INSERT INTO scheduling_attendance
                (session_id, client_id, status, minutes, is_makeup, recorded_by_id,
                 recorded_at, late_entry)
            SELECT x.session_id, x.client_id, x.status,
                   CASE x.status
                       WHEN 'present' THEN x.full WHEN 'telehealth' THEN x.full
                       WHEN 'late' THEN x.full - 10 - floor(x.r2 * 40)::int
                       WHEN 'left_early' THEN x.full - 30 - floor(x.r2 * 90)::int
                       ELSE 0 END,
                   false, x.facilitator,
                   -- Recorded after the session, late ones up to two days later,
                   -- never after the seeding moment (nothing is recorded ahead).
                   least(x.ends_at + CASE WHEN x.r2 < 0.02 THEN interval '2 days'
                                          ELSE interval '15 minutes' END, now()),
                   x.r2 < 0.02
            FROM (
                SELECT gs.id AS session_id, e.client_id, gs.ends_at,
                       (extract(epoch FROM gs.ends_at - gs.starts_at) / 60)::int AS full,
                       f.user_id AS facilitator, random() AS r2,
                       CASE WHEN r < 0.755 THEN 'present' WHEN r < 0.815 THEN 'late'
                            WHEN r < 0.855 THEN 'left_early' WHEN r < 0.905 THEN 'telehealth'
                            WHEN r < 0.950 THEN 'excused' ELSE 'unexcused' END AS status
                FROM scheduling_enrollment e
                JOIN scheduling_group g ON g.id = e.group_id AND g.name LIKE %(prefix)s
                JOIN scheduling_groupsession gs ON gs.group_id = e.group_id
                     AND gs.date >= e.start_on AND (e.ended_on IS NULL OR gs.date < e.ended_on)
                     AND gs.date < %(today)s AND gs.cancelled_at IS NULL
                JOIN scheduling_group_facilitators f ON f.group_id = g.id
                CROSS JOIN LATERAL (SELECT random() + 0 * gs.id AS r) rr
            ) x
            """,
            params,
        )
        self.sql("ANALYZE scheduling_attendance")
        # Make-ups: a third of excused absences made up within the week, on the first
        # day the client had no session of their own, in another group of the track.
        makeups = self.sql(
            """
            WITH absences AS (
                SELECT a.client_id, own.date, og.track_id, og.id AS group_id
                FROM scheduling_attendance a
                JOIN scheduling_groupsession own ON own.id = a.session_id
                JOIN scheduling_group og ON og.id = own.group_id AND og.name LIKE %(prefix)s
                WHERE a.status = 'excused' AND random() < 0.33
            ), free_days AS (
                SELECT DISTINCT ON (ab.client_id, ab.date) ab.*, d::date AS day
                FROM absences ab
                CROSS JOIN generate_series(ab.date + 1, ab.date + 6, interval '1 day') d
                WHERE d::date < %(today)s AND NOT EXISTS (
                    SELECT 1 FROM scheduling_attendance b
                    JOIN scheduling_groupsession bs ON bs.id = b.session_id
                    WHERE b.client_id = ab.client_id AND bs.date = d::date)
                ORDER BY ab.client_id, ab.date, d
            )
            INSERT INTO scheduling_attendance
                (session_id, client_id, status, minutes, is_makeup, recorded_by_id,
                 recorded_at, late_entry)
            SELECT DISTINCT ON (m.session_id, f.client_id)
                   m.session_id, f.client_id, 'present', m.full, true, m.facilitator,
                   m.ends_at + interval '15 minutes', false
            FROM free_days f
            CROSS JOIN LATERAL (
                SELECT gs.id AS session_id, gs.ends_at, fac.user_id AS facilitator,
                       (extract(epoch FROM gs.ends_at - gs.starts_at) / 60)::int AS full
                FROM scheduling_groupsession gs
                JOIN scheduling_group g ON g.id = gs.group_id
                JOIN scheduling_group_facilitators fac ON fac.group_id = g.id
                WHERE gs.date = f.day AND g.track_id = f.track_id AND g.id <> f.group_id
                  AND gs.cancelled_at IS NULL AND g.name LIKE %(prefix)s
                ORDER BY gs.id LIMIT 1
            ) m
            """,
            params,
        )
        self.sql("ANALYZE scheduling_attendance")
        return f"{count} rows and {makeups} make-ups"

    # --- care teams -------------------------------------------------------------------

    def care_teams(self) -> str:
        rows = []
        medical = self.by_role[Role.MEDICAL]
        intake = self.by_role[Role.INTAKE]
        rng = self.rng
        for p in self.plans_list:
            client = self.client_pk[p.index]
            start = p.admitted
            registered = start - timedelta(days=1)
            rows.append((client, intake[p.intake].pk, CareTeamRole.INTAKE, registered, None, ""))
            if p.prospect:
                continue
            primary = self.clinicians[p.primary].pk
            rows.append((client, primary, CareTeamRole.PRIMARY, start, None, ""))
            if p.counsellor is not None:
                counsellor = self.clinicians[p.counsellor].pk
                rows.append((client, counsellor, CareTeamRole.COUNSELLOR, start, None, ""))
            if p.prescriber is not None:
                rows.append(
                    (client, medical[p.prescriber].pk, CareTeamRole.PRESCRIBER, start, None, "")
                )
        for p, _track, group, start, end, _status in self.stretches:
            rows.append(
                (
                    self.client_pk[p.index],
                    self.facilitator[group.pk].pk,
                    CareTeamRole.FACILITATOR,
                    start,
                    end,
                    f"group:{group.public_id}",
                )
            )
        count = self.copy(
            "clients_careteammember",
            ("public_id", "client_id", "staff_id", "role", "started_on", "ended_on", "source"),
            ((str(uuid.UUID(int=rng.getrandbits(128), version=4)), *row) for row in rows),
        )
        diff = client_permissions_sync_bulk(
            clients=Client.objects.filter(mrn__startswith=scale.MRN_PREFIX)
        )
        return f"{count} care-team rows, {diff.granted} permissions granted"

    # --- appointments -----------------------------------------------------------------

    def appointments(self) -> str:
        """Weekly individual sessions with the primary clinician (the counsellor for
        scale-clinician's clients), monthly medication management for MAT clients; no
        clinician, prescriber or client double-booked (the exclusion constraints hold)."""
        rng = self.rng
        last = self.today + timedelta(weeks=HORIZON_WEEKS)
        taken = set()  # (staff pk, date, time)
        client_days = set()
        rows = []
        medical = self.by_role[Role.MEDICAL]
        booked_by = self.by_role[Role.INTAKE][0].pk

        def book(kind, staff, client, day, times, minutes):
            for offset in range(6):
                when = day + timedelta(days=offset)
                if when.weekday() == 6 or (client, when) in client_days:
                    continue
                for at in times:
                    if (staff, when, at) in taken:
                        continue
                    taken.add((staff, when, at))
                    client_days.add((client, when))
                    starts = self.local(when, at)
                    if when >= self.today:
                        status = "scheduled"
                    else:
                        r = rng.random()
                        status = "completed" if r < 0.9 else "no_show" if r < 0.96 else "cancelled"
                    rows.append(
                        (
                            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            kind,
                            client,
                            staff,
                            None,
                            starts,
                            starts + timedelta(minutes=minutes),
                            status,
                            booked_by,
                            "",
                        )
                    )
                    return

        for p in sorted(self.plans_list, key=lambda p: p.admitted):
            if p.prospect:
                continue
            client = self.client_pk[p.index]
            end = min(p.discharged or last, last)
            start = max(p.admitted + timedelta(days=2), self.first_day)
            clinician = self.clinicians[p.counsellor if p.counsellor is not None else p.primary].pk
            day = start
            while day < end:
                book("individual", clinician, client, day, INDIVIDUAL_HOURS, 50)
                day += timedelta(days=7)
            if p.prescriber is not None:
                day = start + timedelta(days=3)
                while day < end:
                    book("medication", medical[p.prescriber].pk, client, day, MEDICATION_TIMES, 20)
                    day += timedelta(days=28)
        count = self.copy(
            "scheduling_appointment",
            (
                "public_id",
                "kind",
                "client_id",
                "clinician_id",
                "room_id",
                "starts_at",
                "ends_at",
                "status",
                "booked_by_id",
                "telehealth_url",
            ),
            rows,
        )
        return f"{count} appointments"

    # --- notes ------------------------------------------------------------------------

    def notes(self) -> str:
        """Group notes (draft, sections, then signed, as the note-lock triggers expect)
        and appointment notes; signed within a day mostly, some late, the last
        fortnight's partly unsigned or waiting for co-signature."""
        params = {
            "today": self.today,
            "prefix": scale.GROUP_PREFIX + "%",
            "attestation": ATTESTATION,
            "cosign_attestation": COSIGN_ATTESTATION,
            "late_hours": settings.IOP_LATE_ENTRY_HOURS,
            "narrative": (
                "The group reviewed the week's high-risk situations and practised a "
                "grounding exercise; members named one coping step for the weekend."
            ),
            "body": json.dumps(
                {
                    "data": "Members reported on the week and the homework.",
                    "assessment": "Engaged; the group responded well to the exercise.",
                }
            ),
        }
        group_notes = self.sql(
            """
            INSERT INTO clinical_progressnote
                (public_id, kind, format, author_id, client_id, session_id, appointment_id,
                 modality_id, topic_id, interventions, time_in, time_out, risk,
                 safety_plan_note, narrative, body, plan, status, signed_at, signed_by_id,
                 attestation, late_entry, cosign_required, cosign_status, cosigned_at,
                 cosigned_by_id, cosign_attestation, returned_comment, created_at, saved_at,
                 autosave_audited_at)
            SELECT gen_random_uuid(), 'group', 'DAP', f.user_id, NULL, gs.id, NULL,
                   NULL, NULL, '["psychoeducation", "mindfulness"]'::jsonb, NULL, NULL, '',
                   '', %(narrative)s, %(body)s::jsonb,
                   'Continue the relapse-prevention module next session.', 'draft', NULL,
                   NULL, '', false, u.requires_cosign, '', NULL, NULL, '', '',
                   gs.ends_at + interval '20 minutes', gs.ends_at + interval '40 minutes', NULL
            FROM scheduling_groupsession gs
            JOIN scheduling_group g ON g.id = gs.group_id AND g.name LIKE %(prefix)s
            JOIN scheduling_group_facilitators f ON f.group_id = g.id
            JOIN accounts_user u ON u.id = f.user_id
            WHERE gs.date < %(today)s AND gs.cancelled_at IS NULL
            """,
            params,
        )
        sections = self.sql(
            """
            INSERT INTO clinical_groupnotesection
                (note_id, client_id, participation, response, progress, plan, risk,
                 safety_plan_note, participation_level, affect, intervention_response,
                 progress_rating, plan_choice)
            SELECT n.id, a.client_id, 'Active; shared an example from work.',
                   'Receptive to feedback.', 'Progressing toward the plan''s objectives.',
                   'Practise the skill daily.', 'none', '', '', '', '', '', ''
            FROM clinical_progressnote n
            JOIN scheduling_attendance a ON a.session_id = n.session_id
            JOIN scheduling_groupsession gs ON gs.id = n.session_id
            JOIN scheduling_group g ON g.id = gs.group_id AND g.name LIKE %(prefix)s
            WHERE n.kind = 'group' AND a.status NOT IN ('excused', 'unexcused')
            """,
            params,
        )
        appointment_notes = self.sql(
            """
            INSERT INTO clinical_progressnote
                (public_id, kind, format, author_id, client_id, session_id, appointment_id,
                 modality_id, topic_id, interventions, time_in, time_out, risk,
                 safety_plan_note, narrative, body, plan, status, signed_at, signed_by_id,
                 attestation, late_entry, cosign_required, cosign_status, cosigned_at,
                 cosigned_by_id, cosign_attestation, returned_comment, created_at, saved_at,
                 autosave_audited_at)
            SELECT gen_random_uuid(), ap.kind, 'DAP', ap.clinician_id, ap.client_id, NULL,
                   ap.id, NULL, NULL, '["motivational_interviewing"]'::jsonb, NULL, NULL,
                   'none', '', '',
                   %(body)s::jsonb, 'Review the coping plan next week.', 'draft', NULL,
                   NULL, '', false, u.requires_cosign, '', NULL, NULL, '', '',
                   ap.ends_at + interval '10 minutes', ap.ends_at + interval '30 minutes', NULL
            FROM scheduling_appointment ap
            JOIN clients_client c ON c.id = ap.client_id AND c.mrn LIKE 'S%%'
            JOIN accounts_user u ON u.id = ap.clinician_id
            WHERE ap.status = 'completed'
            """,
            params,
        )
        # Sign: the fortnight before today is partly unsigned; some signed late. The
        # 12-client landmark's latest note stays a draft: the benchmark opens its form.
        from scheduling.models import GroupSession

        params["keep_draft"] = (
            GroupSession.objects.filter(
                group__name=scale.NOTE_GROUP, date__lt=self.today, cancelled_at__isnull=True
            )
            .order_by("-date")
            .values_list("pk", flat=True)
            .first()
        )
        signed = self.sql(
            """
            WITH due AS (
                SELECT n.id, n.author_id, n.cosign_required, u.clinical_supervisor_id,
                       coalesce(gs.ends_at, ap.ends_at) AS ended, random() AS r
                FROM clinical_progressnote n
                JOIN accounts_user u ON u.id = n.author_id
                LEFT JOIN scheduling_groupsession gs ON gs.id = n.session_id
                LEFT JOIN scheduling_appointment ap ON ap.id = n.appointment_id
                WHERE n.status = 'draft' AND u.username LIKE 'scale-%%'
                  AND n.session_id IS DISTINCT FROM %(keep_draft)s
            ), signing AS (
                SELECT id, author_id, cosign_required, clinical_supervisor_id, ended, r,
                       -- Signed after the session ended (late ones days later), and
                       -- never after the seeding moment: no signature is dated ahead.
                       least(ended + CASE WHEN r < 0.05 THEN interval '4 days'
                                          WHEN r < 0.5 THEN interval '3 hours'
                                          ELSE interval '20 hours' END, now()) AS signed_at
                FROM due
                WHERE (ended < %(today)s::date - 14 AND r < 0.985)
                   OR (ended >= %(today)s::date - 14 AND r < 0.6)
            )
            UPDATE clinical_progressnote n
            SET status = 'signed', signed_at = s.signed_at, signed_by_id = s.author_id,
                attestation = %(attestation)s,
                -- clinical.notes.models.is_late_entry, for the bulk signing
                late_entry = s.signed_at > s.ended + make_interval(hours => %(late_hours)s),
                cosign_status = CASE WHEN s.cosign_required THEN 'pending' ELSE '' END,
                saved_at = s.signed_at
            FROM signing s WHERE n.id = s.id
            """,
            params,
        )
        # Co-signed as the supervisor does it: the trigger takes a co-signature only at
        # the time it happens (clinical/notes/lock.py), so it carries the seeding time.
        # The last three weeks' notes partly wait.
        self.sql(
            """
            UPDATE clinical_progressnote n
            SET cosign_status = 'cosigned', cosigned_at = now(),
                cosigned_by_id = u.clinical_supervisor_id,
                cosign_attestation = %(cosign_attestation)s
            FROM accounts_user u, clinical_progressnote due
            LEFT JOIN scheduling_groupsession gs ON gs.id = due.session_id
            LEFT JOIN scheduling_appointment ap ON ap.id = due.appointment_id
            WHERE n.id = due.id AND u.id = n.author_id AND u.username LIKE 'scale-%%'
              AND n.cosign_status = 'pending'
              AND (coalesce(gs.ends_at, ap.ends_at) < %(today)s::date - 21 OR random() >= 0.3)
            """,
            params,
        )
        total = group_notes + appointment_notes
        return (
            f"{total} notes ({group_notes} group with {sections} sections,"
            f" {appointment_notes} individual), {signed} signed"
        )

    # --- treatment plans and measures -------------------------------------------------

    def measures(self) -> str:
        from clinical.meds.models import Measure
        from clinical.plans.models import TreatmentPlanVersion

        rng = self.rng
        today = self.today
        episodes = dict(
            Episode.objects.filter(client__mrn__startswith=scale.MRN_PREFIX).values_list(
                "client_id", "pk"
            )
        )
        plans, versions, measures = [], [], []
        templates = {}
        for p in self.plans_list:
            if p.prospect:
                continue
            client = self.client_pk[p.index]
            clinician = self.clinicians[p.primary]
            signed_on = min(p.admitted + timedelta(days=7), today)
            key = (clinician.pk, signed_on)
            content = templates.get(key)
            if content is None:
                content = treatment_content_clean(
                    {
                        "client_words": "I want to get back to work and keep my licence.",
                        "problems": [
                            {
                                "dimension": "d5",
                                "problem": "Cravings after long shifts",
                                "goal": "Stay abstinent through high-risk times",
                                "objectives": [
                                    {
                                        "text": "Call a support person when a craving is over 5/10",
                                        "target_on": signed_on + timedelta(days=45),
                                    }
                                ],
                                "interventions": [
                                    {
                                        "modality": "Relapse prevention",
                                        "frequency": "In every group",
                                        "staff": clinician,
                                    }
                                ],
                            }
                        ],
                    }
                )
                templates[key] = content
            plans.append(
                TreatmentPlan(
                    client_id=client,
                    episode_id=episodes[client],
                    draft=content,
                    draft_revision=1,
                    draft_updated_at=self.local(signed_on, dtime(12)),
                    draft_updated_by_id=clinician.pk,
                    created_by_id=clinician.pk,
                )
            )
            # PHQ-9 and GAD-7 at admission, monthly, and at discharge; better over time.
            end = p.discharged or today
            day = p.admitted
            severity = rng.uniform(0.45, 0.85)
            while day <= end:
                for spec in (PHQ9, GAD7):
                    items = {
                        item.code: max(0, min(3, round(rng.gauss(severity * 3, 0.6))))
                        for item in spec.items
                    }
                    if spec is PHQ9:
                        items["9"] = 1 if rng.random() < 0.02 else 0
                    score = sum(items.values())
                    flag = spec is PHQ9 and items["9"] > 0
                    acknowledged = flag and day < today - timedelta(days=14)
                    measures.append(
                        Measure(
                            client_id=client,
                            instrument=spec.code,
                            administered_on=day,
                            items=items,
                            score=score,
                            band=band_for(spec, score).code,
                            safety_flag=flag,
                            flag_acknowledged_at=(
                                self.local(day, dtime(15)) if acknowledged else None
                            ),
                            flag_acknowledged_by_id=clinician.pk if acknowledged else None,
                            flag_follow_up="assessed" if acknowledged else "",
                            recorded_by_id=clinician.pk,
                        )
                    )
                severity = max(0.05, severity - rng.uniform(0.04, 0.12))
                if day == end:
                    break
                day = min(day + timedelta(days=30), end)
        TreatmentPlan.objects.bulk_create(plans, batch_size=2000)
        plan_rows = TreatmentPlan.objects.filter(
            client__mrn__startswith=scale.MRN_PREFIX
        ).values_list("pk", "client_id", "draft", "created_by_id", "episode__admitted_on")
        for pk, client, draft, author, admitted in plan_rows:
            signed_on = min(admitted + timedelta(days=7), today)
            versions.append(
                TreatmentPlanVersion(
                    plan_id=pk,
                    client_id=client,
                    number=1,
                    is_current=True,
                    content=draft,
                    client_agreement="agrees",
                    client_signed_on=signed_on,
                    reviewed_on=signed_on,
                    created_by_id=author,
                )
            )
        TreatmentPlanVersion.objects.bulk_create(versions, batch_size=2000)
        Measure.objects.bulk_create(measures, batch_size=5000)
        return f"{len(plans)} treatment plans, {len(measures)} PHQ-9/GAD-7"

    # --- screens ----------------------------------------------------------------------

    def screens(self) -> str:
        from screening.models import Panel

        panel = Panel.objects.filter(is_default=True).first() or Panel.objects.first()
        medical = [u.pk for u in self.by_role[Role.MEDICAL]]
        params = {
            "today": self.today,
            "first": self.first_day,
            "tz": settings.TIME_ZONE,
            "panel": panel.pk,
            "medical": medical,
        }
        # A urine screen every 8 days or so of each episode within the year, a breath
        # test every 30; most negative, some expected positives (MAT), a few not.
        urine = self.sql(
            """
            INSERT INTO screening_urinescreen
                (public_id, client_id, order_kind, cause, selection_id, status,
                 collected_at, collector_id, observed, temperature_c,
                 temperature_read_in_time, tampering_suspected, specimen_id, panel_id,
                 creatinine_mg_dl, specific_gravity, validity, outcome, results_at,
                 results_by_id, created_at, invalid_reason)
            SELECT gen_random_uuid(), x.client_id,
                   CASE WHEN x.r < 0.7 THEN 'random' WHEN x.r < 0.95 THEN 'scheduled'
                        ELSE 'for_cause' END,
                   CASE WHEN x.r >= 0.95 THEN 'Observed signs of impairment' ELSE '' END,
                   NULL,
                   CASE WHEN x.s < 0.94 THEN 'collected' WHEN x.s < 0.975 THEN 'no_show'
                        ELSE 'refused' END,
                   (x.day + time '12:15') AT TIME ZONE %(tz)s,
                   CASE WHEN x.s < 0.94 THEN x.collector END,
                   x.r < 0.1,
                   CASE WHEN x.s < 0.94 THEN 33.5 + round((x.s * 3)::numeric, 1) END,
                   true, false,
                   CASE WHEN x.s < 0.94 THEN 'SC-' || replace(gen_random_uuid()::text, '-', '')
                        ELSE '' END,
                   CASE WHEN x.s < 0.94 THEN %(panel)s END,
                   CASE WHEN x.s < 0.94 THEN 60 + round((x.r * 140)::numeric, 1) END,
                   CASE WHEN x.s < 0.94 THEN 1.012 END,
                   CASE WHEN x.s < 0.94 THEN 'normal' ELSE 'not_tested' END,
                   CASE WHEN x.s >= 0.94 THEN 'pending'
                        WHEN x.day >= %(today)s::date - 2 THEN 'pending'
                        WHEN x.mat AND x.r < 0.8 THEN 'expected_positive'
                        WHEN x.r < 0.05 THEN 'unexpected_positive'
                        ELSE 'negative' END,
                   CASE WHEN x.s < 0.94 AND x.day < %(today)s::date - 2
                        THEN (x.day + 2 + time '10:00') AT TIME ZONE %(tz)s END,
                   CASE WHEN x.s < 0.94 AND x.day < %(today)s::date - 2 THEN x.collector END,
                   (x.day + time '12:30') AT TIME ZONE %(tz)s,
                   ''
            FROM (
                SELECT e.client_id, d::date AS day, random() AS r, random() AS s,
                       (%(medical)s::int[])[
                           1 + floor(random() * cardinality(%(medical)s::int[]))::int]
                           AS collector,
                       EXISTS (SELECT 1 FROM clients_careteammember ct
                               WHERE ct.client_id = e.client_id AND ct.role = 'prescriber') AS mat
                FROM clients_episode e
                JOIN clients_client c ON c.id = e.client_id AND c.mrn LIKE 'S%%'
                CROSS JOIN LATERAL generate_series(
                    greatest(e.admitted_on + 2, %(first)s::date),
                    least(coalesce(e.discharged_on, %(today)s::date), %(today)s::date - 1),
                    interval '1 day') d
                WHERE extract(isodow FROM d) < 7 AND random() < 0.125
            ) x
            """,
            params,
        )
        results = self.sql(
            """
            INSERT INTO screening_analyteresult
                (screen_id, analyte_id, outcome, value, cutoff, confirm_cutoff, expected,
                 alcohol_marker, confirmation, confirmed_value, confirmation_at,
                 confirm_cutoffs, confirmed_analyte)
            SELECT u.id, a.id,
                   CASE WHEN (u.outcome = 'expected_positive' AND a.code = 'buprenorphine')
                          OR (u.outcome = 'unexpected_positive' AND a.code = 'cocaine')
                        THEN 'positive' ELSE 'negative' END,
                   CASE WHEN (u.outcome = 'expected_positive' AND a.code = 'buprenorphine')
                          OR (u.outcome = 'unexpected_positive' AND a.code = 'cocaine')
                        THEN a.initial_cutoff * 3 ELSE 0 END,
                   a.initial_cutoff, a.confirm_cutoff,
                   u.outcome = 'expected_positive' AND a.code = 'buprenorphine',
                   a.alcohol_marker, '', NULL, NULL, a.confirm_cutoffs, ''
            FROM screening_urinescreen u
            JOIN clients_client c ON c.id = u.client_id AND c.mrn LIKE 'S%%'
            JOIN screening_panel_analytes pa ON pa.panel_id = u.panel_id
            JOIN screening_analyte a ON a.id = pa.analyte_id
            WHERE u.status = 'collected' AND u.outcome <> 'pending'
            """,
            params,
        )
        breath = self.sql(
            """
            INSERT INTO screening_breathtest
                (public_id, client_id, tested_at, bac, device, operator_id, confirm_at,
                 confirm_bac, confirm_operator_id, outcome, created_at, late_reason, tier)
            SELECT gen_random_uuid(), x.client_id, (x.day + time '17:50') AT TIME ZONE %(tz)s,
                   0.000, 'Alco-Sensor FST', x.operator, NULL, NULL, NULL, 'negative',
                   (x.day + time '17:52') AT TIME ZONE %(tz)s, '', ''
            FROM (
                SELECT e.client_id, d::date AS day,
                       (%(medical)s::int[])[
                           1 + floor(random() * cardinality(%(medical)s::int[]))::int]
                           AS operator
                FROM clients_episode e
                JOIN clients_client c ON c.id = e.client_id AND c.mrn LIKE 'S%%'
                CROSS JOIN LATERAL generate_series(
                    greatest(e.admitted_on + 1, %(first)s::date),
                    least(coalesce(e.discharged_on, %(today)s::date), %(today)s::date - 1),
                    interval '1 day') d
                WHERE random() < 0.03
            ) x
            """,
            params,
        )
        return f"{urine} urine screens ({results} analyte results), {breath} breath tests"

    # --- outbox -----------------------------------------------------------------------

    def outbox(self) -> str:
        """Session reminders: sent for the last fortnight, pending for the week ahead,
        for clients who consented; neutral words (time and place, no program name)."""
        count = self.sql(
            """
            INSERT INTO notifications_outboxmessage
                (public_id, idempotency_key, audience, client, staff_id, channel, recipient,
                 template, ref, refs, subject, body, status, attempts, scheduled_for,
                 created_at, claimed_at, sent_at, read_at, provider_id, last_error)
            SELECT gen_random_uuid(),
                   'session:' || gs.public_id || ':' || c.public_id || ':24h:'
                       || c.reminder_channel,
                   'client', c.public_id, NULL, c.reminder_channel,
                   CASE c.reminder_channel WHEN 'sms' THEN c.phone ELSE c.email END,
                   'session_reminder', 'session:' || gs.public_id,
                   jsonb_build_object('session', gs.public_id::text, 'lead_hours', 24),
                   'Reminder', 'Reminder: you are expected at ' ||
                       to_char(gs.starts_at AT TIME ZONE %(tz)s, 'HH24:MI on Dy DD Mon') || '.',
                   CASE WHEN gs.starts_at - interval '24 hours' < now() THEN 'sent'
                        ELSE 'pending' END,
                   CASE WHEN gs.starts_at - interval '24 hours' < now() THEN 1 ELSE 0 END,
                   gs.starts_at - interval '24 hours',
                   gs.starts_at - interval '3 days',
                   CASE WHEN gs.starts_at - interval '24 hours' < now()
                        THEN gs.starts_at - interval '24 hours' END,
                   CASE WHEN gs.starts_at - interval '24 hours' < now()
                        THEN gs.starts_at - interval '24 hours' + interval '2 seconds' END,
                   NULL, '', ''
            FROM scheduling_groupsession gs
            JOIN scheduling_group g ON g.id = gs.group_id AND g.name LIKE %(prefix)s
            JOIN scheduling_enrollment e ON e.group_id = gs.group_id
                 AND gs.date >= e.start_on AND (e.ended_on IS NULL OR gs.date < e.ended_on)
            JOIN clients_client c ON c.id = e.client_id
            WHERE gs.date BETWEEN %(today)s::date - 14 AND %(today)s::date + 7
              AND gs.cancelled_at IS NULL AND c.reminder_consent
              AND c.reminder_channel IN ('sms', 'email')
            """,
            {"tz": settings.TIME_ZONE, "today": self.today, "prefix": scale.GROUP_PREFIX + "%"},
        )
        staff = self.sql(
            """
            INSERT INTO notifications_outboxmessage
                (public_id, idempotency_key, audience, client, staff_id, channel, recipient,
                 template, ref, refs, subject, body, status, attempts, scheduled_for,
                 created_at, claimed_at, sent_at, read_at, provider_id, last_error)
            SELECT gen_random_uuid(), 'note_unsigned:' || n.public_id || ':' || n.author_id,
                   'staff', NULL, n.author_id, 'in_app', '', 'note_unsigned',
                   'note:' || n.public_id, jsonb_build_object('note', n.public_id::text),
                   'A note is waiting for your signature',
                   'A progress note you wrote is not signed yet.', 'sent', 1,
                   n.created_at + interval '24 hours', n.created_at + interval '24 hours',
                   n.created_at + interval '24 hours', n.created_at + interval '24 hours',
                   NULL, '', ''
            FROM clinical_progressnote n
            JOIN accounts_user u ON u.id = n.author_id AND u.username LIKE 'scale-%%'
            WHERE n.status = 'draft' AND n.created_at < now() - interval '24 hours'
            """,
        )
        return f"{count} client reminders, {staff} staff tasks"

    # --- billing ----------------------------------------------------------------------

    def billing(self) -> str:
        """Issue 22's inputs for every admitted client: a primary coverage with one of two
        payers (a third Medicaid, on the stricter client-week H0015 rule), a principal
        diagnosis on each episode, an H0015 authorization over the episode, and a TPO
        consent that allows the claims (one client in 20 has none: their claims are
        held); NPIs on the clinicians and the billing provider. The charges and claims
        themselves are what ``bench`` times (billing.services), so none are made here."""
        payers = {}
        for code, name, indicator, rule, modifier in (
            ("SCALE-COMM", "Scale Commercial Health", "CI", "", "95"),
            ("SCALE-MCD", "Scale State Medicaid", "MC", "client_week", "GT"),
        ):
            payer, _ = Payer.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "payer_id": code.replace("-", ""),
                    "filing_indicator": indicator,
                    "h0015_rule": rule,
                    "telehealth_modifier": modifier,
                },
            )
            payers[code] = payer
            for service, amount in (
                ("H0015", "210.00"),
                ("90832", "80.00"),
                ("90834", "120.00"),
                ("90837", "160.00"),
                ("90847", "130.00"),
                ("99213", "95.00"),
            ):
                Fee.objects.get_or_create(
                    payer=payer,
                    code=service,
                    modifier="",
                    effective_on=self.first_day - timedelta(days=30),
                    defaults={"amount": Decimal(amount)},
                )
        BillingProvider.objects.get_or_create(
            key="program",
            defaults={
                "name": "Scale Intensive Outpatient Program",
                "npi": "1234567893",
                "tax_id": "123456789",
                "taxonomy": "261QR0405X",
                "address_line1": "1 Scale Street",
                "city": "Boston",
                "state": "MA",
                "postal_code": "021101234",
                "phone": "6175550100",
            },
        )
        prescribers = [*self.clinicians, *self.by_role[Role.MEDICAL]]
        for k, user in enumerate(prescribers):
            nine = f"{170000000 + k:09d}"
            user.npi = nine + str(check_digit(nine))
        User.objects.bulk_update(prescribers, ["npi"], batch_size=1000)
        params = {
            "comm": payers["SCALE-COMM"].pk,
            "mcd": payers["SCALE-MCD"].pk,
            "admin": self.admin.pk,
            "today": self.today,
            "mrn": scale.MRN_PREFIX + "%",
        }
        # One coverage per client, from 60 days before the first admission.
        coverages = self.sql(
            """
            INSERT INTO billing_coverage
                (public_id, client_id, payer_id, "order", member_id, group_number,
                 relationship, subscriber_first_name, subscriber_last_name, subscriber_dob,
                 effective_on, ends_on, verified_on, verified_how, verified_by_id,
                 created_by_id, created_at, address_line1, city, state, postal_code)
            SELECT gen_random_uuid(), e.client_id,
                   CASE WHEN e.client_id %% 3 = 0 THEN %(mcd)s ELSE %(comm)s END, 1,
                   'M' || LPAD(e.client_id::text, 9, '0'), '', '18', '', '', NULL,
                   MIN(e.admitted_on) - 60, NULL, MIN(e.admitted_on), 'portal', %(admin)s,
                   %(admin)s, now(), e.client_id || ' Scale Street', 'Boston', 'MA', '02110'
            FROM clients_episode e JOIN clients_client c ON c.id = e.client_id
            WHERE c.mrn LIKE %(mrn)s
            GROUP BY e.client_id
            """,
            params,
        )
        diagnoses = self.sql(
            """
            INSERT INTO billing_diagnosis
                (public_id, episode_id, code, description, principal, added_on, added_by_id,
                 removed_on, removed_by_id)
            SELECT gen_random_uuid(), e.id,
                   (ARRAY['F10.20', 'F11.20', 'F15.20', 'F12.20'])[1 + e.id %% 4],
                   (ARRAY['Alcohol dependence, uncomplicated',
                          'Opioid dependence, uncomplicated',
                          'Other stimulant dependence, uncomplicated',
                          'Cannabis dependence, uncomplicated'])[1 + e.id %% 4],
                   true, e.admitted_on, %(admin)s, NULL, NULL
            FROM clients_episode e JOIN clients_client c ON c.id = e.client_id
            WHERE c.mrn LIKE %(mrn)s
            """,
            params,
        )
        authorizations = self.sql(
            """
            INSERT INTO billing_authorization
                (public_id, client_id, payer_id, service_code, units_approved, starts_on,
                 ends_on, reference, created_by_id, created_at)
            SELECT gen_random_uuid(), cv.client_id, cv.payer_id, 'H0015', 400,
                   MIN(e.admitted_on), GREATEST(MAX(COALESCE(e.discharged_on, %(today)s)),
                   %(today)s::date + 30), 'PA' || cv.client_id, %(admin)s, now()
            FROM billing_coverage cv JOIN clients_episode e ON e.client_id = cv.client_id
            JOIN clients_client c ON c.id = cv.client_id
            WHERE c.mrn LIKE %(mrn)s
            GROUP BY cv.client_id, cv.payer_id
            """,
            params,
        )
        consents = self.sql(
            """
            INSERT INTO clients_consent
                (public_id, client_id, discloser, information_categories,
                 information_description, recipient_type, recipient_name, purpose,
                 revocation_statement, expires_on, expiry_event, tpo_redisclosure_statement,
                 tpo_refusal_statement, signed_by_name, signer_relationship, signed_on,
                 recorded_by_id, recorded_at, revoked_on, revocation_note, revoked_by_id,
                 awaiting_signature, signed_in_portal, signed_text, revoked_in_portal,
                 revocation_text)
            SELECT gen_random_uuid(), c.id, 'Intensive Outpatient Program', '["all"]',
                   'Records needed for treatment, payment and program operations.', 'tpo', '',
                   'Treatment, payment and health care operations', %(revocation)s,
                   MIN(e.admitted_on) + 730, '', %(statement)s, %(refusal)s,
                   c.legal_first_name || ' ' || c.legal_last_name, 'self', MIN(e.admitted_on),
                   %(admin)s, now(), NULL, '', NULL, false, false, '', false, ''
            FROM clients_client c JOIN clients_episode e ON e.client_id = c.id
            WHERE c.mrn LIKE %(mrn)s AND c.id %% 20 <> 7
            GROUP BY c.id
            """,
            params
            | {
                "revocation": DEFAULT_REVOCATION,
                "statement": TPO_REDISCLOSURE,
                "refusal": TPO_REFUSAL,
            },
        )
        return (
            f"{coverages} coverages, {diagnoses} diagnoses, {authorizations} authorizations, "
            f"{consents} TPO consents"
        )

    # --- audit ------------------------------------------------------------------------

    def audit(self) -> str:
        """AUDIT_ROWS_PER_CLIENT rows per client over the year, chained through the
        real hashing function. A --reset appends a new set (the trail is append-only)."""
        wanted = self.n * AUDIT_ROWS_PER_CLIENT
        rng = self.rng
        staff = [(u.pk, u.username) for role in self.by_role.values() for u in role]
        clinicians = [(u.pk, u.username) for u in self.clinicians]
        client_ids = [str(self.public_ids[p.index]) for p in self.plans_list]
        actions = [
            ("client.view", "clients.client", 50),
            ("attendance.view", "scheduling.groupsession", 14),
            ("attendance.record", "scheduling.attendance", 12),
            ("note.view", "clinical.progressnote", 8),
            ("note.sign", "clinical.progressnote", 4),
            ("screen.view", "screening.urinescreen", 4),
            ("plan.view", "clinical.treatmentplan", 3),
            ("auth.login", "", 4),
            ("report.run", "", 1),
        ]
        names, types, weights = zip(*actions, strict=True)
        seconds = 365 * 86400
        start = datetime.combine(self.first_day, dtime(0), tzinfo=UTC)
        offsets = sorted(rng.randrange(seconds) for _ in range(wanted))
        ips = [f"10.20.{k // 250}.{k % 250 + 1}" for k in range(500)]

        def rows():
            choices = rng.choices(range(len(names)), weights=weights, k=wanted)
            for offset, k in zip(offsets, choices, strict=True):
                actor = rng.choice(clinicians if k < 7 else staff)
                action = names[k]
                client = None if action in ("auth.login", "report.run") else rng.choice(client_ids)
                yield {
                    "at": start + timedelta(seconds=offset, microseconds=rng.randrange(10**6)),
                    "actor_id": actor[0],
                    "actor_username": actor[1],
                    "action": action,
                    "object_type": types[k],
                    "object_id": client if action == "client.view" else "",
                    "client_id": client,
                    "ip_address": rng.choice(ips),
                    "outcome": "allowed" if rng.random() > 0.004 else "denied",
                    "detail": "seed_scale",
                }

        appended = audit_bulk_append(rows())
        return f"{appended} rows appended"


def _csv(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clients.models import Client, Episode
from iop import when

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
# The weeks a client's printed schedule covers (sessions are generated past it).
SCHEDULE_WEEKS = 6


def clinic_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_datetime(day: date, at) -> datetime:
    """A clinic-local wall time on a day, as an aware datetime.

    Built from the zone for that very date, so 07:00 stays 07:00 on both sides of
    a daylight-saving change (the UTC offset moves, the wall time does not).
    """
    return datetime.combine(day, at, tzinfo=clinic_tz())


def clock_label(moment: datetime, *, now: datetime | None = None) -> str:
    """When something opens, as staff read it in the clinic's zone and locale: the time
    alone on the day it is said ("6:15 PM"), with its day on another ("Sat, Dec 5 at
    6:15 PM")."""
    local = moment.astimezone(clinic_tz())
    if local.date() == (now or timezone.now()).astimezone(clinic_tz()).date():
        return when.clock(local)
    return f"{when.day_short(local)} at {when.clock(local)}"


# ASAM's adolescent criteria are for clients under 18 (the Criteria's adolescent
# dimensional admission criteria; ages 12-17 here, clients.services.MINIMUM_AGE = 12).
ADULT_AGE = 18


def adult_born_by(day: date, years: int = ADULT_AGE) -> date:
    """The latest date of birth of someone ``years`` old on ``day``: born on or before it,
    adult; after it, adolescent. The age rule of clients.services' intake check: someone
    born on 29 February comes of age on 1 March in a common year, and on 29 February,
    counted back to a common year, the latest such birthday is the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February of a leap year, 18 years before a common year
        return day.replace(year=day.year - years, day=28)


def is_adolescent(date_of_birth: date, day: date) -> bool:
    return date_of_birth > adult_born_by(day)


class Track(models.Model):
    """A level of care: IOP 6, IOP 3, standard outpatient, alumni."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=80)
    days_per_week = models.PositiveSmallIntegerField(validators=[MaxValueValidator(7)])
    hours_per_session = models.DecimalField(max_digits=4, decimal_places=2)
    # The weekly floor: ASAM Criteria, 3rd edition (2013), level 2.1 (intensive
    # outpatient): 9 or more hours a week of structured programming for adults, 6 or more
    # for adolescents. Which one applies is the client's age on the week's first day
    # (``floor_for``); a track with no adolescent floor applies its one floor to everyone.
    min_hours_per_week = models.DecimalField(
        "floor, adults (h/week)", max_digits=4, decimal_places=2
    )
    adolescent_min_hours_per_week = models.DecimalField(
        "floor, adolescents (h/week)",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=f"For clients under {ADULT_AGE}; empty: the adults' floor.",
    )
    typical_min_days = models.PositiveSmallIntegerField(default=28)
    typical_max_days = models.PositiveSmallIntegerField(default=90)
    steps_down_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="steps_down_from"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(typical_max_days__gte=F("typical_min_days")),
                name="track_length_range",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def weekly_hours(self) -> Decimal:
        return self.hours_per_session * self.days_per_week

    def floor_for(self, date_of_birth: date, week: date) -> Decimal:
        """The weekly floor for a client born on ``date_of_birth`` in the week starting
        ``week`` (a Monday): the adolescents' floor while they are under ADULT_AGE that
        day (ASAM Criteria 3rd ed. 2013, level 2.1)."""
        if self.adolescent_min_hours_per_week is not None and is_adolescent(date_of_birth, week):
            return self.adolescent_min_hours_per_week
        return self.min_hours_per_week


class Slot(models.Model):
    """A time of day clients pick around work, in clinic-local time."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=40)
    start_time = models.TimeField()
    end_time = models.TimeField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="slot_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.name} {when.clock(self.start_time)}–{when.clock(self.end_time)}"

    @property
    def minutes(self) -> int:
        start = self.start_time.hour * 60 + self.start_time.minute
        return self.end_time.hour * 60 + self.end_time.minute - start


def https_only(value: str) -> None:
    """A telehealth link a client opens from the portal: https, nothing else."""
    if value and not value.lower().startswith("https://"):
        raise ValidationError("A telehealth link starts with https://.")


class Room(models.Model):
    name = models.CharField(max_length=60, unique=True)
    seats = models.PositiveSmallIntegerField(default=14)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Group(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80)
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="groups")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="groups")
    weekdays = models.JSONField(default=list, help_text="0 = Monday … 6 = Sunday")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="groups")
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_groups"
    )
    capacity = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1)])
    active = models.BooleanField(default=True)
    # A group that meets by video too: the link its clients see in the portal.
    telehealth_url = models.URLField(
        "telehealth link", blank=True, validators=[https_only], help_text="https:// only."
    )

    class Meta:
        ordering = ["track__order", "slot__order", "name"]

    def __str__(self):
        return self.name

    @property
    def source(self) -> str:
        """The care-team source of facilitator memberships this group brings."""
        return f"group:{self.public_id}"

    def clean(self):
        if self.weekdays is None or not all(d in range(7) for d in self.weekdays):
            raise ValidationError({"weekdays": "Weekdays are numbers 0 (Monday) to 6 (Sunday)."})
        if self.pk:
            # Planned step-downs hold their seat from the day they are planned.
            taken = self.enrollments.filter(status__in=["active", "planned"]).count()
            if self.capacity < taken:
                raise ValidationError(
                    {"capacity": f"{taken} clients are enrolled: capacity cannot go below that."}
                )

    def weekday_labels(self) -> str:
        names = dict(WEEKDAYS)
        return ", ".join(names[d] for d in sorted(self.weekdays))


class SessionQuerySet(models.QuerySet):
    def held(self):
        return self.filter(cancelled_at__isnull=True)

    def on(self, day: date):
        return self.filter(date=day)

    def between(self, start: date, end: date):
        return self.filter(date__gte=start, date__lt=end)


class GroupSession(models.Model):
    """One meeting of a group. Times are stored UTC, computed from the slot's local time."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sessions")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # Generation is idempotent because of this: a second run inserts nothing.
            models.UniqueConstraint(fields=["group", "date"], name="one_session_per_group_day"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["date", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
        ]

    def __str__(self):
        return f"{self.group} on {when.day(self.date)}"

    def clean(self):
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end is before the start."})
        slot = self.group.slot
        local_start = self.starts_at.astimezone(clinic_tz())
        local_end = self.ends_at.astimezone(clinic_tz())
        if (local_start.time(), local_end.time()) != (slot.start_time, slot.end_time):
            raise ValidationError(
                f"A session of {self.group} runs in its slot, {when.clock(slot.start_time)}–"
                f"{when.clock(slot.end_time)} local time."
            )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class AppointmentKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual therapy"
    FAMILY = "family", "Family session"
    MEDICATION = "medication", "Medication management"
    CASE_MANAGEMENT = "case_management", "Case management"


# The longest appointment a booking takes (longer work is a group or two visits).
APPOINTMENT_MAX_MINUTES = 240
APPOINTMENT_MIN_MINUTES = 5


def appointment_minutes(kind: str) -> int:
    """The length a booking of ``kind`` starts from (IOP_APPOINTMENT_MINUTES): the form
    shows it, its script follows the kind, and a blank length takes it."""
    return settings.IOP_APPOINTMENT_MINUTES[kind]


def appointment_minutes_problems() -> list[str]:
    """What is wrong with IOP_APPOINTMENT_MINUTES (scheduling's system check says it at
    start-up, before a booking page could fail on it)."""
    lengths = settings.IOP_APPOINTMENT_MINUTES
    problems = [
        f"IOP_APPOINTMENT_MINUTES names {key!r}, which is no appointment kind "
        f"({', '.join(AppointmentKind.values)})."
        for key in lengths
        if key not in AppointmentKind.values
    ]
    problems += [
        f"IOP_APPOINTMENT_MINUTES has no length for {kind!r}."
        for kind in AppointmentKind.values
        if kind not in lengths
    ]
    problems += [
        f"IOP_APPOINTMENT_MINUTES[{key!r}] must be a whole number of minutes from "
        f"{APPOINTMENT_MIN_MINUTES} to {APPOINTMENT_MAX_MINUTES}."
        for key, minutes in lengths.items()
        if isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not APPOINTMENT_MIN_MINUTES <= minutes <= APPOINTMENT_MAX_MINUTES
    ]
    return problems


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


class Appointment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A video visit: the link the client sees in the portal (never in a reminder).
    telehealth_url = models.URLField(
        "telehealth link", blank=True, validators=[https_only], help_text="https:// only."
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["client", "starts_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {when.moment(self.starts_at)}"


class EnrollmentStatus(models.TextChoices):
    # A future step-down: the next track's enrollment, waiting for its first day.
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    STEPPED_DOWN = "stepped_down", "Stepped down"
    COMPLETED = "completed", "Completed"
    DISCHARGED = "discharged", "Discharged"


def enrolled_during_q(first, last, *, prefix: str = "") -> Q:
    """Enrolled on at least one day of [first, last]: started on or before ``last``, not
    ended by ``first`` (``ended_on`` is the first day *off* the track). ``prefix`` reaches
    an enrollment through a relation (``"group__enrollments__"`` from a session)."""
    return Q(**{f"{prefix}start_on__lte": last}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": first})
    )


def enrolled_during_sql(alias: str, first: str, last: str | None = None) -> str:
    """The same rule as SQL, for the reports' week calendar (which is no table the ORM
    knows). tests/scheduling/test_reports.py checks it agrees with ``during()``."""
    last = last or first
    return (
        f"({alias}.start_on <= {last} AND ({alias}.ended_on IS NULL OR {alias}.ended_on > {first}))"
    )


class EnrollmentQuerySet(models.QuerySet):
    """The one statement of "enrolled on a day": started on or before it, not yet ended
    (``ended_on`` is the first day *off* the track). Sheets, counts, conflicts, the
    chart and the demo all ask this, never the status, which a planned step-down or a
    discharge moves only on its day."""

    def during(self, first, last):
        """Enrolled on at least one day of [first, last]. Either bound may be a date or
        an expression (``OuterRef("date")``) for a per-row subquery."""
        return self.filter(enrolled_during_q(first, last))

    def on(self, day):
        """Enrollments a session on ``day`` counts."""
        return self.during(day, day)


class Enrollment(models.Model):
    """A client on a track in a group, for a stretch of an episode. Step-down closes
    one and opens the next; the history stays."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="enrollments")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="enrollments")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="enrollments")
    start_on = models.DateField()
    planned_end_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=14,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ACTIVE,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # When the placement was made: on its first day, sessions that began earlier were
    # never the client's to miss.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_on"]
        constraints = [
            # A client is in one group at a time: two would put them in two sessions at once.
            models.UniqueConstraint(
                fields=["client"], condition=Q(status="active"), name="one_active_enrollment"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("start_on")),
                name="enrollment_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.track} in {self.group} from {when.day(self.start_on)}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    LEFT_EARLY = "left_early", "Left early"
    EXCUSED = "excused", "Excused absence"
    UNEXCUSED = "unexcused", "Unexcused absence"
    TELEHEALTH = "telehealth", "Telehealth"


ATTENDED = [
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.LEFT_EARLY,
    AttendanceStatus.TELEHEALTH,
]


class Attendance(models.Model):
    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="attendance")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=12, choices=AttendanceStatus.choices)
    minutes = models.PositiveSmallIntegerField()
    # A make-up: the client attended this session in place of a missed one of their own group.
    is_makeup = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    # Recorded or changed after the session's day: shown as a late entry.
    late_entry = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client"], name="one_attendance_per_session"
            ),
        ]
        indexes = [models.Index(fields=["client", "session"])]

    def __str__(self):
        return f"{self.get_status_display()} ({self.minutes} min)"

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED


class ClinicClosure(models.Model):
    """A day the clinic is closed (a holiday it chose, weather): no session is
    generated, and closing a day cancels the sessions already generated with the
    reason. Created through ``scheduling.services.closure_create``."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{when.day(self.date)}: {self.reason}"

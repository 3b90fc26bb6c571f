"""The intake journey's steps: what a prospect still waits for.

Register -> consent -> admission -> care team -> placement on a track. Each step says,
as an expression on the client, when it is done, and where it is taken; the intake
coordinator's dashboard and their tasks show each client's first step not done. The
clients app registers the steps it owns; placement is the scheduling app's (clients
never imports scheduling), registered from its ``registrations.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, Value
from django.urls import reverse
from django.utils import timezone

from clients.models import CareTeamMember, CareTeamRole, Client, ClientStatus, Consent, Episode


@dataclass(frozen=True)
class IntakeStep:
    key: str
    label: str
    order: int
    # (today) -> an expression on Client, true once the step is taken.
    done: Callable[[date], object]
    # The page where the step is taken, reversed with the client's public id.
    url_name: str
    # The step as something to do, for a "Next: ..." link ("admit").
    action: str = ""

    def url(self, client) -> str:
        return reverse(self.url_name, args=[client.public_id])


STEPS: dict[str, IntakeStep] = {}


def register(step: IntakeStep) -> None:
    STEPS[step.key] = step


def steps() -> list[IntakeStep]:
    return sorted(STEPS.values(), key=lambda s: s.order)


def _annotation(step: IntakeStep) -> str:
    return f"_intake_{step.key}"


def waiting(clients, today: date):
    """``clients`` not discharged that still miss a step, each annotated with every
    step's state (in the query that loads them): ``missing_step(client)`` names the
    first one not taken."""
    annotated = clients.exclude(status=ClientStatus.DISCHARGED).annotate(
        **{_annotation(step): step.done(today) for step in steps()}
    )
    if not STEPS:
        return annotated.none()
    open_step = Q(pk__in=[])
    for step in steps():
        open_step |= Q(**{_annotation(step): False})
    return annotated.filter(open_step)


def missing_step(client) -> IntakeStep | None:
    for step in steps():
        if not getattr(client, _annotation(step), True):
            return step
    return None


# --- The journey as each step's page shows it ----------------------------------------------

# Registering is the step before any registered one: the page that creates the client.
REGISTER = IntakeStep(
    "register", "registration", 0, lambda today: Value(True), "clients:register", "register"
)


@dataclass(frozen=True)
class StepState:
    step: IntakeStep
    number: int
    done: bool
    current: bool

    @property
    def key(self) -> str:
        return self.step.key

    @property
    def label(self) -> str:
        return self.step.label


@dataclass(frozen=True)
class Progress:
    """Where a client stands in the intake journey, seen from the page of one step."""

    states: list[StepState]
    current: StepState
    # The first step after this page's that is not taken yet, with its page.
    following: StepState | None
    following_url: str | None

    @property
    def total(self) -> int:
        return len(self.states)


def progress(client, current: str, *, today: date | None = None) -> Progress | None:
    """The step indicator of the page of step ``current`` (register, then each registered
    step in order, each done or not: one query), or None for a client who has taken every
    step (a later consent or a readmission is no intake). The following step's page
    comes from the registry too, so a "Next" link lands on that step's own form."""
    today = today or timezone.localdate()
    journey = [REGISTER, *steps()]
    done = {REGISTER.key: client is not None}
    if client is not None:
        row = (
            Client.objects.filter(pk=client.pk)
            .annotate(**{_annotation(step): step.done(today) for step in steps()})
            .values(*[_annotation(step) for step in steps()])
            .first()
        ) or {}
        done.update({step.key: bool(row.get(_annotation(step))) for step in steps()})
        if all(done.values()):
            return None
    states = [
        StepState(step, number, done.get(step.key, False), step.key == current)
        for number, step in enumerate(journey, start=1)
    ]
    here = next(state for state in states if state.current)
    following = next(
        (state for state in states if state.number > here.number and not state.done), None
    )
    return Progress(
        states=states,
        current=here,
        following=following,
        following_url=following.step.url(client) if following and client is not None else None,
    )


# --- The clients app's own steps ----------------------------------------------------------


def _consented(today: date):
    """A consent signed, neither revoked nor expired today (42 CFR 2.31)."""
    return Exists(
        Consent.objects.signed()
        .filter(client=OuterRef("pk"), signed_on__lte=today)
        .filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=today))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    )


def _admitted(today: date):
    return Exists(Episode.objects.open().filter(client=OuterRef("pk")))


def _care_team(today: date):
    """A primary clinician on the team: who takes the client from intake."""
    return Exists(
        CareTeamMember.objects.active(today).filter(
            client=OuterRef("pk"), role=CareTeamRole.PRIMARY
        )
    )


def register_steps() -> None:
    register(
        IntakeStep("consent", "consent", 10, _consented, "clients:consent_add", "record a consent")
    )
    register(IntakeStep("admission", "admission", 20, _admitted, "clients:admit", "admit"))
    register(
        IntakeStep(
            "care_team", "care team", 30, _care_team, "clients:care_team", "assign the care team"
        )
    )

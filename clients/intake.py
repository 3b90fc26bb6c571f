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

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from clients.models import CareTeamMember, CareTeamRole, ClientStatus, Consent, Episode


@dataclass(frozen=True)
class IntakeStep:
    key: str
    label: str
    order: int
    # (today) -> an expression on Client, true once the step is taken.
    done: Callable[[date], object]
    # The page where the step is taken, reversed with the client's public id.
    url_name: str

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


# --- The clients app's own steps ----------------------------------------------------------


def _consented(today: date):
    """A consent signed, neither revoked nor expired today (42 CFR 2.31)."""
    return Exists(
        Consent.objects.filter(client=OuterRef("pk"), signed_on__lte=today)
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
    register(IntakeStep("consent", "consent", 10, _consented, "clients:consent_add"))
    register(IntakeStep("admission", "admission", 20, _admitted, "clients:admit"))
    register(IntakeStep("care_team", "care team", 30, _care_team, "clients:care_team"))

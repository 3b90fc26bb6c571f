"""The measurable objectives of each client's current treatment plan, for other pages.

The group note shows, in each client's section, the objectives of that client's plan
so the clinician writes progress against them; it asks for a whole group at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from clinical.plans.models import TreatmentPlanVersion
from iop import when


def current_objectives(client_ids: Iterable[int]) -> dict[int, list[str]]:
    """Objectives of the plan in force for each client, keyed by client primary key.

    "In force" is the current signed version of the treatment plan of the client's
    open episode; a draft that was never signed is not a plan yet, and a discharged
    episode's plan no longer applies. Each objective reads "<words> (by <date>)", in
    the plan's order (problem by problem). A client without a plan in force is absent
    from the result.

    One query for all the clients, whatever their number: the current version carries
    its client, and the objectives are read from its stored content.

    The caller has already decided who may see these clients (``clients.access``);
    this function does not check access.
    """
    ids = {int(pk) for pk in client_ids}
    if not ids:
        return {}
    rows = (
        TreatmentPlanVersion.objects.in_force()
        .filter(client_id__in=ids)
        .values_list("client_id", "content")
    )
    result: dict[int, list[str]] = {}
    for client_id, content in rows:
        result[client_id] = [
            _objective_line(objective)
            for problem in (content or {}).get("problems", [])
            for objective in problem.get("objectives", [])
        ]
    return result


@dataclass(frozen=True)
class PlanObjectives:
    """The objectives of one client's plan in force, with the version they belong to,
    so a note can refer to one of them (``key``) and be checked against it."""

    version_id: int
    version_public_id: str
    lines: list[str]

    def key(self, index: int) -> str:
        """The form's value for objective ``index``: the version and the place in it, so
        a page posted after a plan review never lands on the new version's objective."""
        return f"{self.version_public_id}:{index}"

    def choices(self) -> list[tuple[str, str]]:
        return [(self.key(i), line) for i, line in enumerate(self.lines)]

    def index_of(self, key: str) -> int | None:
        """The objective's place for a ``key`` of this version, else None."""
        version, _sep, index = (key or "").partition(":")
        if version != self.version_public_id or not index.isdigit():
            return None
        position = int(index)
        return position if position < len(self.lines) else None


def plan_objectives(client_ids: Iterable[int]) -> dict[int, PlanObjectives]:
    """Like ``current_objectives``, with the plan version each list comes from (one
    query for all the clients). A client without a plan in force is absent."""
    ids = {int(pk) for pk in client_ids}
    if not ids:
        return {}
    rows = (
        TreatmentPlanVersion.objects.in_force()
        .filter(client_id__in=ids)
        .values_list("client_id", "pk", "public_id", "content")
    )
    return {
        client_id: PlanObjectives(
            version_id=pk,
            version_public_id=str(public_id),
            lines=[
                _objective_line(objective)
                for problem in (content or {}).get("problems", [])
                for objective in problem.get("objectives", [])
            ],
        )
        for client_id, pk, public_id, content in rows
    }


def _objective_line(objective: dict) -> str:
    text = objective.get("text", "")
    target = objective.get("target_on")
    if not target:
        return text
    return f"{text} (by {when.day(date.fromisoformat(target))})"

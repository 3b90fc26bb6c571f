"""The one access path to a client.

Every client-scoped view is wrapped in ``client_view``: it loads the client by its
opaque id, decides through ``client_access`` whether this person has a reason for
this purpose, writes the audit record (allowed or denied) and answers 404 when
denied, so that a stranger cannot tell a hidden client from a missing one.
"""

from dataclasses import dataclass
from functools import cache, wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.http import Http404

from clients.models import Client, ClientUserObjectPermission, EmergencyAccess
from iop.audit.models import Outcome
from iop.audit.services import audit_record


class Purpose:
    """What a page is for; each names the permissions that give a reason for it."""

    # Demographics, contacts, consents, disclosures, episodes, care team.
    CHART = "chart"
    # Clinical content (notes, plans, screens): clinicians, supervisors, emergency.
    CLINICAL = "clinical"
    # Registering, consenting, admitting, assigning the care team, editing demographics.
    EDIT = "edit"
    # Taking attendance and the client's own group-note section.
    ATTENDANCE = "attendance"


PURPOSE_CODENAMES = {
    Purpose.CHART: ("view_client", "intake_client"),
    Purpose.CLINICAL: ("view_client",),
    Purpose.EDIT: ("change_client", "intake_client"),
    Purpose.ATTENDANCE: ("attend_client", "view_client"),
}
# A supervisor reads through a supervisee's chart permission; never edits through it.
SUPERVISOR_PURPOSES = {Purpose.CHART, Purpose.CLINICAL}
EMERGENCY_PURPOSES = {Purpose.CHART, Purpose.CLINICAL}
# Lists show clients the person may open a page of.
LIST_CODENAMES = ("view_client", "intake_client", "attend_client")


@cache
def permission_id_map() -> dict[str, int]:
    # Permission rows change only on migrate (and a test flush), which clears this
    # cache through the post_migrate receiver in ClientsConfig.ready.
    return dict(
        Permission.objects.filter(
            content_type__app_label="clients", content_type__model="client"
        ).values_list("codename", "id")
    )


def permission_ids(codenames: tuple[str, ...]) -> tuple[int, ...]:
    ids = permission_id_map()
    return tuple(ids[codename] for codename in codenames if codename in ids)


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str  # "admin", "care team", "supervisor", "emergency", "none"


def client_access(user, client: Client, purpose: str) -> AccessDecision:
    """Whether ``user`` has a reason to reach ``client`` for ``purpose``. No side effects."""
    if not user.is_authenticated or not user.is_active:
        return AccessDecision(False, "none")
    if user.is_program_admin:
        return AccessDecision(True, "admin")
    grants = ClientUserObjectPermission.objects.filter(
        content_object=client, permission_id__in=permission_ids(PURPOSE_CODENAMES[purpose])
    )
    if grants.filter(user=user).exists():
        return AccessDecision(True, "care team")
    if purpose in SUPERVISOR_PURPOSES and (
        grants.filter(
            user__clinical_supervisor=user, permission_id__in=permission_ids(("view_client",))
        ).exists()
    ):
        return AccessDecision(True, "supervisor")
    if (
        purpose in EMERGENCY_PURPOSES
        and EmergencyAccess.objects.active().filter(client=client, staff=user).exists()
    ):
        return AccessDecision(True, "emergency")
    return AccessDecision(False, "none")


def get_client_for_user(request, client_id, *, purpose: str, action: str) -> Client:
    """Load, check, audit; raise Http404 when there is no reason (or no client)."""
    client = Client.objects.filter(public_id=client_id).first()
    decision = (
        client_access(request.user, client, purpose) if client else AccessDecision(False, "none")
    )
    audit_record(
        action=action,
        request=request,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        object_type="clients.client",
        object_id=str(client_id),
        client=client,
        detail=f"purpose={purpose}; via={decision.reason}",
    )
    if not decision.allowed:
        raise Http404("No client here.")
    request.client_access = decision
    return client


def client_view(*, purpose: str, action: str):
    """Decorator for a view taking ``client_id``; the view receives ``client`` instead."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, client_id, *args, **kwargs):
            client = get_client_for_user(request, client_id, purpose=purpose, action=action)
            return view(request, client, *args, **kwargs)

        wrapper.client_scoped = True  # the URL test checks every client_id route has this
        return wrapper

    return decorator


def purposes_for(user, client: Client) -> set[str]:
    """Which sections of the chart to show; the page was already access-checked."""
    return {p for p in PURPOSE_CODENAMES if client_access(user, client, p).allowed}

"""The one owner of the rule that says who may reach a client, and for what.

A staff member reaches a client only through a reason (README, Clients and confidentiality):
an object permission of their own (granted from the care team by
``clients.services.client_permissions_sync``), a clinician they supervise holding
the chart permission, a break-the-glass grant that has not expired, a note a
clinician they supervise wrote with the client's section in it, while they co-sign it
(SUPERVISION only), or the admin role. This module states that rule once, as one
grants subquery per source, and every reader asks it:

- lists, searches, form choices and reports: ``clients_for(user, purpose)``;
- a page about one client: ``client_view(purpose)``, which loads the client by its
  opaque id together with every reason in one query, audits the access (allowed or
  denied) and answers 404 when denied, so that a hidden client and a missing one
  look the same;
- an object that belongs to a client (an appointment, a note, a plan, a screen) or to
  no single client (a group session, a group note): ``owned_view(kind, purpose)``,
  loaded by its public id through the kind registered with ``register_owned``; a
  page of such a shared object that shows several clients says which
  (``access_shown``), one access row per client;
- a list of such objects (a queue, a dashboard section, a calendar, a task list):
  ``scope(user, kind, purpose, relation=...)``, the page check's twin, so no list
  shows a row whose page answers 404; ``with_access`` gives each row its access;
- the chart's sections: ``request.client_access.purposes``, from the same query;
- what a page offers: ``access.can(Action.X)`` (``{% if access.can.x %}``), from the
  table ``ACTIONS``; a service checks its actor with ``may(user, kind, obj, action)``.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache, wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from clients.models import Client, ClientUserObjectPermission, EmergencyAccess, Episode
from iop.accounts.models import Role
from iop.audit.models import Outcome
from iop.audit.services import audit_context, audit_record, audit_record_per_client, page_name


class Purpose:
    """What a page is for; each names the grants that give a reason for it."""

    # Demographics, contacts, consents, disclosures, episodes, care team (read).
    CHART = "chart"
    # Clinical content (substances, ASAM notes, notes, plans, screens).
    CLINICAL = "clinical"
    # Demographics, contacts, consents, disclosures, enrolment and step-down (write).
    EDIT = "edit"
    # Admission, discharge and the care team: the primary clinician, intake, admins.
    MANAGE = "manage"
    # Taking attendance and the client's own group-note section.
    ATTENDANCE = "attendance"
    # Admin-only actions about a client (reviewing a break-the-glass access).
    REVIEW = "review"
    # A clinical supervisor reading what a supervisee wrote about the client in a note
    # they co-sign (a group note's section), while the co-signature is outstanding and
    # for IOP_SUPERVISION_READ_DAYS after it was recorded: never the chart.
    SUPERVISION = "supervision"
    # Billing (issue 22): demographics, coverage, diagnosis codes, dates and codes of
    # service, authorizations and claims; never note content, screens or measures. Held
    # by the billing role (and admins) while the client has an episode open or
    # discharged within IOP_BILLING_REACH_DAYS (timely filing and accounts receivable);
    # no care-team grant gives it, and it gives nothing else.
    BILLING = "billing"

    ALL = (CHART, CLINICAL, EDIT, MANAGE, ATTENDANCE, REVIEW, SUPERVISION, BILLING)

    # Writing clinical content (plans, medications, measures, screens, clinical intake)
    # needs both: the care team. A supervisor reads (CLINICAL) and never writes.
    CLINICAL_WRITE = (EDIT, CLINICAL)


# The grant codenames behind each purpose. Care-team roles map to codenames in
# clients.models.ROLE_PERMISSIONS; a purpose with no codename is for admins only.
PURPOSE_CODENAMES = {
    Purpose.CHART: ("view_client", "intake_client"),
    Purpose.CLINICAL: ("view_client",),
    Purpose.EDIT: ("change_client", "intake_client"),
    Purpose.MANAGE: ("intake_client",),
    Purpose.ATTENDANCE: ("attend_client", "view_client"),
    Purpose.REVIEW: (),
    # No grant gives it: only a supervisee's note in its window (``Supervision``).
    Purpose.SUPERVISION: (),
    # No grant gives it: the billing role, through the client's episodes (``_billing``).
    Purpose.BILLING: (),
}
# A supervisor reads through a supervisee's chart permission; never edits through it,
# and a supervisee's attendance or intake grant is no reason for the supervisor.
SUPERVISOR_CODENAME = "view_client"
SUPERVISOR_PURPOSES = frozenset({Purpose.CHART, Purpose.CLINICAL})
# Break the glass opens the chart and its clinical content for a short time.
EMERGENCY_PURPOSES = frozenset({Purpose.CHART, Purpose.CLINICAL})
CODENAMES = ("view_client", "change_client", "intake_client", "attend_client")

REASON_ADMIN = "admin"
REASON_CARE_TEAM = "care team"
REASON_SUPERVISOR = "supervisor"
REASON_EMERGENCY = "emergency"
REASON_BILLING = "billing"
REASON_NONE = "none"


@cache
def permission_id_map() -> dict[str, int]:
    # Permission rows change only on migrate (and a test flush), which clears this
    # cache through the post_migrate receiver in ClientsConfig.ready.
    return dict(
        Permission.objects.filter(
            content_type__app_label="clients", content_type__model="client"
        ).values_list("codename", "id")
    )


def permission_ids(codenames) -> tuple[int, ...]:
    ids = permission_id_map()
    return tuple(ids[codename] for codename in codenames if codename in ids)


# --- The grants: one subquery per source ----------------------------------------------


def _grant_sources(user) -> dict[str, tuple[object, str]]:
    """Every source of a reason for ``user``: key -> (queryset, client column).

    Each is a subquery on an indexed column: the list scope uses them as
    ``pk IN (...)``, the page check as ``EXISTS (...)`` in the query that loads the
    client. An OR across a join to the user table would defeat the
    (user, permission, client) index and scan every permission row.
    """
    ids = permission_id_map()
    own = ClientUserObjectPermission.objects.filter(user_id=user.pk)
    sources = {
        f"own:{codename}": (own.filter(permission_id=ids.get(codename)), "content_object_id")
        for codename in CODENAMES
    }
    sources["supervisor"] = (
        ClientUserObjectPermission.objects.filter(
            user_id__in=get_user_model()
            .objects.filter(clinical_supervisor_id=user.pk)
            .values("pk"),
            permission_id=ids.get(SUPERVISOR_CODENAME),
        ),
        "content_object_id",
    )
    sources["emergency"] = (EmergencyAccess.objects.active().filter(staff_id=user.pk), "client_id")
    sources["billing"] = (
        _billing_episodes() if user.has_role(Role.BILLING) else Episode.objects.none(),
        "client_id",
    )
    for kind in _supervised_kinds():
        sources[_supervision_key(kind)] = (
            kind.queryset().filter(
                kind.supervision.condition(),
                RELATIONS[SUPERVISOR].condition(user, kind.relations[SUPERVISOR]),
            ),
            kind.supervision.clients,
        )
    return sources


def billing_reach_since(today=None):
    """The earliest discharge that still gives billing a reason: claims are filed and
    paid (and denials appealed) for months after a discharge."""
    days = int(getattr(settings, "IOP_BILLING_REACH_DAYS", 365))
    return (today or timezone.localdate()) - timedelta(days=days)


def _billing_episodes():
    """The episodes that give the billing role its reason on their client: open, or
    discharged within IOP_BILLING_REACH_DAYS."""
    return Episode.objects.filter(
        Q(discharged_on__isnull=True) | Q(discharged_on__gte=billing_reach_since())
    )


def _supervised_kinds() -> list["OwnedKind"]:
    """The kinds whose objects a supervisor reads for Purpose.SUPERVISION."""
    return [kind for kind in OWNED.values() if kind.supervision is not None]


def _supervision_key(kind: "OwnedKind") -> str:
    # A source key becomes a column alias (``_with_grants``): letters and underscores.
    return "supervision:" + kind.label.replace(".", "_")


def _purpose_sources(purpose: str) -> list[tuple[str, str]]:
    """(source key, reason) that give a reason for ``purpose``, strongest first."""
    sources = [(f"own:{c}", REASON_CARE_TEAM) for c in PURPOSE_CODENAMES[purpose]]
    if purpose in SUPERVISOR_PURPOSES:
        sources.append(("supervisor", REASON_SUPERVISOR))
    if purpose in EMERGENCY_PURPOSES:
        sources.append(("emergency", REASON_EMERGENCY))
    if purpose == Purpose.SUPERVISION:
        sources += [(_supervision_key(k), REASON_SUPERVISOR) for k in _supervised_kinds()]
    if purpose == Purpose.BILLING:
        sources.append(("billing", REASON_BILLING))
    return sources


def _has_reason(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


# The scopes built during the current request, by (user, purpose): a page that lists
# several things (the dashboard asks six times) builds each scope once. What is kept
# is the unevaluated queryset, and each caller gets a fresh clone of it, so every use
# runs its SQL against the grants as they are then; only the clock an emergency
# access is compared with is the request's start. Outside a request (tasks, commands,
# the shell) nothing is kept.
_request_scopes: ContextVar[dict | None] = ContextVar("iop_request_scopes", default=None)


class RequestScopeMiddleware:
    """Gives each request its own, empty store of built scopes (see ``clients_for``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_scopes.set({})
        try:
            return self.get_response(request)
        finally:
            _request_scopes.reset(token)


def clients_for(user, purpose: str = Purpose.CHART):
    """The clients ``user`` has a reason to reach for ``purpose``: the one list scope.

    Lists, searches, form choices, calendars and reports ask for CHART (or the
    purpose of the page they link to), so that nothing lists a client whose page
    would answer 404.
    """
    if not _has_reason(user):
        return Client.objects.none()
    if user.is_program_admin:
        return Client.objects.all()
    built = _request_scopes.get()
    key = (user.pk, purpose)
    if built is not None and key in built:
        return built[key].all()
    sources = _grant_sources(user)
    # A tuple of purposes (Purpose.CLINICAL_WRITE) needs a reason for each of them.
    scope = Client.objects.all()
    for one in purpose if isinstance(purpose, tuple) else (purpose,):
        condition = Q(pk__in=[])
        for source, _reason in _purpose_sources(one):
            queryset, column = sources[source]
            condition |= Q(pk__in=queryset.values(column))
        scope = scope.filter(condition)
    if built is not None:
        built[key] = scope
    return scope.all()


def holds_purpose(user, purpose: str, client_column: str = "pk") -> Q | None:
    """The rows (clients, or objects whose client is ``client_column``) whose client
    ``user`` holds ``purpose`` on, as a condition inside the query that reads them: for
    a column a page shows only to some purpose (the group note's last plan of any kind,
    to CLINICAL), decided per row by the database. ``None`` when every row qualifies
    (an admin). The same sources as ``clients_for``, asked as ``EXISTS`` per row."""
    if not _has_reason(user):
        return Q(pk__in=[])
    if user.is_program_admin:
        return None
    sources = _grant_sources(user)
    condition = Q(pk__in=[])
    for source, _reason in _purpose_sources(purpose):
        queryset, column = sources[source]
        condition |= Q(Exists(queryset.filter(**{column: OuterRef(client_column)})))
    return condition


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str  # "admin", "care team", "supervisor", "emergency", "none"


@dataclass(frozen=True)
class ClientAccess:
    """Every purpose a person holds on one client (or on one object owned by no single
    client), with the reason for each; and, for an object loaded through ``owned_view``,
    the object and the person, so that ``can(action)`` answers for it."""

    reasons: dict = field(default_factory=dict)  # purpose -> reason
    user: object = None
    obj: object = None
    kind: "OwnedKind | None" = None

    @property
    def purposes(self) -> frozenset:
        return frozenset(self.reasons)

    def allows(self, purpose) -> bool:
        """One purpose, or a tuple that must all be held (Purpose.CLINICAL_WRITE)."""
        purposes = purpose if isinstance(purpose, tuple) else (purpose,)
        return all(p in self.reasons for p in purposes)

    def decision(self, purpose: str) -> AccessDecision:
        reason = self.reasons.get(purpose)
        return AccessDecision(reason is not None, reason or REASON_NONE)

    def about(self, label: str, obj) -> "ClientAccess":
        """The same person's access to ``obj``, an object of kind ``label`` that belongs
        to the client or object this access is about (the note of a session or of an
        appointment): the purposes carry over, the relations are the new object's."""
        return replace(self, obj=obj, kind=OWNED[label])

    @property
    def can(self) -> "_Can":
        """``access.can(Action.SIGN)`` in a view, ``{% if access.can.sign %}`` in a template."""
        return _Can(self)

    def _can(self, action: str) -> bool:
        if action not in ACTIONS:
            raise UnknownAction(action)
        rule = ACTIONS[action]
        if not self.allows(rule.purposes_for(self.kind)):
            return False
        if not rule.relations:
            return True
        if self.obj is None or self.kind is None or self.user is None:
            return False
        return any(
            name in self.kind.relations
            and RELATIONS[name].holds(self.user, self.obj, self.kind.relations[name])
            for name in rule.relations
        )


class _Can:
    """``can`` both called (views) and subscripted (templates); never called by them."""

    do_not_call_in_templates = True

    def __init__(self, access):
        self._access = access

    def __call__(self, action: str) -> bool:
        return self._access._can(action)

    def __getitem__(self, action: str) -> bool:
        if action not in ACTIONS:
            # Not a KeyError, which a template would swallow as "false": a misspelt
            # action fails the page (and its test) instead of hiding a button for good.
            raise UnknownAction(action)
        return self._access._can(action)


class UnknownAction(LookupError):
    pass


NO_ACCESS = ClientAccess()


def _with_grants(queryset, user, client_column: str = "pk"):
    """Annotate each row (a client, or an object whose client is ``client_column``) with
    one boolean per grant source, in the query that loads the rows."""
    if not _has_reason(user) or user.is_program_admin:
        return queryset
    return queryset.annotate(
        **{
            f"_grant_{key.replace(':', '_')}": Exists(
                qs.filter(**{column: OuterRef(client_column)})
            )
            for key, (qs, column) in _grant_sources(user).items()
        }
    )


def _access_from_row(user, client) -> ClientAccess:
    if client is None or not _has_reason(user):
        return NO_ACCESS
    if user.is_program_admin:
        return ClientAccess(dict.fromkeys(Purpose.ALL, REASON_ADMIN), user)
    reasons = {}
    for purpose in Purpose.ALL:
        for key, reason in _purpose_sources(purpose):
            if getattr(client, f"_grant_{key.replace(':', '_')}", False):
                reasons[purpose] = reason
                break
    return ClientAccess(reasons, user)


def load_client(user, client_id) -> tuple[Client | None, ClientAccess]:
    """The client with this public id and everything ``user`` may do with it (one query)."""
    try:
        client = _with_grants(Client.objects.filter(public_id=client_id), user).first()
    except (ValueError, TypeError):  # not a UUID
        client = None
    return client, _access_from_row(user, client)


def access_for(user, client: Client) -> ClientAccess:
    if not _has_reason(user) or user.is_program_admin:
        return _access_from_row(user, client)
    row = _with_grants(Client.objects.filter(pk=client.pk), user).first()
    return _access_from_row(user, row)


def staff_for(clients, purpose=Purpose.CHART) -> QuerySet:
    """The active staff who hold ``purpose`` (a tuple: all of them) on ``clients`` (one
    client, or any one of a queryset of clients): whom a form may offer for that client,
    such as the clinicians an appointment may be booked with (Purpose.CLINICAL_WRITE).
    The same sources as ``clients_for``, asked the other way round."""
    if isinstance(clients, Client):
        clients = Client.objects.filter(pk=clients.pk)
    ids = permission_id_map()
    staff = OuterRef(OuterRef("pk"))
    sources = {
        f"own:{codename}": ClientUserObjectPermission.objects.filter(
            user_id=staff, permission_id=ids.get(codename), content_object_id=OuterRef("pk")
        )
        for codename in CODENAMES
    }
    sources["supervisor"] = ClientUserObjectPermission.objects.filter(
        user__clinical_supervisor_id=staff,
        permission_id=ids.get(SUPERVISOR_CODENAME),
        content_object_id=OuterRef("pk"),
    )
    sources["emergency"] = EmergencyAccess.objects.active().filter(
        staff_id=staff, client_id=OuterRef("pk")
    )
    # The billing role, on a client with an episode in billing's reach.
    sources["billing"] = (
        get_user_model()
        .groups.through.objects.filter(user_id=staff, group__name=Role.BILLING)
        .filter(Exists(_billing_episodes().filter(client_id=OuterRef(OuterRef("pk")))))
    )
    for kind in _supervised_kinds():
        sources[_supervision_key(kind)] = kind.queryset().filter(
            kind.supervision.condition(),
            **{
                f"{kind.relations[SUPERVISOR]}__clinical_supervisor_id": staff,
                kind.supervision.clients: OuterRef("pk"),
            },
        )
    reached = clients
    for one in purpose if isinstance(purpose, tuple) else (purpose,):
        condition = Q(pk__in=[])
        for source, _reason in _purpose_sources(one):
            condition |= Q(Exists(sources[source]))
        reached = reached.filter(condition)
    return (
        get_user_model()
        .objects.filter(Q(Exists(reached)) | Q(groups__name=Role.ADMIN), is_active=True)
        .distinct()
    )


def holders(client_ids, purpose=Purpose.CHART) -> dict[int, dict[int, str]]:
    """Client pk -> {staff id: reason} of the active staff who hold ``purpose`` (a tuple:
    all of them) on each of ``client_ids``, through the client: the care team's own
    grants, a supervisee's chart grant, an unexpired emergency access, a supervisee's
    co-signed object in its supervision window. The same sources
    and purposes as ``clients_for``, asked for many clients at once and the other way
    round (one query), so that whoever decides whom a task goes to (the staff task
    sources) asks this module, and the task closes itself when the reason ends.

    The admin role is no reason held through a client: admins are not listed. For a
    tuple of purposes, the reason given is the first purpose's."""
    client_ids = list(client_ids)
    if not client_ids:
        return {}
    ids = permission_id_map()
    by_permission = {ids[c]: f"own:{c}" for c in CODENAMES if c in ids}
    own = (
        ClientUserObjectPermission.objects.filter(
            content_object_id__in=client_ids,
            permission_id__in=list(by_permission),
            user__is_active=True,
        )
        .order_by()
        .values_list("content_object_id", "user_id", "permission_id")
    )
    # The supervisor's reason: a supervisee (active or not: the grant is what counts,
    # as in ``clients_for``) holding the chart grant.
    supervised = (
        ClientUserObjectPermission.objects.filter(
            content_object_id__in=client_ids,
            permission_id=ids.get(SUPERVISOR_CODENAME),
            user__clinical_supervisor__is_active=True,
        )
        .order_by()
        .values_list("content_object_id", "user__clinical_supervisor_id", Value(-1))
    )
    emergency = (
        EmergencyAccess.objects.active()
        .filter(client_id__in=client_ids, staff__is_active=True)
        .order_by()
        .values_list("client_id", "staff_id", Value(-2))
    )
    keys = {**by_permission, -1: "supervisor", -2: "emergency"}
    # Purpose.SUPERVISION: the supervisor of the author of a co-signed object, through
    # each client it holds content about, while the supervision window lasts.
    supervision = []
    for n, kind in enumerate(_supervised_kinds(), start=3):
        keys[-n] = _supervision_key(kind)
        supervision.append(
            kind.queryset()
            .filter(
                kind.supervision.condition(),
                **{
                    f"{kind.supervision.clients}__in": client_ids,
                    f"{kind.relations[SUPERVISOR]}__clinical_supervisor__is_active": True,
                },
            )
            .order_by()
            .values_list(
                kind.supervision.clients,
                f"{kind.relations[SUPERVISOR]}__clinical_supervisor_id",
                Value(-n),
            )
        )
    held: dict[tuple[int, int], set[str]] = {}
    for client_id, staff_id, source in own.union(supervised, emergency, *supervision, all=True):
        held.setdefault((client_id, staff_id), set()).add(keys[source])
    purposes = purpose if isinstance(purpose, tuple) else (purpose,)
    if Purpose.BILLING in purposes:
        # The billing role's reason is the client's episode, not a grant: every active
        # billing specialist, on each client with an episode in reach (two queries).
        billers = list(
            get_user_model()
            .objects.filter(groups__name=Role.BILLING, is_active=True)
            .values_list("pk", flat=True)
        )
        reached = (
            set(
                _billing_episodes()
                .filter(client_id__in=client_ids)
                .values_list("client_id", flat=True)
            )
            if billers
            else set()
        )
        for client_id in reached:
            for staff_id in billers:
                held.setdefault((client_id, staff_id), set()).add("billing")
    answer: dict[int, dict[int, str]] = {}
    for (client_id, staff_id), sources in held.items():
        reasons = []
        for one in purposes:
            reason = next((r for key, r in _purpose_sources(one) if key in sources), None)
            if reason is None:
                break
            reasons.append(reason)
        else:
            answer.setdefault(client_id, {})[staff_id] = reasons[0]
    return answer


def client_access(user, client: Client, purpose: str) -> AccessDecision:
    """Whether ``user`` has a reason to reach ``client`` for ``purpose``. No side effects."""
    return access_for(user, client).decision(purpose)


def purposes_for(user, client: Client) -> frozenset:
    return access_for(user, client).purposes


# --- Pages about one client ---------------------------------------------------------


def _audit_access(request, *, purpose, decision, client, client_id, object_type, object_id):
    # Reading is not writing: this row records that a page was reached for a
    # purpose; a save writes its own row with the write's action
    # (docs/architecture.md, The audit trail).
    audit_record(
        action=f"access.{purpose}",
        audit=audit_context(request),
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        object_type=object_type,
        object_id=str(object_id)[:64],
        client=client.public_id if client is not None else None,
        detail=f"page={page_name(request)}; via={decision.reason}",
    )


def _decide(access: ClientAccess, purpose) -> AccessDecision:
    """One purpose, or a tuple of purposes that must all be held (EDIT and CLINICAL)."""
    purposes = purpose if isinstance(purpose, tuple) else (purpose,)
    decisions = [access.decision(p) for p in purposes]
    return next((d for d in decisions if not d.allowed), decisions[-1])


def _purpose_name(purpose) -> str:
    return "+".join(purpose) if isinstance(purpose, tuple) else purpose


def get_client_for_user(request, client_id, *, purpose) -> Client:
    """Load, check, audit; raise Http404 when there is no reason (or no client)."""
    client, access = load_client(request.user, client_id)
    decision = _decide(access, purpose)
    _audit_access(
        request,
        purpose=_purpose_name(purpose),
        decision=decision,
        client=client,
        client_id=client_id,
        object_type="clients.client",
        object_id=client_id,
    )
    if not decision.allowed:
        raise Http404("No client here.")
    request.client_access = access
    return client


def client_view(purpose):
    """Decorator for a view taking ``client_id``; the view receives ``client`` instead."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, client_id, *args, **kwargs):
            client = get_client_for_user(request, client_id, purpose=purpose)
            return view(request, client, *args, **kwargs)

        wrapper.access_checked = purpose  # the URL walk checks every UUID route has this
        return wrapper

    return decorator


# --- Objects that belong to a client -----------------------------------------------
#
# An object either belongs to one client (an appointment, a note about an
# appointment, a plan, a medication, a screen): the client's purposes decide, as on
# the client's own pages. Or it belongs to no single client (a group session, a group
# note): a relation between the person and the object decides, by a reach rule below.
# Each relation and each rule is stated once here, both ways: a check on one loaded
# object (the page) and a filter for a list (``scope``), so a list never shows a row
# whose page answers 404. The kinds say only where the staff member or the group is
# found on their objects (``OwnedKind.relations``), never who counts.

AUTHOR = "author"  # the staff member who wrote it
SUPERVISOR = "supervisor"  # the clinical supervisor of that staff member (co-signs)
FACILITATOR = "facilitator"  # a facilitator of its group
CLINICIAN = "clinician"  # the clinician it is booked with


def _follow(obj, path: str):
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _staff_id(obj, path: str):
    """The id of the staff member at ``path`` without loading them when it is a column."""
    *head, last = path.split("__")
    owner = _follow(obj, "__".join(head)) if head else obj
    return getattr(owner, f"{last}_id", None) if owner is not None else None


@dataclass(frozen=True)
class Relation:
    """How a staff member stands to an object. ``path`` leads from the object to the
    staff member (AUTHOR, SUPERVISOR, CLINICIAN) or to the group (FACILITATOR)."""

    name: str
    holds: Callable  # (user, obj, path) -> bool, on a loaded object
    condition: Callable  # (user, path) -> Q, for a list


RELATIONS = {
    AUTHOR: Relation(
        AUTHOR,
        lambda user, obj, path: _staff_id(obj, path) == user.pk,
        lambda user, path: Q(**{f"{path}_id": user.pk}),
    ),
    SUPERVISOR: Relation(
        SUPERVISOR,
        lambda user, obj, path: (
            getattr(_follow(obj, path), "clinical_supervisor_id", None) == user.pk
        ),
        lambda user, path: Q(**{f"{path}__clinical_supervisor_id": user.pk}),
    ),
    # Uses prefetched facilitators when there are some (the program day's sessions).
    FACILITATOR: Relation(
        FACILITATOR,
        lambda user, obj, path: any(f.pk == user.pk for f in _follow(obj, path).facilitators.all()),
        lambda user, path: Q(**{f"{path}__facilitators": user.pk}),
    ),
    CLINICIAN: Relation(
        CLINICIAN,
        lambda user, obj, path: _staff_id(obj, path) == user.pk,
        lambda user, path: Q(**{f"{path}_id": user.pk}),
    ),
}


@dataclass(frozen=True)
class Reach:
    """A person in ``relation`` to an object reaches it for ``purposes``; with
    ``supervised``, only while the object is in its kind's supervision window
    (``OwnedKind.supervision``)."""

    relation: str
    purposes: frozenset
    supervised: bool = False


@dataclass(frozen=True)
class ReachRule:
    """Who reaches an object owned by no single client: a person in one of the
    relations of ``reaches`` to it, for that relation's purposes; an admin for every
    purpose of the rule."""

    reaches: tuple[Reach, ...]

    @property
    def relations(self) -> tuple[str, ...]:
        return tuple(reach.relation for reach in self.reaches)

    @property
    def purposes(self) -> frozenset:
        return frozenset().union(*(reach.purposes for reach in self.reaches))


@dataclass(frozen=True)
class Supervision:
    """How long a clinical supervisor reads what a supervisee wrote (Purpose.SUPERVISION):
    while its co-signature is outstanding (waiting, or returned for an addendum) and for
    ``IOP_SUPERVISION_READ_DAYS`` after it was recorded; never a note that needs no
    co-signature, nor a draft. Registered on a kind by the app whose objects are
    co-signed, which names its own columns (this module knows no notes): ``clients``
    leads from the object to each client whose content it holds (a group note's
    sections), so the same window gives the supervisor SUPERVISION on those clients.
    Stated once, as a filter (``condition``) and as a check on a loaded object
    (``holds``)."""

    clients: str
    status: str
    outstanding: tuple[str, ...]
    recorded: str
    recorded_at: str

    @staticmethod
    def since(now=None):
        days = int(getattr(settings, "IOP_SUPERVISION_READ_DAYS", 30))
        return (now or timezone.now()) - timedelta(days=days)

    def condition(self, now=None) -> Q:
        return Q(**{f"{self.status}__in": self.outstanding}) | Q(
            **{self.status: self.recorded, f"{self.recorded_at}__gt": self.since(now)}
        )

    def holds(self, obj, now=None) -> bool:
        status = getattr(obj, self.status)
        if status in self.outstanding:
            return True
        recorded_at = getattr(obj, self.recorded_at)
        return (
            status == self.recorded and recorded_at is not None and (recorded_at > self.since(now))
        )


# A group session: its sheet, note and plan are reached by a facilitator of its group,
# for attendance (and what the facilitator writes from the sheet).
REACH_FACILITATOR = ReachRule((Reach(FACILITATOR, frozenset({Purpose.ATTENDANCE})),))
# A group note, whole: its author for every purpose; the author's clinical supervisor,
# who co-signs it, for SUPERVISION only and only in its supervision window (the
# sections are other clients' than the supervisee's care team may serve: a group's
# facilitator need not be on them). A client's chart shows that client's own section
# only (clinical.selectors).
REACH_AUTHOR = ReachRule(
    (
        Reach(AUTHOR, frozenset(Purpose.ALL) - {Purpose.BILLING}),
        Reach(SUPERVISOR, frozenset({Purpose.SUPERVISION}), supervised=True),
    )
)


class Action:
    """What a page offers to do, named once. A view asks ``access.can(Action.SIGN)``,
    a template ``{% if access.can.sign %}``; neither works out who may."""

    EDIT = "edit"  # a client's record: demographics, contacts, consents, enrolment
    MANAGE = "manage"  # admission, discharge, the care team
    WRITE_CLINICAL = "write_clinical"  # plans, medications, measures, clinical intake
    RECORD_SCREEN = "record_screen"  # collect, breath test, no-show, refused, results
    TAKE_ATTENDANCE = "take_attendance"  # a session's sheet
    WRITE_NOTE = "write_note"  # start a session's or appointment's note
    EDIT_NOTE = "edit_note"  # change a note's draft
    SIGN = "sign"  # sign a note
    COSIGN = "cosign"  # co-sign a note, or return it
    ADDENDUM = "addendum"  # add an addendum to a signed note
    VOID = "void"  # void a random selection (admins)

    ALL = (
        EDIT,
        MANAGE,
        WRITE_CLINICAL,
        RECORD_SCREEN,
        TAKE_ATTENDANCE,
        WRITE_NOTE,
        EDIT_NOTE,
        SIGN,
        COSIGN,
        ADDENDUM,
        VOID,
    )


@dataclass(frozen=True)
class ActionRule:
    """The purposes needed (all of them), and when ``relations`` is not empty, one of
    those relations to the object too (an admin holds no relation: an admin reads a
    note but never signs another's)."""

    purposes: tuple = ()
    relations: tuple[str, ...] = ()
    # Purposes needed too when the object belongs to one client (an appointment, its
    # note): writing a client's note is writing clinical content, so the care team's
    # EDIT and CLINICAL, never a supervisor's read. A group session's or group note's
    # own reach rule decides there.
    client_purposes: tuple = ()

    def purposes_for(self, kind: "OwnedKind | None") -> tuple:
        if kind is not None and kind.client_attr is not None:
            return tuple(self.purposes) + tuple(self.client_purposes)
        return tuple(self.purposes)


ACTIONS = {
    Action.EDIT: ActionRule((Purpose.EDIT,)),
    Action.MANAGE: ActionRule((Purpose.MANAGE,)),
    Action.WRITE_CLINICAL: ActionRule(Purpose.CLINICAL_WRITE),
    Action.RECORD_SCREEN: ActionRule(Purpose.CLINICAL_WRITE),
    Action.TAKE_ATTENDANCE: ActionRule((Purpose.ATTENDANCE,)),
    # The session's facilitator writes its group note, the appointment's clinician its note.
    # On an appointment (a client's object) the clinician must also hold CLINICAL_WRITE
    # on the client now, as for writing or signing the note itself.
    Action.WRITE_NOTE: ActionRule((), (FACILITATOR, CLINICIAN), Purpose.CLINICAL_WRITE),
    Action.EDIT_NOTE: ActionRule((), (AUTHOR,), Purpose.CLINICAL_WRITE),
    Action.SIGN: ActionRule((), (AUTHOR,), Purpose.CLINICAL_WRITE),
    Action.COSIGN: ActionRule((), (SUPERVISOR,)),
    # The author, or for a group note any facilitator of its session.
    Action.ADDENDUM: ActionRule((), (AUTHOR, FACILITATOR)),
    Action.VOID: ActionRule((Purpose.REVIEW,)),
}


@dataclass(frozen=True)
class OwnedKind:
    """How to load one kind of client-owned object and whose it is.

    ``client_attr`` names the owning client on the object. A kind owned by no single
    client gives ``client_attr=None`` and a ``reach`` rule of this module instead.
    ``relations`` says where each relation's staff member (or group) is found on the
    object, e.g. ``{AUTHOR: "author", SUPERVISOR: "author"}`` for a note.
    """

    label: str
    url_kwarg: str
    queryset: Callable  # () -> QuerySet, with what the page needs selected
    client_attr: str | None = "client"
    reach: ReachRule | None = None
    relations: dict = field(default_factory=dict)
    # When a supervisor reaches these objects and their clients for SUPERVISION.
    supervision: Supervision | None = None


OWNED: dict[str, OwnedKind] = {}


def register_owned(kind: OwnedKind) -> None:
    if kind.client_attr is None and kind.reach is None:
        raise ValueError(f"{kind.label}: a kind owned by no single client needs a reach rule.")
    unknown = set(kind.relations) - set(RELATIONS)
    if unknown:
        raise ValueError(f"{kind.label}: unknown relations {sorted(unknown)}.")
    supervised = kind.reach is not None and any(r.supervised for r in kind.reach.reaches)
    if supervised != (kind.supervision is not None):
        raise ValueError(f"{kind.label}: a supervised reach and a supervision window go together.")
    if kind.supervision is not None and SUPERVISOR not in kind.relations:
        raise ValueError(f"{kind.label}: a supervision window needs the supervisor relation.")
    OWNED[kind.label] = kind


def _reach_reasons(user, kind: OwnedKind, obj) -> dict:
    """Purpose -> reason on an object owned by no single client (its reach rule)."""
    rule = kind.reach
    if obj is None or not _has_reason(user):
        return {}
    if user.is_program_admin:
        return dict.fromkeys(rule.purposes, REASON_ADMIN)
    reasons = {}
    for reach in rule.reaches:
        path = kind.relations.get(reach.relation)
        if path is None or not RELATIONS[reach.relation].holds(user, obj, path):
            continue
        if reach.supervised and not kind.supervision.holds(obj):
            continue
        for purpose in reach.purposes:
            reasons.setdefault(purpose, reach.relation)
    return reasons


def _reach_condition(user, kind: OwnedKind, purposes) -> Q:
    """The objects of ``kind`` (no single client's) ``user`` reaches for all of
    ``purposes``: ``_reach_reasons`` as a filter."""
    condition = Q(pk__in=[])
    for reach in kind.reach.reaches:
        path = kind.relations.get(reach.relation)
        if path is None or not set(purposes) <= reach.purposes:
            continue
        one = RELATIONS[reach.relation].condition(user, path)
        if reach.supervised:
            one &= kind.supervision.condition()
        condition |= one
    return condition


def _relation_condition(user, kind: OwnedKind, names) -> Q:
    condition = Q(pk__in=[])
    for name in names:
        path = kind.relations.get(name)
        if path is not None:
            condition |= RELATIONS[name].condition(user, path)
    return condition


def scope(user, label: str, purpose=Purpose.CHART, *, relation: str | None = None):
    """The objects of kind ``label`` that ``user`` may reach for ``purpose``: the list
    twin of ``owned_view(label, purpose)``, so a list shows only rows whose page opens.

    A client's object: those of the clients in ``clients_for(user, purpose)``. An object
    of no single client: those its reach rule lets the person reach. ``relation``
    narrows to the objects the person stands to in that way (the notes they wrote,
    the notes waiting for their co-signature), inside the scope, never instead of it.
    """
    kind = OWNED[label]
    objects = kind.queryset()
    if not _has_reason(user):
        return objects.none()
    if kind.client_attr is not None:
        objects = objects.filter(**{f"{kind.client_attr}__in": clients_for(user, purpose)})
    else:
        purposes = purpose if isinstance(purpose, tuple) else (purpose,)
        if not set(purposes) <= kind.reach.purposes:
            return objects.none()
        if not user.is_program_admin:
            objects = objects.filter(_reach_condition(user, kind, purposes))
    if relation is not None:
        objects = objects.filter(_relation_condition(user, kind, (relation,)))
    return objects


def staff_relation(user, label: str, relation: str) -> Q:
    """The objects of kind ``label`` that ``user`` stands to in ``relation``, whoever
    their client: a person's own time on a calendar (their appointments), which names
    a client only where ``with_access`` says the viewer may open them. Never a list of
    clients or their content: that is ``scope``."""
    return _relation_condition(user, OWNED[label], (relation,))


def access_to(user, label: str, obj) -> ClientAccess:
    """``user``'s access to ``obj``, of kind ``label``, loaded already: no query for an
    object of no single client (its relations are on it), one for a client's."""
    return with_access(user, label, [obj])[0].access


def may(user, label: str, obj, action: str) -> bool:
    """Whether ``user`` may do ``action`` on ``obj`` (of kind ``label``), for a service
    checking its actor: no query when the action needs only a relation (co-sign, or
    signing a group note); one for a client's object (the client's grants)."""
    if ACTIONS[action].purposes_for(OWNED[label]):
        return access_to(user, label, obj).can(action)
    return ClientAccess({}, user, obj, OWNED[label]).can(action)


def with_access(user, label: str, objects) -> list:
    """Each object of kind ``label`` with ``obj.access``, the person's ``ClientAccess``
    to it, so a list shows a row's buttons only when ``obj.access.can(...)`` (the
    screens of the day: a supervisor reads, never collects). Given a queryset, the
    grants come in its own query; given objects, one more query for all their clients."""
    kind = OWNED[label]
    if kind.client_attr is None:
        objects = list(objects)
        for obj in objects:
            obj.access = ClientAccess(_reach_reasons(user, kind, obj), user, obj, kind)
        return objects
    if isinstance(objects, QuerySet):
        objects = list(_with_grants(objects, user, f"{kind.client_attr}_id"))
        for obj in objects:
            obj.access = replace(_access_from_row(user, obj), obj=obj, kind=kind)
        return objects
    objects = list(objects)
    ids = {getattr(obj, f"{kind.client_attr}_id") for obj in objects}
    rows = {c.pk: c for c in _with_grants(Client.objects.filter(pk__in=ids), user)} if ids else {}
    for obj in objects:
        client = rows.get(getattr(obj, f"{kind.client_attr}_id"))
        obj.access = replace(_access_from_row(user, client), user=user, obj=obj, kind=kind)
    return objects


def get_owned_for_user(
    request,
    label: str,
    public_id,
    *,
    purpose: str,
    client_id=None,
    client_purpose=None,
    per_client: bool = False,
):
    """Load a client-owned object by public id, check, audit once; 404 when denied.

    With ``client_id`` (a page about one client on a shared object: a client's row on
    a session's sheet) the client is checked for ``client_purpose`` too, in the same
    audit row. With ``per_client`` an allowed access is not written yet: the page
    says which clients it shows (``access_shown``). Returns ``(obj, client)``.
    """
    kind = OWNED[label]
    user = request.user
    try:
        obj = kind.queryset().filter(public_id=public_id).first()
    except (ValueError, TypeError):
        obj = None
    client, access = None, NO_ACCESS
    if kind.client_attr is not None:
        owner_id = getattr(obj, f"{kind.client_attr}_id", None) if obj is not None else None
        if owner_id is not None:
            client = _with_grants(Client.objects.filter(pk=owner_id), user).first()
            access = _access_from_row(user, client)
    else:
        access = ClientAccess(_reach_reasons(user, kind, obj), user)
    decision = _decide(access, purpose)
    if client_id is not None:
        client, access = load_client(user, client_id)
        client_decision = _decide(access, client_purpose or purpose)
        if decision.allowed and not client_decision.allowed:
            decision = client_decision
    row = {
        "purpose": _purpose_name(purpose),
        "decision": decision,
        "object_type": label,
        "object_id": public_id,
    }
    deferred = per_client and decision.allowed and client_id is None
    if not deferred:
        _audit_access(request, client=client, client_id=client_id, **row)
    if not decision.allowed:
        raise Http404("Nothing here.")
    request._access_shown = _ShownAccess(row, written=not deferred)
    request.client_access = replace(access, user=user, obj=obj, kind=kind)
    return obj, client


@dataclass
class _ShownAccess:
    """An allowed access to an object of no single client, waiting for the page to say
    which clients it shows (``access_shown``)."""

    row: dict
    written: bool = False


def access_shown(request, clients) -> None:
    """The clients whose content this page shows: one access row per client, so each
    client's trail names who read their part of a shared page (a session's sheet, a
    group note with everyone's section), instead of one row naming no client. One
    INSERT for all of them. In a view wrapped in ``owned_view(..., per_client=True)``
    these rows replace the one row without a client (which a page showing no client
    keeps); in another ``owned_view`` (one client's row on a session, whose error
    page shows the whole sheet) they follow its row."""
    pending = getattr(request, "_access_shown", None)
    if pending is None:
        raise RuntimeError("access_shown needs a view wrapped in owned_view")
    public_ids = [client.public_id for client in clients]
    if not public_ids:
        return
    row = pending.row
    audit_record_per_client(
        clients=public_ids,
        action=f"access.{row['purpose']}",
        audit=audit_context(request),
        outcome=Outcome.ALLOWED,
        object_type=row["object_type"],
        object_id=str(row["object_id"])[:64],
        detail=f"page={page_name(request)}; via={row['decision'].reason}",
    )
    pending.written = True


def _access_shown_fallback(request) -> None:
    """After the view: the one row without a client when it showed none (a redirect
    after a save, an empty roster), so no allowed access goes unwritten."""
    pending = request.__dict__.pop("_access_shown", None)
    if pending is not None and not pending.written:
        _audit_access(request, client=None, client_id=None, **pending.row)


def owned_view(
    label: str, *, purpose: str, client_purpose: str | None = None, per_client: bool = False
):
    """Decorator for a view taking the kind's public id (and optionally ``client_id``).

    The view receives the object (and the client when the route has ``client_id``)
    instead of the ids. With ``per_client`` (an object of no single client whose page
    shows several clients) the view calls ``access_shown(request, clients)``: one
    access row per client shown, or, when it shows none, the one row after the view.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            kind = OWNED[label]
            public_id = kwargs.pop(kind.url_kwarg)
            client_id = kwargs.pop("client_id", None)
            obj, client = get_owned_for_user(
                request,
                label,
                public_id,
                purpose=purpose,
                client_id=client_id,
                client_purpose=client_purpose,
                per_client=per_client,
            )
            if client_id is not None:
                return view(request, obj, client, *args, **kwargs)
            try:
                return view(request, obj, *args, **kwargs)
            finally:
                _access_shown_fallback(request)

        wrapper.access_checked = purpose
        return wrapper

    return decorator

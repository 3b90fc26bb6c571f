"""The landing page: one section per role the person holds.

Apps register sections (from their registrations.py, called by AppConfig.ready) as
functions that take the request and return a context dict, or None to hide
themselves; this module imports no app (docs/architecture.md, The registries). Each
section's context asks clients.access for what it lists, and says which clients it
shows (``clients``) and whether it shows clinical content about them (``clinical``),
for the page's one read-audit append (``iop.audit.services.audit_shown``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from iop.accounts.models import Role


@dataclass(frozen=True)
class DashboardSection:
    key: str
    title: str
    roles: tuple[str, ...]
    template: str
    context: Callable | None = None
    # clients(context) -> the clients the section shows (objects with a public_id).
    clients: Callable | None = None
    # True when it shows clinical content about them (a safety flag, a screen's
    # result): each then gets an access row of their own, not only the page's count.
    clinical: bool = False


SECTIONS: list[DashboardSection] = [
    DashboardSection("admin", "Program administration", (Role.ADMIN,), "dashboard/admin.html"),
]


def register(section: DashboardSection) -> None:
    if all(existing.key != section.key for existing in SECTIONS):
        SECTIONS.append(section)


@dataclass
class Dashboard:
    sections: list[dict]
    listed: list  # clients shown by name, MRN and times only
    clinical: list  # clients shown with clinical content


def dashboard_sections(request) -> Dashboard:
    shown, listed, clinical = [], [], []
    for section in SECTIONS:
        if not request.user.has_role(*section.roles):
            continue
        context = section.context(request) if section.context else {}
        if context is None:
            continue
        if section.clients is not None:
            (clinical if section.clinical else listed).extend(section.clients(context))
        shown.append(
            {"key": section.key, "title": section.title, "template": section.template, **context}
        )
    return Dashboard(shown, listed, clinical)

"""The landing page: one section per role the person holds.

Apps register sections (from their registrations.py, called by AppConfig.ready) as
functions that take the request and return a context dict, or None to hide
themselves; this module imports no app (docs/architecture.md, The registries). Each
section's context asks clients.access for what it lists.
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


SECTIONS: list[DashboardSection] = [
    DashboardSection("admin", "Program administration", (Role.ADMIN,), "dashboard/admin.html"),
]


def register(section: DashboardSection) -> None:
    if all(existing.key != section.key for existing in SECTIONS):
        SECTIONS.append(section)


def dashboard_sections(request) -> list[dict]:
    shown = []
    for section in SECTIONS:
        if not request.user.has_role(*section.roles):
            continue
        context = section.context(request) if section.context else {}
        if context is None:
            continue
        shown.append(
            {"key": section.key, "title": section.title, "template": section.template, **context}
        )
    return shown

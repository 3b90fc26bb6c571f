"""Sections later apps add to the client chart (schedule, attendance, notes, screens).

Each section names the access purpose it needs; the chart shows it only when the
viewer holds that purpose, so a facilitator's or an intake coordinator's narrower
reason never shows clinical content.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChartSection:
    key: str
    title: str
    purpose: str
    template: str
    context: Callable  # (request, client) -> dict


SECTIONS: list[ChartSection] = []


def register(section: ChartSection) -> None:
    if all(existing.key != section.key for existing in SECTIONS):
        SECTIONS.append(section)


def extra_sections(request, client, purposes: set[str]) -> list[dict]:
    return [
        {"key": s.key, "title": s.title, "template": s.template, **s.context(request, client)}
        for s in SECTIONS
        if s.purpose in purposes
    ]

"""Sections later apps add to the client chart (schedule, attendance, notes, screens),
and links to their pages about the client among the chart's actions (``LINKS``).

Each section names the access purpose it needs; the chart shows it only when the
viewer holds that purpose, so a facilitator's or an intake coordinator's narrower
reason never shows clinical content.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


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


@dataclass(frozen=True)
class ChartLink:
    """A link among the chart's actions to a later app's page about the client (the
    portal access page). Costs the chart no query."""

    label: str
    url_name: str  # a route taking the client's public id
    purpose: str
    testid: str


LINKS: list[ChartLink] = []


def register_link(link: ChartLink) -> None:
    if all(existing.url_name != link.url_name for existing in LINKS):
        LINKS.append(link)


def extra_links(client, purposes: set[str]) -> list[dict]:
    return [
        {
            "label": link.label,
            "url": reverse(link.url_name, args=[client.public_id]),
            "testid": link.testid,
        }
        for link in LINKS
        if link.purpose in purposes
    ]

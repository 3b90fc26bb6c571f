"""The portal's menu: a plain list, in order. Another portal module adds its page
with ``register(NavItem(...))`` from ``registrations.py`` (measures, consents,
letters); ``order`` places it."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 50


NAV: list[NavItem] = [
    NavItem("Home", "portal:home", 0),
    NavItem("My schedule", "portal:schedule", 10),
    NavItem("My plan", "portal:plan", 30),
    NavItem("My reminders", "portal:reminders", 70),
    NavItem("Who looked at my record", "portal:record_access", 80),
    NavItem("Sign-in security", "portal:authenticator", 90),
]


def register(item: NavItem) -> None:
    if all(existing.url_name != item.url_name for existing in NAV):
        NAV.append(item)
        NAV.sort(key=lambda i: i.order)


def menu(request) -> list[dict]:
    return [
        {
            "label": item.label,
            "url": (url := reverse(item.url_name)),
            "current": request.path == url,
        }
        for item in NAV
    ]

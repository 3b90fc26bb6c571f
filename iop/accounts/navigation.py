"""What each role may reach, in one table: the menu and the dashboard read it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from iop.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...]
    description: str = ""
    # Items of one group share a dropdown at the end of the menu bar, so that the bar
    # stays one line at 1366 px (issue 20); "" is the bar itself.
    group: str = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)


ALL = tuple(Role.values)
ADMIN_GROUP = "Admin"

NAV: list[NavItem] = [
    NavItem("Dashboard", "dashboard", ALL),
    NavItem(
        "Audit trail",
        "audit:list",
        (Role.ADMIN,),
        "Every access and change, filterable.",
        group=ADMIN_GROUP,
    ),
    NavItem(
        "Staff accounts",
        "admin:accounts_user_changelist",
        (Role.ADMIN,),
        "Accounts, roles.",
        group=ADMIN_GROUP,
    ),
    NavItem("Two-factor", "accounts:otp_setup", ALL, "Enrol or replace your authenticator."),
]


def register(item: NavItem, *, before: str | None = "Audit trail") -> None:
    """Apps add their pages here (from AppConfig.ready) so the menu stays one table."""
    # Registered once (ready() may run twice); one page may have an item per role set,
    # e.g. in the bar for one role and under the Admin dropdown for admins.
    if item in NAV:
        return
    index = next((i for i, e in enumerate(NAV) if e.label == before), len(NAV))
    NAV.insert(index, item)


def menu_for(user) -> list[NavItem]:
    items = []
    for item in NAV:
        if user.has_role(*item.roles):
            try:
                item.url  # noqa: B018  (skip pages whose app is not installed)
            except NoReverseMatch:
                continue
            items.append(item)
    return items


@dataclass(frozen=True)
class NavGroup:
    label: str
    children: tuple[NavItem, ...]


def menu_bar(user) -> list[NavItem | NavGroup]:
    """The menu as the bar shows it: the items without a group, then one dropdown per
    group (in the order its first item comes)."""
    bar: list = []
    groups: dict[str, list[NavItem]] = {}
    for item in menu_for(user):
        if item.group:
            groups.setdefault(item.group, []).append(item)
        else:
            bar.append(item)
    return bar + [NavGroup(label, tuple(items)) for label, items in groups.items()]

"""The reminder-consent rule lives with the client (clients.reminders): every source
of client messages, scheduling's reminders and screening's call-in, reads it there.
And no app imports another app's services for a constant."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

import scheduling.reminders
import screening.reminders
from clients import reminders
from clients.models import Client

APPS = ("clients", "scheduling", "screening", "clinical")


def _client(**fields) -> Client:
    values = {
        "reminder_consent": True,
        "reminder_channel": "sms",
        "phone": "+16175550134",
        "email": "ada@example.org",
        "reminder_may_name_program": False,
        **fields,
    }
    return Client(**values)


@pytest.mark.parametrize(
    ("fields", "route"),
    [
        ({}, ("sms", "+16175550134")),
        ({"reminder_channel": "email"}, ("email", "ada@example.org")),
        ({"reminder_consent": False}, None),
        ({"reminder_channel": "none"}, None),
        ({"phone": ""}, None),
        ({"reminder_channel": "email", "email": ""}, None),
    ],
)
def test_a_reminder_goes_only_with_consent_a_channel_and_an_address(fields, route):
    assert reminders.reminder_route(_client(**fields)) == route


def test_the_program_is_named_only_when_the_client_opted_in():
    assert reminders.reminder_wording(_client())["named"] is False
    wording = reminders.reminder_wording(_client(reminder_may_name_program=True))
    assert wording["named"] is True and wording["program"] == settings.IOP_PROGRAM_NAME


def test_scheduling_and_screening_read_the_one_rule():
    for module in (scheduling.reminders, screening.reminders):
        assert module.reminder_route is reminders.reminder_route
        assert module.reminder_wording is reminders.reminder_wording
    assert "def reminder_route" not in Path(scheduling.reminders.__file__).read_text()
    assert "scheduling.reminders" not in Path(screening.reminders.__file__).read_text()


def test_no_app_imports_another_apps_services_for_a_constant():
    root = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                owner = node.module.split(".")[0]
                if owner != app and owner in APPS and "services" in node.module:
                    found += [
                        f"{path.relative_to(root)}: {node.module}.{alias.name}"
                        for alias in node.names
                        if alias.name.isupper()
                    ]
    assert found == []

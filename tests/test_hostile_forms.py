"""Every form the app serves, fed what an attacker or a slip of the keyboard sends.

The forms are found by fetching each page as the person who uses it and reading its
``<form method="post">`` fields, so a new form cannot be forgotten. Each is posted with
10,000-character strings, NUL bytes and dates at both ends of the calendar: the answer
is a message or a redirect, never a 500.
"""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.clients.test_access_urls import POST_ONLY, ROUTES, _is_billing, _url
from tests.clients.test_access_urls import chart as chart  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

HOSTILE = {
    "long": lambda field: "x" * 10_000,
    "nul": lambda field: "\x00" * 8,
    "far future": lambda field: "9999-12-31" if field.kind == "date" else "9" * 40,
    "far past": lambda field: "0001-01-01" if field.kind == "date" else "-1",
}

_FORM = re.compile(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
_FIELD = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


class Field:
    def __init__(self, name, kind, value):
        self.name, self.kind, self.value = name, kind, value


def _forms(html: str) -> list[list[Field]]:
    forms = []
    for body in _FORM.findall(html):
        fields = []
        for tag, attrs in _FIELD.findall(body):
            attr = dict(_ATTR.findall(attrs))
            name = attr.get("name")
            if not name or name == "csrfmiddlewaretoken":
                continue
            kind = attr.get("type", tag.lower())
            fields.append(Field(name, kind, unescape(attr.get("value", ""))))
        if fields:
            forms.append(fields)
    return forms


def _payload(fields, make):
    data = {}
    for field in fields:
        if field.kind in ("hidden", "submit", "checkbox", "radio"):
            data.setdefault(field.name, field.value or "on")
        else:
            data[field.name] = make(field)
    return data


# Routes that answer a file, not a page with a form (a report's CSV, a letter's PDF).
FILES = {"reports:download", "letters:staff_letter_pdf"}
PAGES = [(name, kwargs) for name, kwargs, _ in ROUTES if name not in POST_ONLY | FILES]
BILLING_PAGES = {name for name, _, callback in ROUTES if _is_billing(callback)}
# Pages known to hold a form: the parser must find it, or the attack proves nothing.
FORM_PAGES = {
    "clients:edit",
    "clients:clinical_edit",
    "clients:consent_add",
    "clients:consent_prepare",
    "meds:measure_assign",
    "clients:disclosure_add",
    "clients:care_team",
    "clients:contact_add",
    "scheduling:attendance_sheet",
    "scheduling:makeup",
    "billing:coverage_add",
    "billing:coverage_edit",
    "billing:coverage_end",
    "billing:diagnosis_add",
    "billing:authorization_add",
    "billing:authorization_edit",
    "billing:intake_coverage",
    "portal_access:access",
}


@pytest.mark.parametrize(("name", "kwargs"), PAGES, ids=[p[0] for p in PAGES])
def test_every_client_form_answers_hostile_input_without_a_500(
    name, kwargs, chart, client_as, clinician, billing_user
):
    web = client_as(billing_user if name in BILLING_PAGES else clinician)
    url = _url(name, kwargs, chart)
    page = web.get(url)
    assert page.status_code == 200
    forms = _forms(page.content.decode())
    if name in FORM_PAGES:
        assert forms, f"{name}: no form found to attack"
    for fields in forms:
        for label, make in HOSTILE.items():
            response = web.post(url, _payload(fields, make))
            assert response.status_code < 500, (name, label)


@pytest.mark.parametrize(
    ("url_name", "role"),
    [
        ("clients:register", "intake"),
        ("clients:list", "clinician"),
        ("clients:emergency_access", "clinician"),
        ("scheduling:appointment_new", "clinician"),
        ("billing:payer_add", "admin"),
        ("billing:provider", "billing"),
    ],
)
def test_every_other_form_answers_hostile_input_without_a_500(url_name, role, client_as, request):
    user = request.getfixturevalue(
        {
            "intake": "intake_user",
            "clinician": "clinician",
            "admin": "admin_user",
            "billing": "billing_user",
        }[role]
    )
    web = client_as(user)
    url = reverse(url_name)
    page = web.get(url)
    assert page.status_code == 200
    forms = _forms(page.content.decode())
    assert forms, url_name
    for fields in forms:
        for label, make in HOSTILE.items():
            response = web.post(url, _payload(fields, make))
            assert response.status_code < 500, (url_name, label)

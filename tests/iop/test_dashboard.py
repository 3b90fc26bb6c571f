import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fixture", "sees_audit"),
    [
        ("admin_user", True),
        ("intake_user", False),
        ("clinician", False),
        ("supervisor", False),
        ("medical_user", False),
    ],
)
def test_every_role_lands_on_its_dashboard(request, client_as, fixture, sees_audit):
    user = request.getfixturevalue(fixture)
    response = client_as(user).get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    role = user.groups.get().name
    assert f'data-testid="roles">{role.capitalize()}' in html
    assert ('href="/audit/"' in html) is sees_audit


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp

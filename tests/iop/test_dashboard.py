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


def test_favicon_is_served_not_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content).startswith(b"\x00\x00\x01\x00")  # ICO header


def test_pages_link_the_favicon(client_as, clinician):
    html = client_as(clinician).get(reverse("dashboard")).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico"' in html


def test_roles_come_with_the_user_and_a_change_shows_on_the_next_request(
    clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    """The roles are read with the user row on each request (issue 13: one query less
    per request), never kept between requests: a role granted or taken away counts on
    the very next page."""
    from django.contrib.auth.models import Group

    web = client_as(clinician)
    html = web.get(reverse("dashboard")).content.decode()
    assert 'data-testid="roles">Clinician<' in html and 'href="/audit/"' not in html
    clinician.groups.add(Group.objects.get_or_create(name="admin")[0])
    html = web.get(reverse("dashboard")).content.decode()
    assert 'data-testid="roles">Admin · Clinician<' in html and 'href="/audit/"' in html
    clinician.groups.clear()
    # session, user with roles, OTP device, and the page's read audit
    with django_assert_max_num_queries(3 + read_audit_queries) as queries:
        html = web.get(reverse("dashboard")).content.decode()
    assert "No role assigned" in html and 'href="/audit/"' not in html
    assert not any(q["sql"].startswith('SELECT "auth_group"') for q in queries.captured_queries)

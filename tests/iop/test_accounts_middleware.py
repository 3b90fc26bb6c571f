"""No page a signed-in person saw may be kept by the browser (issue 7, finding 5)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/clients/", "/accounts/2fa/setup/"])
def test_signed_in_pages_are_not_stored(client_as, clinician, path):
    response = client_as(clinician).get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_admin_audit_page_is_not_stored(client_as, admin_user):
    response = client_as(admin_user).get(reverse("audit:list"))
    assert "no-store" in response["Cache-Control"]


def test_the_response_that_signs_out_is_not_stored(client_as, clinician):
    response = client_as(clinician).post(reverse("accounts:logout"))
    assert "no-store" in response["Cache-Control"]


def test_static_files_stay_cacheable(client_as, clinician):
    response = client_as(clinician).get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")

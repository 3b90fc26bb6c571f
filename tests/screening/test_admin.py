"""Admins edit cutoffs and policies in the admin site; a policy no draw can meet is
refused there too (the rule lives in rules.policy_problem, the model's clean asks it)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from screening.models import Analyte, TestingPolicy
from tests.screening.factories import ensure_screening_defaults

pytestmark = pytest.mark.django_db


def test_an_admin_edits_a_cutoff(admin_user, client_as):
    ensure_screening_defaults()
    thc = Analyte.objects.get(code="thc")
    web = client_as(admin_user)
    url = reverse("admin:screening_analyte_change", args=[thc.pk])
    assert web.get(url).status_code == 200
    response = web.post(
        url,
        {"name": thc.name, "initial_cutoff": "20", "confirm_cutoff": "15", "order": "0"},
    )
    assert response.status_code == 302
    thc.refresh_from_db()
    assert thc.initial_cutoff == Decimal("20.0") and thc.code == "thc"  # the code is fixed
    assert web.get(reverse("admin:screening_panel_changelist")).status_code == 200
    assert web.get(reverse("admin:screening_programpolicy_changelist")).status_code == 200


def test_an_impossible_testing_policy_is_refused(admin_user, client_as):
    ensure_screening_defaults()
    policy = TestingPolicy.objects.get(track__code="iop6")
    web = client_as(admin_user)
    url = reverse("admin:screening_testingpolicy_change", args=[policy.pk])
    response = web.post(
        url,
        {"track": policy.track_id, "tests_per_week": "3", "min_gap_days": "3", "active": "on"},
    )
    assert response.status_code == 200
    assert "cannot keep 3 days apart" in response.content.decode()
    policy.refresh_from_db()
    assert policy.tests_per_week == Decimal("2.00")
    policy.tests_per_week = Decimal("8")
    with pytest.raises(ValidationError):
        policy.full_clean()


def test_a_medical_user_cannot_reach_the_admin(medical_user, client_as):
    response = client_as(medical_user).get(reverse("admin:screening_analyte_changelist"))
    assert response.status_code in (302, 403)

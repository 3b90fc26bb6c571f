"""Staff administration: the clinical-supervisor rule and the section names."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iop.accounts.models import User

pytestmark = pytest.mark.django_db


def _change_form_data(user, **overrides):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
        "groups": [group.pk for group in user.groups.all()],
        "credential": user.credential,
        "clinical_supervisor": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("fixture", ["intake_user", "other_clinician", "medical_user"])
def test_a_clinical_supervisor_must_hold_the_supervisor_role(request, clinician, fixture):
    not_a_supervisor = request.getfixturevalue(fixture)
    clinician.clinical_supervisor = not_a_supervisor
    with pytest.raises(ValidationError, match="must hold the supervisor role"):
        clinician.full_clean()


def test_nobody_supervises_themselves(supervisor):
    supervisor.clinical_supervisor = supervisor
    with pytest.raises(ValidationError, match="cannot supervise themselves"):
        supervisor.full_clean()


def test_a_supervisor_may_be_named(clinician, supervisor):
    clinician.clinical_supervisor = supervisor
    clinician.full_clean()


def test_the_admin_refuses_intake_as_clinical_supervisor(
    client_as, admin_user, clinician, intake_user, supervisor
):
    url = reverse("admin:accounts_user_change", args=[clinician.pk])
    client = client_as(admin_user)
    refused = client.post(url, _change_form_data(clinician, clinical_supervisor=intake_user.pk))
    assert refused.status_code == 200  # the form again, with the error
    assert User.objects.get(pk=clinician.pk).clinical_supervisor == supervisor
    accepted = client.post(url, _change_form_data(clinician, clinical_supervisor=supervisor.pk))
    assert accepted.status_code == 302


def test_the_admin_offers_only_supervisors(client_as, admin_user, clinician, intake_user):
    url = reverse("admin:accounts_user_change", args=[clinician.pk])
    field = client_as(admin_user).get(url).context["adminform"].form.fields["clinical_supervisor"]
    assert list(field.queryset) == [clinician.clinical_supervisor]


def test_staff_roles_are_not_called_groups_in_the_admin(client_as, admin_user):
    html = client_as(admin_user).get(reverse("admin:index")).content.decode()
    assert "Staff roles" in html
    assert reverse("admin:accounts_staffrole_changelist") in html
    assert 'href="/admin/auth/group/"' not in html

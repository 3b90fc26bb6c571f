"""The NPI check digit (CMS, "NPI check digit": Luhn over the nine digits with the
card-issuer prefix 80840), with CMS's worked example."""

import pytest
from django.core.exceptions import ValidationError

from iop.accounts.npi import check_digit, is_valid, validate_npi
from tests.iop.factories import UserFactory


def test_cms_worked_example_123456789_gives_check_digit_3():
    # CMS: 123456789 -> doubled alternates 2,6,10,14,18 -> 2+6+1+0+1+4+1+8 = 23 (digits
    # of the products) + 20 (the unaffected 2,4,6,8) + 24 (the prefix) = 67 -> 70 - 67 = 3.
    assert check_digit("123456789") == 3
    assert is_valid("1234567893")


@pytest.mark.parametrize(
    "npi", ["1234567890", "1234567894", "123456789", "12345678931", "abcdefghij", ""]
)
def test_a_wrong_check_digit_or_shape_is_refused(npi):
    assert not is_valid(npi)
    with pytest.raises(ValidationError):
        validate_npi(npi)


def test_the_message_says_the_check_digit_is_wrong():
    with pytest.raises(ValidationError) as caught:
        validate_npi("1234567890")
    assert "check digit" in caught.value.messages[0]


@pytest.mark.django_db
def test_a_staff_account_with_a_wrong_npi_is_refused_by_its_form(admin_user, client_as):
    """The staff account form (the admin's) verifies the NPI: nothing saved, a message."""
    staff = UserFactory(username="rendering", roles=["clinician"])
    web = client_as(admin_user)
    url = f"/admin/accounts/user/{staff.pk}/change/"
    page = web.get(url)
    assert page.status_code == 200
    assert 'name="npi"' in page.content.decode()
    form = {
        "username": "rendering",
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "email": staff.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "npi": "1234567890",
        "taxonomy": "101YA0400X",
    }
    response = web.post(url, form)
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    staff.refresh_from_db()
    assert staff.npi == ""
    form["npi"] = "1234567893"
    response = web.post(url, form)
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.npi == "1234567893"

"""Argon2 for passwords; hashes made with PBKDF2 still verify and are upgraded."""

import pytest
from django.contrib.auth.hashers import make_password

import iop.settings as configured
from iop.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    # The root conftest swaps in MD5 for speed; these tests need the configured list.
    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS


def test_argon2_comes_first_and_pbkdf2_is_kept():
    assert configured.PASSWORD_HASHERS[0] == "iop.accounts.hashers.ClinicArgon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in configured.PASSWORD_HASHERS


def test_new_passwords_are_hashed_with_argon2id(real_hashers, clinician):
    clinician.set_password("a-new-long-passphrase")
    assert clinician.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_pbkdf2_hash_signs_in_and_is_upgraded(real_hashers, client, clinician, password):
    User.objects.filter(pk=clinician.pk).update(
        password=make_password(password, hasher="pbkdf2_sha256")
    )
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.password.startswith("argon2$argon2id$")
    assert clinician.check_password(password)

from django.contrib.auth.hashers import Argon2PasswordHasher


class ClinicArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane).

    Django's default (100 MiB, 8 lanes) costs about as much CPU per sign-in as the
    PBKDF2 it replaces on these few cores and 100 MiB per concurrent sign-in in each
    gunicorn worker; this setting keeps Argon2's memory-hardness against GPU guessing
    at a fraction of the cost. Hashes made with other parameters still verify (the
    parameters travel in the hash) and are re-hashed at the next sign-in.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

from django.contrib.auth.models import Group

from iop.accounts.models import Role, User

DEMO_PASSWORD = "demo"  # noqa: S105  (seed_demo refuses to run with debug off)

# username: (first, last, credential, roles, requires co-signature)
DEMO_STAFF = {
    "admin": ("Avery", "Admin", "", [Role.ADMIN], False),
    "intake": ("Ines", "Intake", "", [Role.INTAKE], False),
    "clinician": ("Casey", "Morgan", "LPC-Associate", [Role.CLINICIAN], True),
    "clinician2": ("Jordan", "Reyes", "LCSW", [Role.CLINICIAN], False),
    "supervisor": ("Sam", "Okafor", "LCSW-S", [Role.SUPERVISOR], False),
    "medical": ("Mira", "Patel", "MD", [Role.MEDICAL], False),
    "billing": ("Bea", "Lindqvist", "", [Role.BILLING], False),
}
# The rendering providers' NPIs (fake, with valid check digits: iop/accounts/npi.py).
DEMO_NPI = {
    "clinician": ("1234567893", "101YA0400X"),
    "clinician2": ("1245319599", "1041C0700X"),
    "medical": ("1679576722", "207RA0401X"),
}


def seed(*, stdout):
    # get_or_create as the roles' migrations do: a transactional test's flush empties them.
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in Role.values}
    staff = {}
    for username, (first, last, credential, roles, cosign) in DEMO_STAFF.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "credential": credential,
                "requires_cosign": cosign,
                "email": f"{username}@clinic.example",
                "is_staff": Role.ADMIN in roles,
                "is_superuser": Role.ADMIN in roles,
            },
        )
        if created:
            # Bypasses the 12-character validator on purpose: demo accounts only.
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*(groups[role] for role in roles))
        staff[username] = user
    for username, (npi, taxonomy) in DEMO_NPI.items():
        if not staff[username].npi:
            staff[username].npi, staff[username].taxonomy = npi, taxonomy
            staff[username].save(update_fields=["npi", "taxonomy"])
    if staff["clinician"].clinical_supervisor_id != staff["supervisor"].pk:
        staff["clinician"].clinical_supervisor = staff["supervisor"]
        staff["clinician"].save(update_fields=["clinical_supervisor"])
    stdout.write(f"Staff: {', '.join(DEMO_STAFF)}")

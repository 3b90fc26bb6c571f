from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property

from iop.accounts.npi import validate_npi


class Role(models.TextChoices):
    """Roles are auth groups of these names; a person may hold several."""

    INTAKE = "intake", "Intake coordinator"
    CLINICIAN = "clinician", "Clinician"
    SUPERVISOR = "supervisor", "Clinical supervisor"
    MEDICAL = "medical", "Medical staff"
    BILLING = "billing", "Billing specialist"
    ADMIN = "admin", "Program admin"


class User(AbstractUser):
    """A member of staff. Clients never log in."""

    credential = models.CharField(
        "licence / credential",
        max_length=80,
        blank=True,
        help_text="e.g. LCSW, LPC, CADC, MD, RN; used on signatures.",
    )
    requires_cosign = models.BooleanField(
        "requires co-signature",
        default=False,
        help_text="Pre-licensed: a supervisor co-signs this person's notes.",
    )
    clinical_supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervisees",
        help_text="The supervisor who sees this clinician's caseload and co-signs.",
    )
    # The rendering provider on claims (837P loop 2310B): billing reads these.
    npi = models.CharField(
        "NPI",
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text="National Provider Identifier, ten digits (check digit verified).",
    )
    taxonomy = models.CharField(
        "taxonomy code",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{3}[0-9A-Z]{6}X$", "A taxonomy code, e.g. 101YA0400X.")],
        help_text="Provider taxonomy (NUCC), e.g. 101YA0400X for an addiction counselor.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        name = self.get_full_name() or self.username
        return f"{name}, {self.credential}" if self.credential else name

    def clean(self):
        super().clean()
        check_clinical_supervisor(staff=self, supervisor=self.clinical_supervisor)

    @cached_property
    def roles(self) -> frozenset[str]:
        # One query per request; every navigation and access decision reads this.
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def role_names(self) -> list[str]:
        """The roles in a stable order, for display (from ``roles``: no query of its own)."""
        return sorted(self.roles)

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    @property
    def is_program_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


def check_clinical_supervisor(*, staff: User, supervisor: User | None) -> None:
    """The one rule for who may be named a clinical supervisor: an active member of
    staff holding the supervisor role, not the person themselves. The supervisor
    co-signs this person's notes and sees their caseload, so picking intake or a peer
    here would hand out clinical access. ``User.clean`` calls it, so the admin and
    every model form share it."""
    if supervisor is None:
        return
    if staff.pk is not None and supervisor.pk == staff.pk:
        raise ValidationError({"clinical_supervisor": "A person cannot supervise themselves."})
    if not supervisor.is_active or not supervisor.groups.filter(name=Role.SUPERVISOR).exists():
        raise ValidationError(
            {"clinical_supervisor": "The clinical supervisor must hold the supervisor role."}
        )


class StaffRole(Group):
    """Django's auth group under the name the clinic uses. The admin lists it as
    "Staff roles" so it is not confused with therapy groups (scheduling)."""

    class Meta:
        proxy = True
        verbose_name = "staff role"
        verbose_name_plural = "staff roles"

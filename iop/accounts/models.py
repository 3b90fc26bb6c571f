from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property


class Role(models.TextChoices):
    """Roles are auth groups of these names; a person may hold several."""

    INTAKE = "intake", "Intake coordinator"
    CLINICIAN = "clinician", "Clinician"
    SUPERVISOR = "supervisor", "Clinical supervisor"
    MEDICAL = "medical", "Medical staff"
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

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        name = self.get_full_name() or self.username
        return f"{name}, {self.credential}" if self.credential else name

    @cached_property
    def roles(self) -> frozenset[str]:
        # One query per request; every navigation and access decision reads this.
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    @property
    def is_program_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

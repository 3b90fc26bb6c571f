from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from iop.accounts.models import Role, StaffRole, User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "credential", "npi", "is_active")
    list_filter = ("groups", "is_active", "requires_cosign")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Clinical", {"fields": ("credential", "requires_cosign", "clinical_supervisor")}),
        # The rendering provider on claims (837P loop 2310B); the NPI's check digit is
        # verified (iop/accounts/npi.py).
        ("Billing", {"fields": ("npi", "taxonomy")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinical_supervisor":
            # Offer only people who may supervise; User.clean() enforces the rule itself.
            kwargs["queryset"] = User.objects.filter(groups__name=Role.SUPERVISOR, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            field.label = "Staff roles"
        return field


# Two admin sections both called "Groups" (staff roles here, therapy groups in
# scheduling) confused admins: staff roles get their own name.
admin.site.unregister(Group)


@admin.register(StaffRole)
class StaffRoleAdmin(GroupAdmin):
    """Django's group admin, unchanged, under the name "Staff roles"."""

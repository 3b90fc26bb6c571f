from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from iop.accounts.models import User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "credential", "is_active")
    list_filter = ("groups", "is_active", "requires_cosign")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Clinical", {"fields": ("credential", "requires_cosign", "clinical_supervisor")}),
    )

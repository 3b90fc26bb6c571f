from django.contrib import admin

from iop.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by code and never edited by hand."""

    list_display = ("at", "actor_username", "action", "outcome", "object_type", "client_id")
    list_filter = ("outcome",)
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin

from iop.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        # Messages come from the app's services (reminders, notices); a hand-made one
        # would have no schedule, and every field here is read-only anyway.
        return False

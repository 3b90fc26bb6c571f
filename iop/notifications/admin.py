from django.contrib import admin

from iop.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

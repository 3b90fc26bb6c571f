from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "iop.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from iop.notifications import signals  # noqa: F401  (connects the receivers)
        from iop.notifications.digest import register_digest

        register_digest()

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "iop.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from iop.notifications import checks, signals  # noqa: F401  (registers, connects)
        from iop.notifications.digest import register_digest

        register_digest()

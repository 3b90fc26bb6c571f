from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "iop.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from iop.accounts import signals  # noqa: F401  (connects the audit receivers)

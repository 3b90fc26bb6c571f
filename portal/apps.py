from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client portal at /my/: client accounts apart from staff (README, *Client portal*)."""

    name = "portal"
    label = "portal"

    def ready(self):
        from portal import registrations

        registrations.register()

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from clients import registrations
        from clients.access import OwnedKind, register_owned
        from clients.models import EmergencyAccess
        from iop.audit import subjects

        post_migrate.connect(_clear_permission_cache, dispatch_uid="clients-permission-cache")
        registrations.register()
        register_owned(
            OwnedKind(
                "clients.emergencyaccess",
                "access_id",
                lambda: EmergencyAccess.objects.select_related("client", "staff"),
            )
        )
        # The admin's audit page shows MRN and name; the platform never imports clients.
        subjects.register_model(
            "clients.Client", id_field="public_id", mrn_field="mrn", name=lambda c: c.legal_name
        )
        # The staff task list names and links a client only when the viewer may open it.
        from clients.selectors import openable_client_labels
        from iop.notifications.sources import register_openable

        register_openable(openable_client_labels)


def _clear_permission_cache(**kwargs):
    from clients.access import permission_id_map

    permission_id_map.cache_clear()

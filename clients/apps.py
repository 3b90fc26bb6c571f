from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from clients import access, navigation

        post_migrate.connect(_clear_permission_cache, dispatch_uid="clients-permission-cache")
        navigation.register()
        del access
        from iop.audit import subjects  # the admin's audit page shows MRN and name

        subjects.register_model(
            "clients.Client", id_field="public_id", mrn_field="mrn", name=lambda c: c.legal_name
        )


def _clear_permission_cache(**kwargs):
    from clients.access import permission_id_map

    permission_id_map.cache_clear()

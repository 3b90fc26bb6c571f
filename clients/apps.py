from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from clients import registrations, staff_reminders

        post_migrate.connect(_clear_permission_cache, dispatch_uid="clients-permission-cache")
        registrations.register()
        staff_reminders.register_sources()


def _clear_permission_cache(**kwargs):
    from clients.access import permission_id_map

    permission_id_map.cache_clear()

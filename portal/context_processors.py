from django.conf import settings

from portal.navigation import menu


def portal(request):
    """The portal's base template: the menu, the idle warning, and the name at the top,
    which is the program's only when the client chose reminders that may name it."""
    if not request.path.startswith("/my/"):
        return {}
    client = getattr(request, "portal_client", None)
    if client is None:
        return {"idle_minutes": settings.IOP_IDLE_TIMEOUT_MINUTES}
    return {
        "portal_signed_in": True,
        "portal_client": client,
        "portal_nav": menu(request),
        "portal_brand": settings.IOP_PROGRAM_NAME if client.reminder_may_name_program else "",
        "idle_timeout_seconds": settings.IOP_IDLE_TIMEOUT_MINUTES * 60,
        "idle_warning_seconds": settings.IOP_IDLE_WARNING_SECONDS,
        "idle_minutes": settings.IOP_IDLE_TIMEOUT_MINUTES,
        "portal_phone": settings.IOP_REMINDER_PHONE,
    }

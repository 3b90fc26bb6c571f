from django.conf import settings

from iop.accounts.navigation import menu_bar


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": menu_bar(user),
        "idle_timeout_seconds": settings.IOP_IDLE_TIMEOUT_MINUTES * 60,
        "idle_warning_seconds": settings.IOP_IDLE_WARNING_SECONDS,
    }

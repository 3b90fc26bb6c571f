from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from iop.audit.services import audit_list
from iop.dashboard import dashboard_sections


@login_required
def dashboard(request):
    page = dashboard_sections(request)
    audit_list(request, listed=page.listed, clinical=page.clinical)
    return render(request, "dashboard.html", {"sections": page.sections})


@require_GET
@never_cache
def healthz(request):
    """Liveness for the load balancer: 200 while the database answers."""
    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001  (any failure means "down"; details stay in the server log)
        status["database"] = "error"
    status["broker"] = _broker_status()
    code = 200 if status["database"] == "ok" else 503
    return JsonResponse(status, status=code)


def _broker_status() -> str:
    from iop.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001
        return "error"
    return "ok"


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico on every page whatever the link tag says; answer
    with the static file (hashed name in production) instead of a 404 in the logs."""
    return redirect(static("favicon.ico"))

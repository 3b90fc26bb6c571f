"""Keeps the portal and the staff app apart, and signs an idle client out.

- A staff session (``request.user`` signed in) never opens ``/my/``: 404.
- A portal session gets 404 on every path outside ``OPEN_PATHS`` (every staff page,
  the staff sign-in and the admin included), never a redirect to the staff sign-in:
  nothing tells a client's phone that a staff side exists.
- Idle sign-out after ``IOP_IDLE_TIMEOUT_MINUTES`` and the absolute limit after
  ``IOP_SESSION_ABSOLUTE_HOURS``, as for staff (``iop.accounts.middleware``).
- A page under ``/my/`` that answers 404 shows the portal's own neutral 404 page.
"""

import time

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from portal import session

PREFIX = "/my/"
# What a portal session may reach besides /my/ (another portal module may add a
# public path of its own here, e.g. a letter's verification page).
OPEN_PATHS = ["/static/", "/healthz", "/favicon.ico", "/verify/"]
# Polled by the idle-warning script: reading the time left is not activity.
PASSIVE_PATHS = ("/my/session/",)


def not_found(request):
    response = TemplateResponse(request, "portal/404.html", {}, status=404)
    response.render()
    response.portal_page = True
    return response


def _portal_404(request, response):
    """A 404 under /my/ that is not the portal's own (an unknown path: the resolver's,
    answered with the staff side's page) becomes the portal's neutral one."""
    if response.status_code == 404 and not getattr(response, "portal_page", False):
        return not_found(request)
    return response


class PortalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        in_portal = request.path.startswith(PREFIX)
        if request.user.is_authenticated:
            if session.portal_session(request):
                # A staff sign-in replaced the portal's: the portal keys go.
                for key in session.KEYS:
                    request.session.pop(key, None)
            if in_portal:
                raise Http404  # the staff side's own 404 page: nothing of the portal shows
            return self.get_response(request)
        if not session.portal_session(request):
            response = self.get_response(request)
            return _portal_404(request, response) if in_portal else response
        if not in_portal and not request.path.startswith(tuple(OPEN_PATHS)):
            response = not_found(request)
            add_never_cache_headers(response)
            return response
        now = time.time()
        started = request.session.get(session.STARTED, now)
        last_seen = request.session.get(session.LAST_SEEN, now)
        if now - started > settings.IOP_SESSION_ABSOLUTE_HOURS * 3600 or (
            now - last_seen > settings.IOP_IDLE_TIMEOUT_MINUTES * 60
        ):
            session.end(request)
            request.session["portal.signed_out"] = "idle"
            return redirect("portal:sign_in")
        if now - last_seen > settings.IOP_SESSION_TOUCH_SECONDS and not request.path.startswith(
            PASSIVE_PATHS
        ):
            request.session[session.LAST_SEEN] = now
        response = self.get_response(request)
        if in_portal:
            response = _portal_404(request, response)
        add_never_cache_headers(response)
        return response

    def process_exception(self, request, exception):
        if (
            isinstance(exception, Http404)
            and request.path.startswith(PREFIX)
            and not request.user.is_authenticated
        ):
            return not_found(request)
        return None

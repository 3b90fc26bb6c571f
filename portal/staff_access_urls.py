"""The staff page of a client's portal access, at /portal-access/ (namespace ``portal_access``)."""

from django.urls import path

from portal import staff_views

app_name = "portal_access"

urlpatterns = [
    path("<uuid:client_id>/", staff_views.access, name="access"),
]

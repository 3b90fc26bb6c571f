"""Treatment and relapse-prevention plans; included as ``clinical/plans/`` under the
``plans`` namespace. Only opaque ids in the paths (no client data in URLs)."""

from django.urls import path

from clinical.plans import views

urlpatterns = [
    path("clients/<uuid:client_id>/treatment/", views.treatment_plan, name="treatment"),
    path("clients/<uuid:client_id>/treatment/edit/", views.treatment_edit, name="treatment_edit"),
    path(
        "clients/<uuid:client_id>/treatment/review/",
        views.treatment_review,
        name="treatment_review",
    ),
    path(
        "clients/<uuid:client_id>/treatment/history/",
        views.treatment_history,
        name="treatment_history",
    ),
    path(
        "treatment/versions/<uuid:plan_version_id>/",
        views.treatment_version,
        name="treatment_version",
    ),
    path("clients/<uuid:client_id>/relapse-prevention/", views.relapse_plan, name="relapse"),
    path(
        "clients/<uuid:client_id>/relapse-prevention/edit/",
        views.relapse_edit,
        name="relapse_edit",
    ),
    path(
        "clients/<uuid:client_id>/relapse-prevention/history/",
        views.relapse_history,
        name="relapse_history",
    ),
    path(
        "relapse-prevention/versions/<uuid:relapse_version_id>/",
        views.relapse_version,
        name="relapse_version",
    ),
    path(
        "relapse-prevention/versions/<uuid:relapse_version_id>/print/",
        views.relapse_print,
        name="relapse_print",
    ),
]

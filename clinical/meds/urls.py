"""Medications and outcome measures, included at ``clinical/meds/`` under the ``meds``
namespace. Ids in URLs are opaque public ids; the instrument is a fixed code."""

from django.urls import path

from clinical.meds import views

urlpatterns = [
    path(
        "clients/<uuid:client_id>/medications/new/",
        views.medication_add,
        name="medication_add",
    ),
    path("medications/<uuid:medication_id>/stop/", views.medication_stop, name="medication_stop"),
    *(
        path(
            f"clients/<uuid:client_id>/measures/{code}/new/",
            views.measure_add,
            {"instrument": code},
            name=f"measure_add_{code}",
        )
        for code in ("phq9", "gad7", "bam")
    ),
    path("clients/<uuid:client_id>/measures/ask/", views.measure_assign, name="measure_assign"),
    path(
        "measure-requests/<uuid:assignment_id>/stop/",
        views.measure_assignment_end,
        name="measure_assignment_end",
    ),
    path("measures/<uuid:measure_id>/", views.measure_detail, name="measure_detail"),
    path(
        "measures/<uuid:measure_id>/acknowledge/",
        views.measure_acknowledge,
        name="measure_acknowledge",
    ),
]

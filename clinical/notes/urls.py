"""Note pages, included from iop/urls.py under clinical/notes/ in the ``notes`` namespace."""

from django.urls import path

from clinical.notes import views

urlpatterns = [
    path("sessions/<uuid:session_id>/", views.group_note, name="group_note"),
    path("sessions/<uuid:session_id>/autosave/", views.group_autosave, name="group_autosave"),
    path("sessions/<uuid:session_id>/sign/", views.group_sign, name="group_sign"),
    path("sessions/<uuid:session_id>/addendum/", views.group_addendum, name="group_addendum"),
    path("sessions/<uuid:session_id>/plan/", views.session_plan, name="session_plan"),
    path("appointments/<uuid:appointment_id>/", views.appointment_note, name="appointment_note"),
    path(
        "appointments/<uuid:appointment_id>/autosave/",
        views.appointment_autosave,
        name="appointment_autosave",
    ),
    path(
        "appointments/<uuid:appointment_id>/sign/", views.appointment_sign, name="appointment_sign"
    ),
    path(
        "appointments/<uuid:appointment_id>/addendum/",
        views.appointment_addendum,
        name="appointment_addendum",
    ),
    path(
        "appointments/<uuid:appointment_id>/no-show/",
        views.appointment_no_show,
        name="appointment_no_show",
    ),
    path("<uuid:note_id>/cosign/", views.cosign, name="cosign"),
    path("group/<uuid:group_note_id>/cosign/", views.group_cosign, name="group_cosign"),
    path("clients/<uuid:client_id>/", views.client_notes, name="client_notes"),
]

from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("week/", views.week, name="week"),
    path("day/", views.day, name="day"),
    path("rooms/<int:room_id>/week/", views.room_week, name="room_week"),
    path("sessions/<uuid:session_id>/attendance/", views.attendance_sheet, name="attendance_sheet"),
    path(
        "sessions/<uuid:session_id>/attendance/all-present/",
        views.attendance_all_present,
        name="attendance_all_present",
    ),
    path(
        "sessions/<uuid:session_id>/attendance/<uuid:client_id>/",
        views.attendance_mark,
        name="attendance_mark",
    ),
    path("sessions/<uuid:session_id>/cancel/", views.session_cancel, name="session_cancel"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path("clients/<uuid:client_id>/enroll/", views.enroll, name="enroll"),
    path("clients/<uuid:client_id>/step-down/", views.step_down, name="step_down"),
    path("clients/<uuid:client_id>/schedule/", views.client_schedule, name="client_schedule"),
    path("clients/<uuid:client_id>/makeup/", views.makeup, name="makeup"),
]

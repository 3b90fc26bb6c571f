"""The portal, at /my/. No path names a client: the client is the signed-in one."""

from django.urls import path

from portal import consents, letters, measures, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/<str:token>/", views.link, name="link"),
    path("verify/", views.verify, name="verify"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("session/", views.session_status, name="session_status"),
    path("keepalive/", views.keepalive, name="keepalive"),
    *measures.urlpatterns,
    *consents.urlpatterns,
    *letters.urlpatterns,
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/appointments.ics", views.calendar_file, name="calendar"),
    path("plan/", views.plan, name="plan"),
    path("reminders/", views.reminders, name="reminders"),
    path("record-access/", views.record_access, name="record_access"),
    path("authenticator/", views.authenticator, name="authenticator"),
]

from django.urls import path

from iop.notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/action/", views.outbox_action, name="outbox_action"),
]

from django.urls import path

from iop.notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox_list, name="outbox"),
    path("outbox/action/", views.outbox_action, name="outbox_action"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/count/", views.task_count, name="task_count"),
    path("tasks/done/", views.task_done, name="task_done"),
]

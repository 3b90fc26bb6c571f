from django.urls import path

from iop.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<uuid:run_id>/", views.run_status, name="run"),
    path("runs/<uuid:run_id>/download/", views.run_download, name="download"),
    path("<slug:key>/", views.report_page, name="report"),
    path("<slug:key>/print/", views.report_print, name="print"),
    path("<slug:key>/csv/", views.report_csv, name="csv"),
    path("<slug:key>/background/", views.report_background, name="background"),
]

"""Screening pages, included at ``screening/``. Ids in URLs are opaque public ids."""

from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("today/", views.collection_list, name="collection_list"),
    path("clients/<uuid:client_id>/", views.history, name="history"),
    path("clients/<uuid:client_id>/urine/new/", views.urine_new, name="urine_new"),
    path("clients/<uuid:client_id>/breath/new/", views.breath_new, name="breath_new"),
    path(
        "selections/<uuid:selection_id>/collect/",
        views.selection_collect,
        name="selection_collect",
    ),
    path(
        "selections/<uuid:selection_id>/not-collected/",
        views.selection_not_collected,
        name="selection_not_collected",
    ),
    path("selections/<uuid:selection_id>/void/", views.selection_void, name="selection_void"),
    path("urine/<uuid:screen_id>/", views.urine_detail, name="urine_detail"),
    path("urine/<uuid:screen_id>/results/", views.urine_results, name="urine_results"),
    path("urine/<uuid:screen_id>/confirmation/", views.urine_confirm, name="urine_confirm"),
    path("breath/<uuid:breath_id>/", views.breath_detail, name="breath_detail"),
    path("breath/<uuid:breath_id>/confirm/", views.breath_confirm, name="breath_confirm"),
    path("follow-ups/<uuid:follow_up_id>/", views.follow_up_detail, name="follow_up_detail"),
    path(
        "follow-ups/<uuid:follow_up_id>/acknowledge/",
        views.follow_up_acknowledge,
        name="follow_up_acknowledge",
    ),
]

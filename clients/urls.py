from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_index, name="list"),
    path("caseload/", views.caseload, name="caseload"),
    path("register/", views.register, name="register"),
    path("emergency-access/", views.emergency_access, name="emergency_access"),
    path("emergency-access/review/", views.emergency_review, name="emergency_review"),
    path(
        "emergency-access/<uuid:access_id>/reviewed/",
        views.emergency_review_mark,
        name="emergency_review_mark",
    ),
    path("<uuid:client_id>/", views.chart, name="chart"),
    path("<uuid:client_id>/edit/", views.edit, name="edit"),
    path("<uuid:client_id>/clinical/", views.clinical_edit, name="clinical_edit"),
    path("<uuid:client_id>/contacts/add/", views.contact_add, name="contact_add"),
    path("<uuid:client_id>/consents/add/", views.consent_add, name="consent_add"),
    path("<uuid:client_id>/consents/prepare/", views.consent_prepare, name="consent_prepare"),
    path(
        "<uuid:client_id>/consents/<uuid:consent_id>/", views.consent_detail, name="consent_detail"
    ),
    path(
        "<uuid:client_id>/consents/<uuid:consent_id>/revoke/",
        views.consent_revoke,
        name="consent_revoke",
    ),
    path("<uuid:client_id>/disclosures/", views.disclosures, name="disclosures"),
    path("<uuid:client_id>/disclosures/add/", views.disclosure_add, name="disclosure_add"),
    path("<uuid:client_id>/admit/", views.admit, name="admit"),
    path(
        "<uuid:client_id>/episodes/<uuid:episode_id>/discharge/",
        views.discharge,
        name="discharge",
    ),
    path("<uuid:client_id>/care-team/", views.care_team, name="care_team"),
    path(
        "<uuid:client_id>/care-team/<uuid:member_id>/end/",
        views.care_team_end,
        name="care_team_end",
    ),
]

from django.urls import path

from billing import claim_views, views, views_x12

app_name = "billing"

urlpatterns = [
    path("claims/export/", views_x12.claims_export, name="claims_export"),
    path(
        "claims/export/batches/<int:isa_control>/",
        views_x12.batch_resend,
        name="batch_resend",
    ),
    path("remittances/", views_x12.remittances, name="remittances"),
    path("denials/", views_x12.denials, name="denials"),
    path("payers/", views.payer_list, name="payers"),
    path("payers/add/", views.payer_add, name="payer_add"),
    path("payers/<str:code>/", views.payer_detail, name="payer"),
    path("payers/<str:code>/edit/", views.payer_edit, name="payer_edit"),
    path("provider/", views.provider_edit, name="provider"),
    path("clients/", views.client_list, name="clients"),
    path("clients/<uuid:client_id>/", views.client_billing, name="client"),
    path("clients/<uuid:client_id>/coverage/add/", views.coverage_add, name="coverage_add"),
    path(
        "clients/<uuid:client_id>/coverage/intake/",
        views.intake_coverage,
        name="intake_coverage",
    ),
    path(
        "clients/<uuid:client_id>/coverage/self-pay/",
        views.intake_self_pay,
        name="intake_self_pay",
    ),
    path(
        "clients/<uuid:client_id>/coverage/<uuid:coverage_id>/edit/",
        views.coverage_edit,
        name="coverage_edit",
    ),
    path(
        "clients/<uuid:client_id>/coverage/<uuid:coverage_id>/end/",
        views.coverage_end,
        name="coverage_end",
    ),
    path("clients/<uuid:client_id>/diagnoses/add/", views.diagnosis_add, name="diagnosis_add"),
    path(
        "clients/<uuid:client_id>/diagnoses/<uuid:diagnosis_id>/remove/",
        views.diagnosis_remove,
        name="diagnosis_remove",
    ),
    path(
        "clients/<uuid:client_id>/authorizations/add/",
        views.authorization_add,
        name="authorization_add",
    ),
    path(
        "clients/<uuid:client_id>/authorizations/<uuid:authorization_id>/edit/",
        views.authorization_edit,
        name="authorization_edit",
    ),
    path("claims/", claim_views.claim_list, name="claims"),
    path("claims/held/", claim_views.held_claims, name="claims_held"),
    path("claims/build/", claim_views.claims_build, name="claims_build"),
    path("claims/<uuid:claim_id>/check/", claim_views.claim_check, name="claim_check"),
]

"""The claims pages' routes, added to billing/urls.py's."""

from django.urls import path

from billing import claim_views

urlpatterns = [
    path("claims/", claim_views.claim_list, name="claims"),
    path("claims/held/", claim_views.held_claims, name="claims_held"),
    path("claims/build/", claim_views.claims_build, name="claims_build"),
    path("claims/<uuid:claim_id>/check/", claim_views.claim_check, name="claim_check"),
]

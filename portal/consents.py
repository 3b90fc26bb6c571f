"""Consents on the phone: the client reads a Part 2 consent staff prepared, in full, and
signs it with their typed legal name and an attestation; or revokes a signed one in
writing. The words shown are ``clients.consent_text.consent_text``, the same the
signing service stores, and the form carries their digest: what is kept is what was read.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from clients import services
from clients.consent_text import ATTESTATION, consent_text
from clients.models import Consent, SignerRelationship
from iop.audit.services import client_ip
from iop.forms import TextField
from portal.access import portal_view


class SignForm(forms.Form):
    typed_name = TextField(
        label="Type your full legal name to sign",
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    attest = forms.BooleanField(label=ATTESTATION, required=False)
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RevokeForm(forms.Form):
    reason = TextField(
        label="Your written revocation",
        max_length=services.REVOCATION_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: I revoke my consent to share my records with this recipient.",
    )


def _consent(request, consent_id) -> Consent:
    consent = (
        Consent.objects.filter(client=request.portal_client, public_id=consent_id)
        .select_related("client")
        .first()
    )
    if consent is None:
        raise Http404
    return consent


def _state(consent) -> str:
    return consent.state_on(
        timezone.localdate(), discharges=services.discharge_dates(consent.client)
    )


@portal_view("consents")
def consent_list(request):
    consents = list(Consent.objects.filter(client=request.portal_client).select_related("client"))
    discharges = services.discharge_dates(request.portal_client)
    for c in consents:
        c.state = c.state_on(timezone.localdate(), discharges=discharges)
    return render(
        request,
        "portal/consents.html",
        {
            "awaiting": [c for c in consents if c.awaiting_signature],
            "signed": [c for c in consents if not c.awaiting_signature],
        },
    )


@portal_view("consent")
def consent_detail(request, consent_id):
    consent = _consent(request, consent_id)
    text = consent.signed_text or consent_text(consent)
    sign_form = revoke_form = None
    status = 200
    if consent.awaiting_signature:
        sign_form = SignForm(
            request.POST if request.method == "POST" else None,
            initial={"digest": services.consent_text_digest(text)},
        )
        if request.method == "POST":
            status = 400
            if sign_form.is_valid():
                try:
                    signed = services.consent_sign_by_client(
                        consent=consent,
                        typed_name=sign_form.cleaned_data["typed_name"],
                        attested=sign_form.cleaned_data["attest"],
                        text=text,
                        text_digest=sign_form.cleaned_data["digest"],
                        ip_address=client_ip(request),
                        audit=request.portal_audit,
                    )
                except ValidationError as exc:
                    _apply(sign_form, exc)
                else:
                    if getattr(signed, "repeated", False):
                        messages.info(request, "You already signed this consent.")
                    else:
                        messages.success(request, "Signed. A copy is kept here for you.")
                    return redirect("portal:consent", consent.public_id)
    elif request.method == "POST":
        # Nothing to sign (a second submission after the first signed it).
        messages.info(request, "This consent is not waiting for a signature.")
        return redirect("portal:consent", consent.public_id)
    state = _state(consent)
    if state == "active":
        revoke_form = RevokeForm()
    minor_basis = services.portal_signer_basis(consent.client, timezone.localdate())
    return render(
        request,
        "portal/consent.html",
        {
            "consent": consent,
            "state": state,
            "text": text,
            "sign_form": sign_form,
            "revoke_form": revoke_form,
            "basis": minor_basis,
            "basis_label": dict(SignerRelationship.choices).get(minor_basis, ""),
        },
        status=status,
    )


@portal_view("consent_revoke")
def consent_revoke(request, consent_id):
    consent = _consent(request, consent_id)
    if request.method != "POST":
        return redirect("portal:consent", consent.public_id)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            revoked = services.consent_revoke_by_client(
                consent=consent, reason=form.cleaned_data["reason"], audit=request.portal_audit
            )
        except ValidationError as exc:
            _apply(form, exc)
        else:
            if getattr(revoked, "repeated", False):
                messages.info(request, "You already revoked this consent.")
            else:
                messages.success(
                    request,
                    "Revoked. The program makes no further disclosure under this consent.",
                )
            return redirect("portal:consent", consent.public_id)
    return render(
        request,
        "portal/consent.html",
        {
            "consent": consent,
            "state": _state(consent),
            "text": consent.signed_text or consent_text(consent),
            "revoke_form": form,
        },
        status=400,
    )


def _apply(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


urlpatterns = [
    path("consents/", consent_list, name="consents"),
    path("consents/<uuid:consent_id>/", consent_detail, name="consent"),
    path("consents/<uuid:consent_id>/revoke/", consent_revoke, name="consent_revoke"),
]

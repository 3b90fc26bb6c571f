"""Attendance letters: the client's pages (under /my/), the staff's (approve or decline,
scoped through ``clients.access``) and the public verification page (/verify/).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from clients.access import Purpose, owned_view, scope, with_access
from iop.audit.services import audit_context, audit_record, client_ip
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField
from portal import letter_services as services
from portal.access import portal_view
from portal.letter_pdf import letter_pdf
from portal.models import AttendanceLetter, LetterStatus

# --- The client's pages --------------------------------------------------------------------


class RequestForm(forms.Form):
    consent = forms.ChoiceField(label="Who the letter is for")
    period_start = PlausibleDateField(kind=DateKind.RECORD, label="From")
    period_end = PlausibleDateField(kind=DateKind.RECORD, label="To")
    include_screens = forms.BooleanField(label="Include my screen results", required=False)

    def __init__(self, *args, consents, **kwargs):
        super().__init__(*args, **kwargs)
        self.consents = {str(c.public_id): c for c in consents}
        self.fields["consent"].choices = [(str(c.public_id), c.recipient_name) for c in consents]
        start, end = services.default_period()
        self.fields["period_start"].initial = start
        self.fields["period_end"].initial = end


def _apply(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@portal_view("letters")
def letter_list(request):
    client = request.portal_client
    # Every consent that could carry a letter of attendance; screens are checked on send.
    consents = services.covering_consents(client)
    form = RequestForm(request.POST if request.method == "POST" else None, consents=consents)
    if request.method == "POST" and consents and form.is_valid():
        try:
            letter = services.letter_request(
                client=client,
                consent=form.consents.get(form.cleaned_data["consent"]),
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                include_screens=form.cleaned_data["include_screens"],
                audit=request.portal_audit,
            )
        except ValidationError as exc:
            _apply(form, exc)
        else:
            if getattr(letter, "repeated", False):
                messages.info(request, "You already asked for this letter.")
            else:
                messages.success(
                    request, "Asked. The program checks the letter; it shows here when ready."
                )
            return redirect("portal:letters")
    letters = list(AttendanceLetter.objects.filter(client=client).select_related("consent")[:50])
    return render(
        request,
        "portal/letters.html",
        {
            "form": form if consents else None,
            "letters": letters,
            "today": timezone.localdate(),
            "screens_consents": {
                str(c.public_id) for c in services.covering_consents(client, include_screens=True)
            },
        },
        status=400 if form.is_bound else 200,
    )


def _verify_url(request) -> str:
    return request.build_absolute_uri(reverse("letter_verify"))


@portal_view("letter_pdf")
def letter_download(request, letter_id):
    letter = AttendanceLetter.objects.filter(
        client=request.portal_client, public_id=letter_id, status=LetterStatus.APPROVED
    ).first()
    if letter is None:
        raise Http404
    return _pdf_response(letter, request)


def _pdf_response(letter, request) -> HttpResponse:
    response = HttpResponse(
        letter_pdf(letter, verify_url=_verify_url(request)), content_type="application/pdf"
    )
    # A neutral file name: no name, no program.
    response["Content-Disposition"] = 'attachment; filename="letter.pdf"'
    return response


urlpatterns = [
    path("letters/", letter_list, name="letters"),
    path("letters/<uuid:letter_id>/letter.pdf", letter_download, name="letter_pdf"),
]


# --- The staff's pages ---------------------------------------------------------------------


class DeclineForm(forms.Form):
    reason = TextField(
        label="Why (the client reads this)",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@login_required
def staff_pending(request):
    """Letter requests waiting, of the clients the viewer may edit (``scope``)."""
    rows = with_access(
        request.user,
        "portal.attendanceletter",
        scope(request.user, "portal.attendanceletter", Purpose.EDIT)
        .filter(status=LetterStatus.REQUESTED)
        .select_related("client", "consent")
        .order_by("requested_at", "id")[:100],
    )
    from iop.audit.services import audit_list

    audit_list(request, listed=[r.client for r in rows])
    return render(request, "portal/staff_letters.html", {"letters": rows})


@owned_view("portal.attendanceletter", purpose=Purpose.EDIT)
def staff_letter(request, letter):
    form = DeclineForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                result = services.letter_approve(
                    letter=letter, actor=request.user, audit=audit_context(request)
                )
                messages.success(
                    request,
                    "Letter approved: the client can download it, and it is in the "
                    "accounting of disclosures."
                    if not getattr(result, "repeated", False)
                    else "This letter was already approved.",
                )
                return redirect("letters:staff_letter", letter.public_id)
            if action == "decline" and form.is_valid():
                services.letter_decline(
                    letter=letter,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    audit=audit_context(request),
                )
                messages.info(request, "Request declined; the client sees why.")
                return redirect("letters:staff_pending")
            if action not in ("approve", "decline"):
                form.add_error(None, "Choose approve or decline.")
        except ValidationError as exc:
            _apply(form, exc)
        status = 400
    preview = letter.content or services.letter_content(letter, issued_by=request.user)
    return render(
        request,
        "portal/staff_letter.html",
        {"letter": letter, "client": letter.client, "c": preview, "form": form},
        status=status,
    )


@owned_view("portal.attendanceletter", purpose=Purpose.EDIT)
def staff_letter_pdf(request, letter):
    if letter.status != LetterStatus.APPROVED:
        raise Http404
    return _pdf_response(letter, request)


staff_urlpatterns = [
    path("", staff_pending, name="staff_pending"),
    path("<uuid:letter_id>/", staff_letter, name="staff_letter"),
    path("<uuid:letter_id>/letter.pdf", staff_letter_pdf, name="staff_letter_pdf"),
]


# --- The public verification page ----------------------------------------------------------

VERIFY_LIMIT = (20, 15 * 60)  # look-ups per address, per 15 minutes


class VerifyForm(forms.Form):
    code = forms.CharField(label="Verification code", max_length=40, strip=True)


def _throttled(request) -> bool:
    key = f"letter-verify:{client_ip(request) or 'unknown'}"
    limit, window = VERIFY_LIMIT
    count = cache.get_or_set(key, 0, window)
    if count >= limit:
        return True
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)
    return False


def verify(request):
    """No sign-in: a recipient types the code from the letter and sees what the letter
    shows. An unknown code, a declined request and a malformed code answer alike."""
    form = VerifyForm(request.POST if request.method == "POST" else None)
    letter = None
    status = 200
    checked = False
    if request.method == "POST":
        if _throttled(request):
            return render(
                request, "portal/verify_letter.html", {"form": form, "throttled": True}, status=429
            )
        checked = True
        if form.is_valid() and "\x00" not in form.cleaned_data["code"]:
            letter = services.letter_by_code(form.cleaned_data["code"])
        if letter is not None:
            audit_record(
                action="letter.verify",
                audit=None,
                username="public:letter-verify",
                obj=letter,
                client=letter.client,
                detail="verified",
            )
        else:
            status = 404
    return render(
        request,
        "portal/verify_letter.html",
        {
            "form": form,
            "letter": letter,
            "c": letter.content if letter else None,
            "code": services.display_code(letter.verification_code) if letter else "",
            "checked": checked,
            "today": timezone.localdate(),
        },
        status=status,
    )

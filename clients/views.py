from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients import intake, services
from clients.access import Action, Purpose, client_view, owned_view
from clients.chart import extra_links, extra_sections
from clients.forms import (
    AccountingPeriodForm,
    AdmitForm,
    CareTeamAddForm,
    ClientForm,
    ClientSearchForm,
    ClinicalIntakeForm,
    ConsentForm,
    ConsentPrepareForm,
    ConsentRevokeForm,
    DischargeForm,
    DisclosureForm,
    EmergencyAccessForm,
    EmergencyReviewForm,
    SupportContactForm,
)
from clients.models import (
    REDISCLOSURE_NOTICE,
    CareTeamMember,
    CareTeamRole,
    Client,
    Consent,
    Disclosure,
    EmergencyAccess,
    Episode,
    accounting_floor,
    normalize_mrn,
)
from clients.selectors import caseload_for, client_list, supervised_caseload_for
from iop.accounts.models import Role
from iop.audit.models import Outcome
from iop.audit.services import audit_context, audit_list, audit_record
from iop.filters import filter_redirect, posted_values, saved_filter
from iop.forms import apply_validation_error, render_form
from iop.permissions import role_required

PROGRAM_NAME = "Intensive Outpatient Program"
PAGE_SIZE = 25


# --- Lists ----------------------------------------------------------------------------


SEARCH_KIND = "clients"
SEARCH_FIELDS = tuple(ClientSearchForm.base_fields)


@login_required
def client_index(request):
    """Search is a POST kept in the server-side session under an opaque id
    (``?f=<id>``): a client's name or MRN never travels in a URL, so it is not in
    browser history, proxies or access logs."""
    if request.method == "POST":
        form = ClientSearchForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "clients/list.html",
                {"form": form, "page": Paginator([], PAGE_SIZE).get_page(1)},
                status=400,
            )
        return filter_redirect(
            request,
            kind=SEARCH_KIND,
            data=posted_values(request, SEARCH_FIELDS),
            to="clients:list",
        )
    saved = saved_filter(request, kind=SEARCH_KIND, fields=SEARCH_FIELDS)
    if saved.refusal:
        return saved.refuse(request, "clients:list")
    search = saved.data or {}
    form = ClientSearchForm(initial=search)
    text, status = search.get("q", ""), search.get("status", "")
    page = Paginator(client_list(request.user, text=text, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    if text:
        audit_record(
            action="client.search",
            audit=audit_context(request),
            detail=f"results={page.paginator.count}",
        )
    audit_list(request, listed=page)
    return render(
        request,
        "clients/list.html",
        {"form": form, "page": page, "searching": bool(saved.id), "query": saved.query},
    )


@role_required(Role.CLINICIAN, Role.SUPERVISOR)
def caseload(request):
    mine = Paginator(caseload_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    supervised = (
        list(supervised_caseload_for(request.user)[:PAGE_SIZE])
        if request.user.has_role(Role.SUPERVISOR)
        else []
    )
    audit_list(request, listed=[*mine, *supervised])
    return render(request, "clients/caseload.html", {"page": mine, "supervised": supervised})


# --- Registration and demographics ------------------------------------------------------


@role_required(Role.INTAKE, Role.ADMIN)
def register(request):
    form = ClientForm(request.POST or None)
    valid = request.method == "POST" and form.is_valid()
    if form.duplicate_checked:
        # Intake learns that a match exists (so no second chart is opened), never who;
        # the lookup itself is on the trail.
        audit_record(
            action="client.duplicate_lookup",
            audit=audit_context(request),
            outcome=Outcome.ALLOWED,
            detail=f"matches={form.duplicate_count}",
        )
    if valid:
        fields = {k: v for k, v in form.cleaned_data.items() if k != "confirm_not_duplicate"}
        try:
            client = services.client_register(
                actor=request.user, audit=audit_context(request), **fields
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request,
                f"Registered with MRN {client.mrn}. Next: record consents, then admit.",
            )
            return redirect("clients:chart", client.public_id)
    return render_form(
        request,
        "clients/register.html",
        {"form": form, "intake": intake.progress(None, "register")},
        form,
    )


@client_view(Purpose.EDIT)
def edit(request, client):
    form = ClientForm(request.POST or None, instance=client, check_duplicates=False)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "confirm_not_duplicate"}
        try:
            services.client_update(
                client=client, actor=request.user, audit=audit_context(request), **fields
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("clients:chart", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {"form": form, "client": client, "title": "Edit demographics and reminders"},
        form,
    )


@client_view(Purpose.CLINICAL_WRITE)
def clinical_edit(request, client):
    """Substances and co-occurring conditions: clinical intake data, apart from demographics."""
    form = ClinicalIntakeForm(
        request.POST or None,
        initial={
            "primary_substances": client.primary_substances,
            "co_occurring_conditions": client.co_occurring_conditions,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.client_clinical_update(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Clinical intake saved.")
            return redirect("clients:chart", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {"form": form, "client": client, "title": "Clinical intake"},
        form,
    )


# --- The chart --------------------------------------------------------------------------


@client_view(Purpose.CHART)
def chart(request, client):
    purposes = request.client_access.purposes  # from the one query that loaded the client
    today = timezone.localdate()
    # One query for the episodes list, the open episode and the discharge dates that
    # end "end of treatment" consents (the same rows discharge_dates reads).
    episodes = list(client.episodes.select_related("admitted_by"))
    discharges = [e.discharged_on for e in episodes if e.discharged_on is not None]
    consents = list(client.consents.select_related("recorded_by"))
    for consent in consents:
        consent.state = consent.state_on(today, discharges=discharges)
    context = {
        "client": client,
        "purposes": purposes,
        "can_edit": request.client_access.can(Action.EDIT),
        "can_manage": request.client_access.can(Action.MANAGE),
        "access": request.client_access.decision(Purpose.CHART),
        "contacts": client.contacts.all(),
        "consents": consents,
        "disclosures": client.disclosures.select_related("disclosed_by")[:10],
        "care_team": client.care_team.select_related("staff").order_by("ended_on", "role"),
        "episodes": episodes,
        "open_episode": next((e for e in episodes if e.discharged_on is None), None),
        "emergency_used": client.emergency_accesses.exists(),
        "chart_sections": extra_sections(request, client, purposes),
        "chart_links": extra_links(client, purposes),
    }
    return render(request, "clients/chart.html", context)


# --- Contacts -------------------------------------------------------------------------


@client_view(Purpose.EDIT)
def contact_add(request, client):
    form = SupportContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_add(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Contact added.")
            return redirect("clients:chart", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {"form": form, "client": client, "title": "Add a contact"},
        form,
    )


# --- Consents and disclosures -----------------------------------------------------------


@client_view(Purpose.EDIT)
def consent_add(request, client):
    form = ConsentForm(request.POST or None, client=client, program_name=PROGRAM_NAME)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "signature_confirmed"}
        try:
            consent = services.consent_record(
                client=client, actor=request.user, audit=audit_context(request), **fields
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(consent, "repeated", False):
                messages.info(request, "This consent was already recorded; nothing was added.")
            else:
                messages.success(request, "Consent recorded. Next: admit, or record another.")
            return redirect("clients:consent_detail", client.public_id, consent.public_id)
    return render_form(
        request,
        "clients/consent_form.html",
        {"form": form, "client": client, "intake": intake.progress(client, "consent")},
        form,
    )


@client_view(Purpose.EDIT)
def consent_prepare(request, client):
    """A consent the client reads and signs in the portal: it counts for nothing until."""
    form = ConsentPrepareForm(request.POST or None, client=client, program_name=PROGRAM_NAME)
    if request.method == "POST" and form.is_valid():
        try:
            consent = services.consent_prepare(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(consent, "repeated", False):
                messages.info(request, "This consent was already prepared; nothing was added.")
            else:
                messages.success(
                    request,
                    "Consent prepared: it awaits the client's signature in the portal and "
                    "permits no disclosure until then.",
                )
            return redirect("clients:consent_detail", client.public_id, consent.public_id)
    return render_form(
        request,
        "clients/consent_prepare.html",
        {"form": form, "client": client},
        form,
    )


@client_view(Purpose.CHART)
def consent_detail(request, client, consent_id):
    consent = get_object_or_404(
        Consent.objects.select_related("recorded_by"), client=client, public_id=consent_id
    )
    consent.state = consent.state_on(
        timezone.localdate(), discharges=services.discharge_dates(client)
    )
    return render(
        request,
        "clients/consent_print.html",
        {
            "client": client,
            "consent": consent,
            "program_name": PROGRAM_NAME,
            "can_edit": request.client_access.can(Action.EDIT),
            "can_manage": request.client_access.can(Action.MANAGE),
            "open_episode": client.episodes.open().first(),
            "intake": intake.progress(client, "consent"),
        },
    )


@client_view(Purpose.EDIT)
def consent_revoke(request, client, consent_id):
    consent = get_object_or_404(Consent, client=client, public_id=consent_id)
    form = ConsentRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(
                consent=consent,
                revoked_on=form.cleaned_data["revoked_on"],
                note=form.cleaned_data["note"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Consent revoked. No further disclosure may rely on it.")
            return redirect("clients:chart", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {"form": form, "client": client, "title": f"Revoke: {consent}"},
        form,
    )


@client_view(Purpose.EDIT)
def disclosure_add(request, client):
    form = DisclosureForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = services.disclosure_record(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(disclosure, "repeated", False):
                messages.info(request, "This disclosure was already recorded; nothing was added.")
            else:
                messages.success(request, "Disclosure recorded with the 42 CFR 2.32 notice.")
            return redirect("clients:disclosures", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {
            "form": form,
            "client": client,
            "title": "Record a disclosure",
            "notice": REDISCLOSURE_NOTICE,
        },
        form,
    )


@client_view(Purpose.CHART)
def disclosures(request, client):
    """The accounting of disclosures (42 CFR 2.25(a), 2024 rule): the 3 years before the
    request, or a shorter period the client chose (``since``, a date in the form)."""
    today = timezone.localdate()
    floor = accounting_floor(today)
    form = AccountingPeriodForm(request.GET or None, floor=floor, today=today)
    since = form.cleaned_data["since"] if form.is_valid() and form.cleaned_data["since"] else floor
    return render(
        request,
        "clients/disclosures.html",
        {
            "client": client,
            "form": form,
            "disclosures": Disclosure.objects.for_accounting(client, today=today, since=since),
            "since": since,
            "full_period": since == floor,
            "today": today,
            "program_name": PROGRAM_NAME,
        },
        status=400 if form.errors else 200,
    )


# --- Episodes -------------------------------------------------------------------------


@client_view(Purpose.MANAGE)
def admit(request, client):
    form = AdmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.episode_admit(
                client=client,
                actor=request.user,
                audit=audit_context(request),
                **form.episode_fields(),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request, "Admitted. Next: assign the care team, then place on a track."
            )
            return redirect("clients:care_team", client.public_id)
    return render_form(
        request,
        "clients/form.html",
        {
            "form": form,
            "client": client,
            "title": "Admit",
            "intake": intake.progress(client, "admission"),
        },
        form,
    )


@client_view(Purpose.MANAGE)
def discharge(request, client, episode_id):
    episode = get_object_or_404(Episode, client=client, public_id=episode_id)
    if not episode.is_open:
        raise Http404("This episode is already discharged.")
    form = DischargeForm(request.POST or None, episode=episode)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.episode_discharge(
                episode=episode,
                discharged_on=data["discharged_on"],
                reason=data["reason"],
                summary=data["summary"],
                continuing_care=data["continuing_care"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Discharged.")
            return redirect("clients:chart", client.public_id)
    return render_form(
        request, "clients/form.html", {"form": form, "client": client, "title": "Discharge"}, form
    )


# --- Care team ------------------------------------------------------------------------


@client_view(Purpose.MANAGE)
def care_team(request, client):
    form = CareTeamAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_team_add(
                client=client,
                staff=form.cleaned_data["staff"],
                role=form.cleaned_data["role"],
                started_on=form.cleaned_data["started_on"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Care team updated.")
            return redirect("clients:care_team", client.public_id)
    members = client.care_team.select_related("staff").order_by("ended_on", "role", "started_on")
    return render_form(
        request,
        "clients/care_team.html",
        {
            "form": form,
            "client": client,
            "members": members,
            "roles": CareTeamRole,
            "intake": intake.progress(client, "care_team"),
        },
        form,
    )


@require_POST
@client_view(Purpose.MANAGE)
def care_team_end(request, client, member_id):
    member = get_object_or_404(CareTeamMember, client=client, public_id=member_id)
    try:
        services.care_team_end(member=member, actor=request.user, audit=audit_context(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        members = client.care_team.select_related("staff").order_by("ended_on", "role")
        return render(
            request,
            "clients/care_team.html",
            {
                "form": CareTeamAddForm(),
                "client": client,
                "members": members,
                "intake": intake.progress(client, "care_team"),
            },
            status=409,
        )
    messages.success(request, f"{member.staff} left the care team.")
    return redirect("clients:care_team", client.public_id)


# --- Break the glass --------------------------------------------------------------------


EMERGENCY_REFUSED = (
    "Emergency access was not opened. Check the MRN and state the emergency in words "
    "(at least three words and 15 characters)."
)


@role_required(*services.EMERGENCY_ROLES)
def emergency_access(request):
    """Break the glass. Every attempt is on the trail, and a wrong MRN and a refused
    reason get the same answer, so the form cannot be used to learn that an MRN exists."""
    form = EmergencyAccessForm(request.POST or None)
    if request.method != "POST":
        return render_form(request, "clients/emergency_access.html", {"form": form}, form)
    mrn = normalize_mrn(form.data.get("mrn", ""))
    client = Client.objects.filter(mrn=mrn).first() if mrn else None
    problem = "invalid form"
    if form.is_valid():
        problem = "no client with that MRN" if client is None else ""
    if not problem:
        try:
            services.emergency_access_open(
                client=client,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                audit=audit_context(request),
            )
        except ValidationError:
            problem = "reason refused"
        else:
            messages.warning(
                request,
                f"Emergency access for {EmergencyAccess.DURATION_MINUTES} minutes. "
                "A program admin will review it.",
            )
            return redirect("clients:chart", client.public_id)
    audit_record(
        action="client.emergency_access",
        audit=audit_context(request),
        outcome=Outcome.DENIED,
        client=client,
        detail=problem,
    )
    refused = EmergencyAccessForm(request.POST)
    refused.full_clean()
    # An MRN in no format the app issues is said so (that says nothing about who is a
    # client); past the format, an unknown MRN and a refused reason read the same.
    mrn_errors = refused.errors.get("mrn")
    refused._errors = {}
    refused.add_error(None, EMERGENCY_REFUSED)
    if mrn_errors:
        refused.add_error("mrn", list(mrn_errors))
    return render(request, "clients/emergency_access.html", {"form": refused}, status=400)


@role_required(Role.ADMIN)
def emergency_review(request):
    pending = list(EmergencyAccess.objects.awaiting_review().select_related("staff", "client"))
    reviewed = list(
        EmergencyAccess.objects.filter(reviewed_at__isnull=False).select_related(
            "staff", "client", "reviewed_by"
        )[:20]
    )
    # Each access names its client by MRN beside the emergency in the staff member's
    # words (often clinical: "collapsed in the lobby"): a row on each client's trail.
    audit_list(request, clinical=[access.client for access in (*pending, *reviewed)])
    return render(
        request,
        "clients/emergency_review.html",
        {"pending": pending, "reviewed": reviewed, "form": EmergencyReviewForm()},
    )


@require_POST
@owned_view("clients.emergencyaccess", purpose=Purpose.REVIEW)
def emergency_review_mark(request, access):
    form = EmergencyReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The review note is too long (200 characters at most).")
        return redirect("clients:emergency_review")
    try:
        services.emergency_access_review(
            access=access,
            actor=request.user,
            note=form.cleaned_data["note"],
            audit=audit_context(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Marked as reviewed.")
    return redirect("clients:emergency_review")

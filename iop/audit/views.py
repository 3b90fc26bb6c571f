from django.core.paginator import Paginator
from django.shortcuts import render

from iop.accounts.models import Role
from iop.audit.forms import AuditFilterForm
from iop.audit.models import AuditEvent
from iop.permissions import role_required

PAGE_SIZE = 50


@role_required(Role.ADMIN)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.for_listing()
    if form.is_bound and form.is_valid():
        events = form.filter(events)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )

from django.contrib import admin
from django.urls import include, path

from iop import views

admin.site.site_header = "IOP clinic configuration"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("iop.accounts.urls")),
    path("audit/", include("iop.audit.urls")),
    path("notifications/", include("iop.notifications.urls")),
    path("reports/", include("iop.reports.urls")),
    path("clients/", include("clients.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("clinical/plans/", include(("clinical.plans.urls", "plans"))),
    path("clinical/meds/", include(("clinical.meds.urls", "meds"))),
    path("clinical/notes/", include(("clinical.notes.urls", "notes"))),
    path("screening/", include("screening.urls")),
    path("billing/", include("billing.urls")),
    path("my/", include("portal.urls")),
    # Staff decide the attendance letters clients ask for; recipients verify them.
    path("letters/", include(("portal.staff_urls", "letters"))),
    path("verify/", include("portal.verify_urls")),
    # Staff give a client portal access and sign-in links (from the chart).
    path("portal-access/", include("portal.staff_access_urls")),
    path("admin/", admin.site.urls),
]

"""Configuration only: analytes and their cutoffs, panels, the testing policies per
track and the program policy. Screens and selections are client records, reached
only through the pages that go through clients.access."""

from django.contrib import admin

from screening.models import Analyte, Panel, ProgramPolicy, TestingPolicy


@admin.register(Analyte)
class AnalyteAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "initial_cutoff",
        "confirm_cutoff",
        "confirm_cutoffs",
        "reference",
        "alcohol_marker",
        "order",
    )
    list_editable = ("initial_cutoff", "confirm_cutoff", "order")
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        # The code ties results and medications together: fixed once created.
        return ("code",) if obj is not None else ()


@admin.register(Panel)
class PanelAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "edition", "active", "is_default")
    filter_horizontal = ("analytes",)


@admin.register(TestingPolicy)
class TestingPolicyAdmin(admin.ModelAdmin):
    list_display = ("track", "tests_per_week", "min_gap_days", "active")


@admin.register(ProgramPolicy)
class ProgramPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "missed_counts_positive")

    def has_add_permission(self, request):
        return not ProgramPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

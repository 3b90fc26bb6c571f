from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from iop import when
from iop.audit.services import audit_context
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField
from scheduling import selectors, services
from scheduling.models import WEEKDAYS, ClinicClosure, Group, Room, Slot, Track
from scheduling.services import group_clashes


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "days_per_week",
        "hours_per_session",
        "min_hours_per_week",
        "adolescent_min_hours_per_week",
        "steps_down_to",
    )


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "start_time", "end_time")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "seats")


class GroupAdminForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Group
        fields = ["name", "track", "slot", "weekdays", "room", "facilitators", "capacity", "active"]

    def clean(self):
        cleaned = super().clean()
        if self.errors or not cleaned.get("slot") or not cleaned.get("room"):
            return cleaned
        group = self.instance
        for field in ("slot", "room", "weekdays", "active"):
            setattr(group, field, cleaned.get(field))
        facilitators = [u.pk for u in cleaned.get("facilitators", [])]
        problems = group_clashes(group=group, facilitator_ids=facilitators)
        if problems:
            raise forms.ValidationError(problems)
        return cleaned


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    form = GroupAdminForm
    list_display = ("name", "track", "slot", "room", "capacity", "active")
    list_select_related = ("track", "slot", "room")
    filter_horizontal = ("facilitators",)

    def save_related(self, request, form, formsets, change):
        """Facilitators are set through the service (which moves every member's
        care-team access with them), never by the form's plain many-to-many save."""
        services.group_facilitators_set(
            group=form.instance,
            facilitators=form.cleaned_data["facilitators"],
            actor=request.user,
            audit=audit_context(request),
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class ClosureAdminForm(forms.ModelForm):
    date = PlausibleDateField(kind=DateKind.SCHEDULE)

    class Meta:
        model = ClinicClosure
        fields = ["date", "reason"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not self.errors:
            try:
                services.closure_check(day=cleaned["date"], reason=cleaned.get("reason", ""))
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return cleaned


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    """Closed days. A new one goes through ``closure_create`` (which cancels the day's
    sessions with the reason); the federal-holiday page offers each coming US federal
    holiday for the admin to accept or not."""

    form = ClosureAdminForm
    list_display = ("date", "reason", "created_by")
    list_select_related = ("created_by",)
    change_list_template = "scheduling/closure_changelist.html"

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["reason"])
            return
        # The form asked closure_check already; the service asks again under its lock.
        created = services.closure_create(
            day=form.cleaned_data["date"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
            audit=audit_context(request),
        )
        obj.pk, obj.created_by = created.pk, created.created_by

    def get_urls(self):
        own = [
            path(
                "federal-holidays/",
                self.admin_site.admin_view(self.federal_holidays),
                name="scheduling_clinicclosure_holidays",
            )
        ]
        return own + super().get_urls()

    def federal_holidays(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        if request.method == "POST":
            form = HolidayAcceptForm(request.POST)
            if form.is_valid():
                try:
                    services.closure_create(
                        day=form.cleaned_data["day"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                        audit=audit_context(request),
                    )
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
                else:
                    messages.success(request, f"Closed on {when.day(form.cleaned_data['day'])}.")
            else:
                messages.error(request, "Choose a holiday from the list.")
            return redirect("admin:scheduling_clinicclosure_holidays")
        closed = dict(
            ClinicClosure.objects.filter(
                date__gte=today, date__lt=today + timedelta(days=366)
            ).values_list("date", "reason")
        )
        rows = [
            {"day": day, "name": name, "closed": closed.get(day)}
            for day, name in selectors.federal_holidays(today=today)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "US federal holidays in the coming year",
            "rows": rows,
        }
        return TemplateResponse(request, "scheduling/closure_holidays.html", context)


class HolidayAcceptForm(forms.Form):
    day = forms.DateField()
    reason = TextField(max_length=200)

    def clean(self):
        cleaned = super().clean()
        offered = dict(selectors.federal_holidays())
        if cleaned.get("day") not in offered:
            raise forms.ValidationError("Not a coming federal holiday.")
        cleaned["reason"] = offered[cleaned["day"]]
        return cleaned

from django import forms
from django.contrib import admin
from django.db import transaction

from clients.models import CareTeamRole
from clients.services import care_team_add, care_team_end
from scheduling.models import WEEKDAYS, Enrollment, EnrollmentStatus, Group, Room, Slot, Track
from scheduling.services import group_clashes


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "days_per_week",
        "hours_per_session",
        "min_hours_per_week",
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

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        """A facilitator change moves attendance access for every member, through the
        care-team service (the one place that grants client permissions)."""
        group = form.instance
        before = set(group.facilitators.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(group.facilitators.values_list("pk", flat=True))
        if before == after:
            return
        for enrollment in Enrollment.objects.filter(
            group=group, status=EnrollmentStatus.ACTIVE
        ).select_related("client"):
            for member in enrollment.client.care_team.filter(
                source=group.source, ended_on__isnull=True
            ).exclude(staff_id__in=after):
                care_team_end(member=member, actor=request.user)
            for staff in group.facilitators.filter(pk__in=after - before):
                care_team_add(
                    client=enrollment.client,
                    staff=staff,
                    role=CareTeamRole.FACILITATOR,
                    actor=request.user,
                    source=group.source,
                )

"""Configuration the program admin edits: modalities, curricula, note formats.

Notes themselves are not edited here: a draft belongs to its author and a signed
note is locked (ProgressNote.save and the PostgreSQL trigger)."""

from django.contrib import admin

from clinical.notes.models import CurriculumTopic, Modality, NoteFormatDefault


@admin.register(Modality)
class ModalityAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "code", "active", "order")
    list_editable = ("active", "order")
    list_filter = ("active",)


@admin.register(CurriculumTopic)
class CurriculumTopicAdmin(admin.ModelAdmin):
    list_display = ("title", "track", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("track", "active")
    list_select_related = ("track",)
    ordering = ("track__order", "order")


@admin.register(NoteFormatDefault)
class NoteFormatDefaultAdmin(admin.ModelAdmin):
    list_display = ("kind", "format")

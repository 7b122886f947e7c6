from django.contrib import admin

from .models import Annotation, AnnotatorLanguage, AnnotatorProfile, Assignment, Batch, BatchItem


class AnnotatorLanguageInline(admin.TabularInline):
    model = AnnotatorLanguage
    extra = 1


@admin.register(AnnotatorProfile)
class AnnotatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language_list", "created_at"]
    list_filter = ["languages__language", "languages__proficiency"]
    search_fields = ["user__username", "user__email", "note"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    inlines = [AnnotatorLanguageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("languages")

    @admin.display(description="Languages")
    def language_list(self, profile: AnnotatorProfile) -> str:
        return ", ".join(str(language) for language in profile.languages.all())


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    raw_id_fields = ["sample"]
    extra = 0
    show_change_link = True


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "status", "distribution", "overlap", "due", "created_at"]
    list_filter = ["status", "language", "distribution"]
    search_fields = ["name", "instructions"]
    raw_id_fields = ["created_by"]
    filter_horizontal = ["dimensions"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [BatchItemInline]


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    list_display = ["id", "batch", "sample", "is_gold", "position"]
    list_filter = ["is_gold", "batch"]
    raw_id_fields = ["batch", "sample"]
    search_fields = ["batch__name", "sample__id"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "batch", "sample", "annotator", "status", "seconds_spent", "submitted_at"]
    list_filter = ["status", "batch"]
    search_fields = ["annotator__username", "batch__name", "sample__id"]
    raw_id_fields = ["batch", "sample", "annotator"]
    readonly_fields = [
        "created_at",
        "first_served_at",
        "submitted_at",
        "updated_at",
        "seconds_spent",
        "active_seconds",
    ]
    list_select_related = ["batch", "annotator"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "assignment", "flags", "updated_at"]
    search_fields = ["comment", "assignment__annotator__username"]
    raw_id_fields = ["assignment"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["assignment__batch", "assignment__annotator"]

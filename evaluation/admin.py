from django.contrib import admin

from .models import (
    ArenaPrompt,
    ArenaResponse,
    Comparison,
    Dimension,
    Export,
    Judge,
    JudgeRun,
    Judgment,
    Preference,
    Rater,
    Rating,
)


@admin.register(Dimension)
class DimensionAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "kind",
        "level",
        "scale_min",
        "scale_max",
        "position",
        "is_active",
    ]
    list_filter = ["kind", "level", "is_active"]
    search_fields = ["slug", "name", "guidelines"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["position"]


@admin.register(Judge)
class JudgeAdmin(admin.ModelAdmin):
    list_display = ["name", "endpoint", "prompt_version", "created_at"]
    list_filter = ["endpoint", "prompt_version"]
    search_fields = ["name"]
    raw_id_fields = ["endpoint"]
    readonly_fields = ["created_at"]


@admin.register(JudgeRun)
class JudgeRunAdmin(admin.ModelAdmin):
    list_display = ["id", "judge", "mode", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "mode", "judge"]
    search_fields = ["id", "error"]
    raw_id_fields = ["judge", "created_by"]
    filter_horizontal = ["dimensions"]
    readonly_fields = ["created_at", "started_at", "finished_at", "updated_at", "counts", "error"]


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "judge",
        "sample",
        "dimension",
        "prompt_version",
        "succeeded",
        "latency_ms",
        "created_at",
    ]
    list_filter = ["judge", "dimension", "prompt_version"]
    search_fields = ["sample__id", "error", "raw_output"]
    raw_id_fields = ["run", "judge", "sample", "dimension"]
    readonly_fields = ["created_at"]
    list_select_related = ["judge", "dimension"]

    @admin.display(boolean=True)
    def succeeded(self, judgment: Judgment) -> bool:
        return judgment.succeeded


@admin.register(Rater)
class RaterAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "user", "judge", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "judge__name"]
    raw_id_fields = ["user", "judge"]
    readonly_fields = ["created_at"]
    list_select_related = ["user", "judge"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["id", "sample", "dimension", "rater", "value", "updated_at"]
    list_filter = ["dimension", "rater__kind", "sample__language"]
    search_fields = ["sample__id", "rater__user__username", "rater__judge__name", "rationale"]
    raw_id_fields = ["sample", "dimension", "rater"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["sample", "dimension", "rater__user", "rater__judge"]


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Read-mostly: exports are started from the staff page or the API, which queue them."""

    list_display = ["id", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["id", "error"]
    raw_id_fields = ["created_by"]
    readonly_fields = [
        "status",
        "counts",
        "progress",
        "error",
        "directory",
        "files",
        "manifest_path",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    ]
    list_select_related = ["created_by"]


@admin.register(ArenaPrompt)
class ArenaPromptAdmin(admin.ModelAdmin):
    list_display = ["id", "external_id", "language", "domain", "created_at"]
    list_filter = ["language", "domain"]
    search_fields = ["external_id", "text"]
    readonly_fields = ["created_at"]


@admin.register(ArenaResponse)
class ArenaResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "model_name", "created_at"]
    list_filter = ["model_name", "prompt__language"]
    search_fields = ["prompt__external_id", "model_name", "text"]
    raw_id_fields = ["prompt"]
    readonly_fields = ["created_at"]
    list_select_related = ["prompt"]


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "response_a", "response_b", "created_at"]
    list_filter = ["prompt__language"]
    search_fields = ["prompt__external_id", "response_a__model_name", "response_b__model_name"]
    raw_id_fields = ["prompt", "response_a", "response_b"]
    readonly_fields = ["created_at"]
    list_select_related = ["prompt", "response_a__prompt", "response_b__prompt"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["id", "comparison", "rater", "outcome", "winner", "updated_at"]
    list_filter = ["outcome", "rater__kind", "comparison__prompt__language"]
    search_fields = ["comparison__prompt__external_id", "rater__user__username", "rationale"]
    raw_id_fields = ["comparison", "rater", "winner", "shown_first"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["comparison", "rater__user", "rater__judge", "winner__prompt"]

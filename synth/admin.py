from django.contrib import admin
from django.utils.html import format_html

from .languages import get_language
from .models import GenerationCall, GenerationJob, ModelEndpoint, Sample, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "kind", "language", "subset", "is_demo", "created_at"]
    list_filter = ["kind", "language", "is_demo", "subset"]
    search_fields = ["title", "text", "url", "content_hash"]
    readonly_fields = ["content_hash", "created_at"]
    date_hierarchy = "created_at"


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "backend", "model", "base_url", "max_concurrency", "updated_at"]
    list_filter = ["backend"]
    search_fields = ["name", "model", "base_url"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "task_type",
        "endpoint",
        "status",
        "template_version",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "task_type", "endpoint"]
    search_fields = ["id", "error", "template_version"]
    raw_id_fields = ["endpoint", "created_by"]
    readonly_fields = ["created_at", "started_at", "finished_at", "updated_at", "counts", "error"]
    date_hierarchy = "created_at"


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "short_prompt",
        "language",
        "task_type",
        "status",
        "generator",
        "is_demo",
        "created_at",
    ]
    list_filter = ["language", "task_type", "status", "is_demo", "generator"]
    search_fields = ["id", "content_hash", "messages"]
    raw_id_fields = ["job", "source"]
    readonly_fields = ["content_hash", "created_at", "filter_report"]
    list_select_related = ["source"]
    date_hierarchy = "created_at"
    list_per_page = 50

    @admin.display(description="Prompt")
    def short_prompt(self, sample: Sample) -> str:
        prompt = sample.prompt
        language = get_language(sample.language)
        # format_html escapes the text: samples are untrusted model output.
        return format_html(
            '<span lang="{}" dir="{}" style="display:inline-block;min-width:20em">{}</span>',
            language.code,
            language.direction,
            prompt if len(prompt) <= 80 else f"{prompt[:80]}…",
        )


@admin.register(GenerationCall)
class GenerationCallAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "language", "phase", "variant", "finish_reason", "created_at"]
    list_filter = ["language", "phase", "finish_reason"]
    search_fields = ["key", "error"]
    raw_id_fields = ["job", "source"]
    readonly_fields = ["key", "created_at"]

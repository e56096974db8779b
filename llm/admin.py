from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from llm.models import LLMCall, TaskProfile
from llm.selectors import USAGE_GROUPS, usage_report


@admin.register(TaskProfile)
class TaskProfileAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "provider",
        "model",
        "temperature",
        "max_tokens",
        "context_budget",
        "timeout_seconds",
        "max_retries",
        "fallback",
        "cache_enabled",
        "updated_at",
    )
    list_editable = ("temperature", "max_tokens", "cache_enabled")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        (
            "Model",
            {
                "fields": ("provider", "model", "temperature", "max_tokens", "context_budget"),
                "description": "Leave provider and model empty to follow the deployment "
                "settings (LLM_PROVIDER, LLM_MODEL).",
            },
        ),
        ("System prompt", {"fields": ("system_prompt_template",)}),
        (
            "Resilience",
            {
                "fields": (
                    "timeout_seconds",
                    "max_retries",
                    "retry_backoff_seconds",
                    "fallback",
                    "cache_enabled",
                )
            },
        ),
    )


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    change_list_template = "admin/llm/llmcall/change_list.html"
    list_display = (
        "created_at",
        "user",
        "task",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "tokens_estimated",
        "cost_usd",
        "latency_ms",
        "ttft_ms",
        "cache_hit",
        "retries",
        "status",
    )
    list_filter = (
        "status",
        "task",
        "provider",
        "model",
        "cache_hit",
        "fallback_used",
        "tokens_estimated",
    )
    search_fields = ("user__username", "task", "model", "error")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = [f.name for f in LLMCall._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        usage = self.admin_site.admin_view(self.usage_view)
        return [path("usage/", usage, name="llm_llmcall_usage"), *super().get_urls()]

    def usage_view(self, request):
        """Tokens, cost and errors per user, task type, model or day."""
        group = request.GET.get("group", "day")
        group = group if group in USAGE_GROUPS else "day"
        try:
            days = min(max(int(request.GET.get("days", 30)), 1), 366)
        except ValueError:
            days = 30
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Model usage",
            "group": group,
            "groups": list(USAGE_GROUPS),
            "days": days,
            "rows": usage_report(group=group, days=days),
        }
        return TemplateResponse(request, "admin/llm/llmcall/usage.html", context)

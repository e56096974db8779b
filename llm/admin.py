from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from llm.endpoints import connection_test
from llm.models import Endpoint, LLMCall, TaskProfile
from llm.selectors import USAGE_GROUPS, usage_report


class EndpointForm(forms.ModelForm):
    """The key is typed, encrypted on save and never rendered back."""

    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave empty to keep the stored key; none for servers "
        "that take no key (Ollama, llama.cpp).",
    )
    clear_api_key = forms.BooleanField(label="Remove the stored key", required=False)
    profiles = forms.ModelMultipleChoiceField(
        label="Task profiles answered here",
        queryset=TaskProfile.objects.all(),
        required=False,
        widget=FilteredSelectMultiple("task profiles", is_stacked=False),
        help_text="Move task profiles onto this endpoint; one taken out goes back to "
        "the deployment's default.",
    )

    class Meta:
        model = Endpoint
        fields = ("name", "base_url", "model", "api_key_env")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["profiles"].initial = list(self.instance.profiles.all())

    def clean(self):
        data = super().clean()
        if data.get("api_key") and data.get("api_key_env"):
            raise forms.ValidationError(
                "Give the key or the environment variable that holds it, not both."
            )
        return data

    def save(self, commit: bool = True) -> Endpoint:
        endpoint = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            endpoint.set_api_key(self.cleaned_data["api_key"])
        elif self.cleaned_data.get("clear_api_key") or endpoint.api_key_env:
            endpoint.set_api_key("")  # a key read from the environment is not kept too
        if commit:
            endpoint.save()
            self.save_profiles(endpoint)
        return endpoint

    def save_profiles(self, endpoint: Endpoint) -> None:
        chosen = set(self.cleaned_data.get("profiles") or [])
        for profile in TaskProfile.objects.filter(endpoint=endpoint).exclude(
            pk__in=[p.pk for p in chosen]
        ):
            profile.endpoint = None
            profile.save(update_fields=["endpoint", "updated_at"])
        for profile in chosen:
            if profile.endpoint_id != endpoint.pk:
                profile.endpoint = endpoint
                profile.save(update_fields=["endpoint", "updated_at"])


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    change_form_template = "admin/llm/endpoint/change_form.html"
    list_display = ("name", "base_url", "model", "key", "answers", "last_check")
    search_fields = ("name", "base_url", "model")
    readonly_fields = ("key", "last_check", "last_check_report")
    actions = ("test_connection",)
    fieldsets = (
        (None, {"fields": ("name", "base_url", "model")}),
        (
            "Key",
            {
                "fields": ("key", "api_key", "clear_api_key", "api_key_env"),
                "description": "Never stored or shown in plain text.",
            },
        ),
        ("Task profiles", {"fields": ("profiles",)}),
        ("Connection test", {"fields": ("last_check", "last_check_report")}),
    )

    @admin.display(description="key")
    def key(self, endpoint: Endpoint) -> str:
        return endpoint.key_summary() if endpoint.pk else "-"

    @admin.display(description="task profiles")
    def answers(self, endpoint: Endpoint) -> str:
        return ", ".join(p.name for p in endpoint.profiles.all()) or "-"

    @admin.display(description="last connection test")
    def last_check(self, endpoint: Endpoint) -> str:
        if endpoint.last_checked_at is None:
            return "never"
        outcome = "passed" if endpoint.last_check_ok else "failed"
        return f"{outcome}, {endpoint.last_checked_at:%Y-%m-%d %H:%M} UTC"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("profiles")

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        form.save_profiles(form.instance)  # the admin saves with commit=False

    @admin.action(description="Test connection (streaming and structured output)")
    def test_connection(self, request, queryset) -> None:
        for endpoint in queryset:
            self._report(request, endpoint)

    def get_urls(self):
        test = self.admin_site.admin_view(require_POST(self.test_view))
        return [path("<int:pk>/test/", test, name="llm_endpoint_test"), *super().get_urls()]

    def test_view(self, request, pk: int):
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            return redirect("admin:index")
        self._report(request, endpoint)
        return redirect(reverse("admin:llm_endpoint_change", args=[pk]))

    @staticmethod
    def _report(request, endpoint: Endpoint) -> None:
        report = connection_test(endpoint)
        outcome = "works" if report.ok else "does not work"
        level = messages.SUCCESS if report.ok else messages.ERROR
        messages.add_message(
            request,
            level,
            f"{endpoint.name} {outcome}: " + (" · ".join(check.line() for check in report.checks)),
        )


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
        "endpoint",
        "fallback",
        "cache_enabled",
        "updated_at",
    )
    list_editable = ("endpoint", "temperature", "max_tokens", "cache_enabled")
    list_select_related = ("endpoint", "fallback")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        (
            "Model",
            {
                "fields": (
                    "endpoint",
                    "provider",
                    "model",
                    "temperature",
                    "max_tokens",
                    "context_budget",
                    "reply_style",
                ),
                "description": "Choose an endpoint connected under Endpoints, or leave "
                "provider and model empty to follow the deployment settings "
                "(LLM_PROVIDER, LLM_MODEL).",
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
        "allowance",
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
        "allowance",
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

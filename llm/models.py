from decimal import Decimal

from django.conf import settings
from django.db import models


class Provider(models.TextChoices):
    DEFAULT = "", "Deployment default (LLM_PROVIDER)"
    LOCAL = "local", "Local (llama.cpp, in-process)"
    OPENAI = "openai", "OpenAI-compatible endpoint"
    SCRIPTED = "scripted", "Scripted (tests only)"


class TaskProfile(models.Model):
    """How one task type talks to a model. Seeded by a migration, edited in the admin.

    An empty provider or model follows the deployment's settings (LLM_PROVIDER,
    LLM_MODEL), so one environment variable moves every task to a hosted model.
    """

    name = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=20, choices=Provider, blank=True, default="")
    model = models.CharField(max_length=120, blank=True, default="")
    temperature = models.FloatField(default=0.7)
    max_tokens = models.PositiveIntegerField(default=512)
    context_budget = models.PositiveIntegerField(
        default=3000, help_text="Prompt tokens the context builder may use."
    )
    system_prompt_template = models.TextField(
        blank=True, help_text="Variables in braces, e.g. {learner_level}, are filled by name."
    )
    timeout_seconds = models.FloatField(default=60.0)
    max_retries = models.PositiveSmallIntegerField(default=2)
    retry_backoff_seconds = models.FloatField(
        default=0.0, help_text="Base of the exponential backoff; 0 uses the deployment default."
    )
    fallback = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cache_enabled = models.BooleanField(
        default=False, help_text="Cache replies (always on at temperature 0)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def caches(self) -> bool:
        return self.cache_enabled or self.temperature == 0


class CallStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


class LLMCall(models.Model):
    """One gateway call: what it cost, how long it took and how it ended."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="llm_calls",
    )
    task = models.CharField(max_length=40)
    kind = models.CharField(max_length=12, default="stream")
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=120)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    tokens_estimated = models.BooleanField(
        default=False,
        help_text="The endpoint reported no usage and no tokenizer of the model was at "
        "hand: the counts are an estimate (about four characters a token).",
    )
    latency_ms = models.PositiveIntegerField(default=0)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal(0))
    cache_hit = models.BooleanField(default=False)
    retries = models.PositiveSmallIntegerField(default=0)
    fallback_used = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=CallStatus, default=CallStatus.OK)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LLM call"
        indexes = [models.Index(fields=["user", "created_at"], name="llm_call_user_day")]

    def __str__(self) -> str:
        return f"{self.task} · {self.model} · {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

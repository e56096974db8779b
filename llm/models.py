import os
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from llm import keys


class Provider(models.TextChoices):
    DEFAULT = "", "Deployment default (LLM_PROVIDER)"
    LOCAL = "local", "Local (llama.cpp, in-process)"
    OPENAI = "openai", "OpenAI-compatible endpoint"
    SCRIPTED = "scripted", "Scripted (tests only)"


def validate_base_url(value: str) -> None:
    # Not URLField: a compose service name (http://ollama:11434/v1) has no dot in its host.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            "Enter an http:// or https:// address, e.g. http://localhost:11434/v1"
        )


class ReplyStyle(models.TextChoices):
    """How the tutor uses a profile's model (conversations.tutoring)."""

    BY_PROVIDER = "", "By provider (guided on the built-in model, free otherwise)"
    GUIDED = "guided", "Guided: the product's notes and quotes; the model only chats"
    FREE = "free", "Free: the model writes, grounded and checked"


class Endpoint(models.Model):
    """An OpenAI-compatible server that staff connected in the admin (Ollama, a llama.cpp
    server, a hosted API). Task profiles that name it send their calls there.

    Its key comes from an environment variable, or is stored encrypted (llm.keys); the
    plain key is never stored, and the admin shows only its last four characters.
    """

    name = models.CharField(max_length=80, unique=True)
    base_url = models.CharField(
        "base URL",
        max_length=300,
        validators=[validate_base_url],
        help_text="Up to and including /v1: http://localhost:11434/v1 (Ollama), "
        "http://localhost:8080/v1 (llama.cpp), https://api.openai.com/v1.",
    )
    model = models.CharField(
        max_length=200,
        blank=True,
        help_text="The model to ask for. Empty: the one model the endpoint serves.",
    )
    api_key_env = models.CharField(
        "key from environment variable",
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "A variable name, e.g. GROQ_KEY")],
        help_text="Read the key from this environment variable of the server process "
        "instead of storing it.",
    )
    api_key_encrypted = models.TextField(blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_ok = models.BooleanField(null=True, editable=False)
    last_check_report = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, plain: str) -> None:
        self.api_key_encrypted = keys.encrypt(plain) if plain else ""

    def api_key(self) -> str:
        """The key to send; raises keys.KeyUnreadable when the stored one cannot be read."""
        if self.api_key_env:
            return os.environ.get(self.api_key_env, "")
        return keys.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""

    def key_summary(self) -> str:
        """What staff may see of the key."""
        if self.api_key_env:
            found = "set" if os.environ.get(self.api_key_env) else "not set in this process"
            return f"from ${self.api_key_env} ({found})"
        if not self.api_key_encrypted:
            return "none (the endpoint takes no key)"
        try:
            return f"stored encrypted, {keys.hint(self.api_key())}"
        except keys.KeyUnreadable:
            return "stored, but unreadable with the current secret: enter it again"

    def model_name(self) -> str:
        """The model asked for: the one set, else the one the endpoint serves."""
        if self.model:
            return self.model
        # The provider module loads the HTTP client and the tokenizers: every process
        # imports the models at start-up, only an endpoint without a model needs them.
        from llm.providers.openai import endpoint_model

        return endpoint_model(self.base_url, self.api_key())


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
    endpoint = models.ForeignKey(
        Endpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="profiles",
        help_text="Send this task's calls to a connected endpoint; provider and model "
        "above are then not used.",
    )
    cache_enabled = models.BooleanField(
        default=False, help_text="Cache replies (always on at temperature 0)."
    )
    reply_style = models.CharField(
        max_length=10,
        choices=ReplyStyle,
        blank=True,
        default=ReplyStyle.BY_PROVIDER,
        help_text="What the tutor lets this model write. A small model teaches wrong "
        "English: guided replies take their teaching from the grammar notes, the "
        "analysis and the learner's documents.",
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
    # The daily allowance it spent (llm.allowance): the learner's chat, or the work done
    # for her in the background; and the integration whose conversation it analysed (its
    # pk, kept as a plain number: the accounting outlives an integration and needs no
    # reference to the analysis app).
    allowance = models.CharField(
        max_length=12,
        choices=[("chat", "Chat"), ("background", "Background work")],
        default="chat",
    )
    integration = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LLM call"
        indexes = [models.Index(fields=["user", "created_at"], name="llm_call_user_day")]

    def __str__(self) -> str:
        return f"{self.task} · {self.model} · {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

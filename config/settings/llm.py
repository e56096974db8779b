"""Models: the llm/ gateway's providers, accounting, retries and embeddings."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import env

# One variable moves every task profile to a hosted model: LLM_PROVIDER=openai.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="local")
if LLM_PROVIDER not in ("local", "openai", "scripted"):
    raise ImproperlyConfigured(f"LLM_PROVIDER must be local or openai, not {LLM_PROVIDER!r}")
LLM_MODEL = env.str("LLM_MODEL", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
# Tests only: with LLM_PROVIDER=scripted, replies come from this JSON file (see docs).
LLM_SCRIPT_FILE = env.str("LLM_SCRIPT_FILE", default="")
# The in-process model: threads for llama.cpp and its context window.
LLM_LOCAL_THREADS = env.int("LLM_LOCAL_THREADS", default=2)
LLM_LOCAL_CONTEXT = env.int("LLM_LOCAL_CONTEXT", default=4096)
# How long a call may wait for its turn on the in-process model (not counted in the
# profile's timeout, which starts when the call holds the model). A reply waits at most
# for other replies; background work waits for every reply, so its bound is longer.
LLM_LOCAL_QUEUE_SECONDS = env.float("LLM_LOCAL_QUEUE_SECONDS", default=60.0)
LLM_LOCAL_BACKGROUND_QUEUE_SECONDS = env.float("LLM_LOCAL_BACKGROUND_QUEUE_SECONDS", default=900.0)
# A background call stops its generation for a queued reply (and starts it again later)
# at most this often, then finishes even with a reply waiting; 0: no limit, replies
# never wait for a generation, and background work waits for pauses in the chat.
LLM_LOCAL_STEP_ASIDE_LIMIT = env.int("LLM_LOCAL_STEP_ASIDE_LIMIT", default=0)
# Evaluated prompts kept in memory (llama.cpp state, about 23 KB a token for SmolLM2-135M),
# so that a conversation's next turn does not evaluate its history again after background
# work used the model; 0 turns it off.
LLM_LOCAL_STATE_CACHE_MB = env.int("LLM_LOCAL_STATE_CACHE_MB", default=256)
# Tokens (prompt + completion) one user may spend per UTC day on her chat; 0 means no
# limit. Work done for her in the background (analysis, lessons) has allowances of its own
# (llm.allowance), so that it never ends her chat: LLM_BACKGROUND_DAILY_TOKENS for her own
# conversations, and LLM_INTEGRATION_DAILY_TOKENS for each integration's conversations of
# hers. Background work past its allowance waits until midnight UTC, when all renew.
LLM_DAILY_TOKEN_QUOTA = env.int("LLM_DAILY_TOKEN_QUOTA", default=200_000)
LLM_BACKGROUND_DAILY_TOKENS = env.int("LLM_BACKGROUND_DAILY_TOKENS", default=200_000)
LLM_INTEGRATION_DAILY_TOKENS = env.int("LLM_INTEGRATION_DAILY_TOKENS", default=200_000)
# USD per million tokens, (prompt, completion), by model name; unknown models cost 0.
LLM_PRICES: dict[str, list[float]] = env.json(
    "LLM_PRICES",
    default={
        "gpt-4o-mini": [0.15, 0.60],
        "gpt-4o": [2.50, 10.00],
        "gpt-4.1-mini": [0.40, 1.60],
        "gpt-4.1-nano": [0.10, 0.40],
        "llama-3.1-8b-instant": [0.05, 0.08],
        "SmolLM2-135M-Instruct": [0.0, 0.0],
    },
)
# Cached replies of deterministic profiles live this long (in the default cache).
LLM_CACHE_SECONDS = env.int("LLM_CACHE_SECONDS", default=24 * 3600)
# Backoff between retries: base * 2**attempt plus jitter, never longer than the cap
# (a provider's Retry-After is honoured up to the cap as well).
LLM_RETRY_BASE_SECONDS = env.float("LLM_RETRY_BASE_SECONDS", default=0.5)
LLM_RETRY_MAX_SECONDS = env.float("LLM_RETRY_MAX_SECONDS", default=20.0)
# tiktoken downloads its BPE files on first use; off by default so nothing reaches the
# network implicitly. Without the files, OpenAI token counts are an honest estimate.
LLM_TIKTOKEN_DOWNLOAD = env.bool("LLM_TIKTOKEN_DOWNLOAD", default=False)
# Each process keeps task profiles this long (an admin edit reaches other processes
# within it); 0 reads the database on every call.
LLM_PROFILE_CACHE_SECONDS = env.float("LLM_PROFILE_CACHE_SECONDS", default=5.0)

# Embeddings (llm.embed): the embedded default needs no network; `openai` uses any
# OpenAI-compatible /v1/embeddings endpoint (the chat endpoint and key unless set apart).
EMBEDDINGS_PROVIDER = env.str("EMBEDDINGS_PROVIDER", default="local")
if EMBEDDINGS_PROVIDER not in ("local", "openai"):
    raise ImproperlyConfigured(
        f"EMBEDDINGS_PROVIDER must be local or openai, not {EMBEDDINGS_PROVIDER!r}"
    )
EMBEDDINGS_MODEL = env.str("EMBEDDINGS_MODEL", default="text-embedding-3-small")
EMBEDDINGS_BASE_URL = env.str("EMBEDDINGS_BASE_URL", default=OPENAI_BASE_URL)
EMBEDDINGS_API_KEY = env.str("EMBEDDINGS_API_KEY", default=OPENAI_API_KEY)
# 0: learn the dimension from the endpoint's first answer.
EMBEDDINGS_DIM = env.int("EMBEDDINGS_DIM", default=0)
EMBEDDINGS_BATCH_SIZE = env.int("EMBEDDINGS_BATCH_SIZE", default=256)
EMBEDDINGS_TIMEOUT_SECONDS = env.float("EMBEDDINGS_TIMEOUT_SECONDS", default=30.0)
# /health asks the endpoint for its models (GET {OPENAI_BASE_URL}/models) at most this
# often per process; the answer, good or bad, is reused until then.
LLM_HEALTH_PROBE_SECONDS = env.float("LLM_HEALTH_PROBE_SECONDS", default=15.0)

# API keys of endpoints connected in the admin are stored encrypted (Fernet) with a key
# derived from this secret, or from SECRET_KEY when it is empty. Changing it makes the
# stored keys unreadable: staff enter them again (the connection test says so).
LLM_ENDPOINT_KEY_SECRET = env.str("LLM_ENDPOINT_KEY_SECRET", default="")

"""Settings, every one read from the environment with a safe local default.

With nothing set, the product runs on one machine: SQLite in WAL mode, an in-memory
channel layer, the in-process `local` model. `DATABASE_URL` and `REDIS_URL` switch it to
PostgreSQL and Redis; `config.settings.production` hardens it for deployment.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.secret import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state of the embedded mode (the SQLite database).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(VAR_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework_api_key",
    "channels",
    "django_prometheus",
    # ops comes before django_tasks_db so that its concurrent `db_worker` command wins.
    "ops",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "llm",
    "documents",
    "conversations",
    "analysis",
    "teaching",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "config.middleware.SyncMiddlewareChain",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------

# Threads that serve sync code under ASGI (asgiref reads the same variable). The pool is
# sized from it so concurrent requests and websockets wait for a connection, never fail.
ASGI_THREADS = env.int("ASGI_THREADS", default=40)
WORKER_THREADS = env.int("WORKER_THREADS", default=24)
# Threads of numpy's BLAS in each process (ops.apps.limit_blas_threads says why one).
BLAS_THREADS = env.int("BLAS_THREADS", default=1)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=max(ASGI_THREADS, WORKER_THREADS) + 4)

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT", default=20.0),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend, with the writers of one process taking turns on a
            # lock instead of sleeping in SQLite's busy handler (see ops/sqlite/base.py).
            "ENGINE": "ops.sqlite",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets readers proceed while one writer commits; IMMEDIATE takes the
                # write lock up front so transactions wait (busy timeout) instead of
                # failing with "database is locked" when they upgrade from read to write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
            },
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Channels and cache ---------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a group send is one PUBLISH, where the sorted-set layer
            # (channels_redis.core) takes several round trips and the receiving process
            # polls. bench/chat_turns.py, 20 learners back to back: the first token's
            # delivery p50 117-148 -> 5 ms, web CPU per turn 22-23 -> 14 ms. Delivery is
            # at most once with either layer; clients resume from the database.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_PREFIX", default="coach"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CHANNEL_PREFIX", default="coach"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Besides the site's own origin and CSRF_TRUSTED_ORIGINS, full origins (https://host:port)
# whose pages may open websockets (config/websocket.py compares them as CSRF does).
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])

# --- Background tasks -----------------------------------------------------------------

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Queued tasks wake idle workers at once (ops.wake); polling is only the fallback.
WORKER_POLL_INTERVAL = env.float("WORKER_POLL_INTERVAL", default=0.1)
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)
# /health calls the worker down when its last heartbeat is older than this.
WORKER_STALE_SECONDS = env.float("WORKER_STALE_SECONDS", default=30.0)
# Jobs every worker process runs on a timer: dotted path -> seconds between runs.
WORKER_PERIODIC_JOBS: dict[str, float] = {"ops.maintenance.prune_finished_tasks": 3600.0}
# Loaded by every worker before it claims its first task (dotted paths): loading a model
# holds the GIL for seconds, which in the middle of a chat would stall every reply the
# process is streaming.
WORKER_WARMUPS: list[str] = ["llm.embeddings.warm"]
# Finished background-task rows are deleted after this many days.
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", default=2)
# Background jobs (ops.jobs: analysis batches, ingestions, teaching runs; replies have
# their own REPLY_* timings). A running job refreshes its heartbeat this often; the
# sweeper requeues it when the heartbeat is older than JOB_STALE_SECONDS, or when it
# waited JOB_QUEUED_STALE_SECONDS with no task left to run it, and fails it after
# JOB_MAX_ATTEMPTS. A job that raises is retried after JOB_RETRY_BASE_SECONDS * 2**n.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=2.0)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=30.0)
JOB_QUEUED_STALE_SECONDS = env.float("JOB_QUEUED_STALE_SECONDS", default=120.0)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_MAX_SECONDS = env.float("JOB_MAX_SECONDS", default=1800.0)
JOB_RETRY_BASE_SECONDS = env.float("JOB_RETRY_BASE_SECONDS", default=1.0)
WORKER_PERIODIC_JOBS["ops.jobs.jobs_sweep"] = env.float("JOBS_SWEEP_SECONDS", default=10.0)

# --- Auth -----------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.PageNumberPagination",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Counted in the cache: per process in the embedded mode, shared through Redis.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        # Password guessing: signing in, by JWT or on the log-in page, per client address.
        "sign_in": env.str("THROTTLE_SIGN_IN", default="10/min"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
}
SPECTACULAR_SETTINGS = {
    # Native and target language share one choice list: one schema enum, not two.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "accounts.models.Language",
        "JobStatusEnum": "ops.jobs.JobStatus",
    },
    "TITLE": "Curiosity Coach API",
    "DESCRIPTION": "Chat with an AI tutor; every reply streams over /ws/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Static files and i18n ------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Finders let the embedded mode serve static files without a collectstatic step.
WHITENOISE_USE_FINDERS = True

# --- Logging --------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- Models (the llm/ gateway) --------------------------------------------------------

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
# Tokens (prompt + completion) one user may spend per UTC day; 0 means no limit.
LLM_DAILY_TOKEN_QUOTA = env.int("LLM_DAILY_TOKEN_QUOTA", default=200_000)
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
# The openai SDK's HTTP client logs every request at INFO; model calls are logged (and
# accounted) by the gateway already.
LOGGING["loggers"]["httpx2"] = {"level": "WARNING"}

# --- Conversations --------------------------------------------------------------------

# Longest learner message accepted (413 beyond it).
MESSAGE_MAX_CHARS = env.int("MESSAGE_MAX_CHARS", default=8000)
# Streamed text is stored and published at most this often per reply; the first delta
# goes out at once.
REPLY_FLUSH_SECONDS = env.float("REPLY_FLUSH_SECONDS", default=0.03)
# A worker refreshes the heartbeat of each reply it writes this often...
REPLY_HEARTBEAT_SECONDS = env.float("REPLY_HEARTBEAT_SECONDS", default=2.0)
# ...and the sweeper gives a reply up (requeue, or fail after REPLY_MAX_ATTEMPTS tries)
# when its heartbeat is older than this, or when it waited this long with no task left.
REPLY_STALE_SECONDS = env.float("REPLY_STALE_SECONDS", default=30.0)
REPLY_PENDING_STALE_SECONDS = env.float("REPLY_PENDING_STALE_SECONDS", default=120.0)
REPLY_MAX_ATTEMPTS = env.int("REPLY_MAX_ATTEMPTS", default=3)
# A reply still streaming after this long is failed (a model that never stops).
REPLY_MAX_SECONDS = env.float("REPLY_MAX_SECONDS", default=600.0)
# Summarise the turns that left the context window once this many are waiting.
CONTEXT_SUMMARY_MIN_MESSAGES = env.int("CONTEXT_SUMMARY_MIN_MESSAGES", default=4)

# --- Models on any OpenAI-compatible server ------------------------------------------

# /health asks the endpoint for its models (GET {OPENAI_BASE_URL}/models) at most this
# often per process; the answer, good or bad, is reused until then.
LLM_HEALTH_PROBE_SECONDS = env.float("LLM_HEALTH_PROBE_SECONDS", default=15.0)

# --- Structured logs (structlog, django-structlog) ------------------------------------

# "text": readable key=value lines (development); "json": one JSON object per event
# (production's default). Both carry request_id, user_id, conversation_id, task_id and
# duration_ms where they apply (see ops/logs.py).
from ops import logs as _logs  # noqa: E402

LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
INSTALLED_APPS.append("django_structlog")
# After authentication, so that every request's events carry its user's id.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_structlog.middlewares.RequestMiddleware",
)
LOGGING["formatters"].update(_logs.formatters())
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
_logs.configure()

# --- Documents and retrieval ----------------------------------------------------------

# Largest upload accepted (413 beyond it), and the most pages a PDF may have.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
DOCUMENT_MAX_PAGES = env.int("DOCUMENT_MAX_PAGES", default=1000)
# Chunks of at most this many characters, neighbours sharing about OVERLAP of them.
DOCUMENT_CHUNK_CHARS = env.int("DOCUMENT_CHUNK_CHARS", default=800)
DOCUMENT_CHUNK_OVERLAP = env.int("DOCUMENT_CHUNK_OVERLAP", default=120)
# Chunks embedded per llm.embed call during ingestion (progress is reported per batch).
DOCUMENT_EMBED_BATCH = env.int("DOCUMENT_EMBED_BATCH", default=128)
DOCUMENT_INGEST_MAX_ATTEMPTS = env.int("DOCUMENT_INGEST_MAX_ATTEMPTS", default=3)
# Documents one conversation may draw on.
DOCUMENTS_PER_CONVERSATION = env.int("DOCUMENTS_PER_CONVERSATION", default=20)
# Retrieval: the chunks put in a prompt, the candidates each ranking contributes to the
# fusion, reciprocal rank fusion's constant, and the least relevance (cosine plus 3/4 of
# the share of the question's words found in it) a chunk needs to be used; when none
# reaches it the tutor is told nothing relevant was found. See docs/retrieval.md.
RETRIEVAL_TOP_K = env.int("RETRIEVAL_TOP_K", default=5)
RETRIEVAL_CANDIDATES = env.int("RETRIEVAL_CANDIDATES", default=30)
# Lexical search ranks at most this many matching chunks (a common word would have it
# score most of the chunks in scope; dense search still ranks them all).
RETRIEVAL_LEXICAL_MAX_MATCHES = env.int("RETRIEVAL_LEXICAL_MAX_MATCHES", default=1000)
RETRIEVAL_RRF_K = env.int("RETRIEVAL_RRF_K", default=60)
RETRIEVAL_MIN_RELEVANCE = env.float("RETRIEVAL_MIN_RELEVANCE", default=0.5)
# Chunk vectors kept in each process's memory for dense search (about 1 KB per chunk).
RETRIEVAL_VECTOR_CACHE_CHUNKS = env.int("RETRIEVAL_VECTOR_CACHE_CHUNKS", default=200_000)
# Documents one account may keep.
DOCUMENTS_PER_USER = env.int("DOCUMENTS_PER_USER", default=200)

# --- Hardening: sockets, API errors, page security -------------------------------------

# One limit for an incoming websocket message under every server (Daphne and Uvicorn are
# started with it by `manage.py serve`; pass it as --ws-max-size to a bare uvicorn). A
# larger frame closes the socket with 1009, Message Too Big.
WEBSOCKET_MAX_MESSAGE_BYTES = env.int("WEBSOCKET_MAX_MESSAGE_BYTES", default=1024 * 1024)
# A `resume` replays at most this many messages; `resume.done` says whether more follow.
RESUME_PAGE_MESSAGES = env.int("RESUME_PAGE_MESSAGES", default=100)
# The API reads JSON only (form encodings would make every field a string, which the
# schema's types do not allow); nested too deeply for Python's parser is a 400.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["config.parsers.JSONParser"]
# Every status an operation answers with is in the schema (config/schema.py).
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "config.schema.AutoSchema"
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "config.schema.trimmed_strings_need_text",
]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"

# Content-Security-Policy on every response (django-csp), a second wall behind the Markdown
# sanitiser: scripts only from this site's own files, never inline; sockets and fetches
# only to this origin. Inline styles stay allowed (admin, API docs and charts set them);
# style cannot run code.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# A form refused by the CSRF check gets the product's 403 page (config/error_views.py).
CSRF_FAILURE_VIEW = "config.error_views.csrf_failure"
# A password change revokes the JWTs issued before it (REST and open websockets alike).
SIMPLE_JWT["CHECK_REVOKE_TOKEN"] = True

# --- Analysis: language detection and annotation -----------------------------------------

# Languages the detector tells apart (ISO 639-1); lingua is built for these only (each adds
# memory). English is annotated with ERRANT; the others get a lower-confidence token diff.
ANALYSIS_LANGUAGES = env.list("ANALYSIS_LANGUAGES", default=["en", "es", "ko", "fr", "de"])
ANALYSIS_LANGUAGES = [code.strip().lower() for code in ANALYSIS_LANGUAGES if code.strip()]
if not ANALYSIS_LANGUAGES or not all(len(c) == 2 and c.isalpha() for c in ANALYSIS_LANGUAGES):
    raise ImproperlyConfigured(
        f"ANALYSIS_LANGUAGES must be ISO 639-1 codes such as en,es,ko, not {ANALYSIS_LANGUAGES!r}"
    )
# Utterances per model call of the `analysis` profile: 1 (one call each) or a batch in one
# call. Measured with the local model on ten fixture sentences (docs/analysis-core.md): one
# call each was as fast per sentence and far more accurate (F0.5 0.89 vs 0.42).
ANALYSIS_UTTERANCES_PER_CALL = env.int("ANALYSIS_UTTERANCES_PER_CALL", default=1)
if not 1 <= ANALYSIS_UTTERANCES_PER_CALL <= 20:
    raise ImproperlyConfigured("ANALYSIS_UTTERANCES_PER_CALL must be between 1 and 20")

# --- Analysis of learner messages: batches, ingestion, idle end ------------------------

# Learner messages per batch: each batch is analysed by one background task.
ANALYSIS_BATCH_SIZE = env.int("ANALYSIS_BATCH_SIZE", default=10)
if ANALYSIS_BATCH_SIZE < 1:
    raise ImproperlyConfigured("ANALYSIS_BATCH_SIZE must be at least 1")
# Preceding messages (any speaker) sent with each utterance as context.
ANALYSIS_CONTEXT_MESSAGES = 3
# A conversation with no new message for this long is ended (its analysis completes);
# 0 turns the idle timeout off.
ANALYSIS_IDLE_END_SECONDS = env.int("ANALYSIS_IDLE_END_SECONDS", default=30 * 60)
WORKER_PERIODIC_JOBS["analysis.services.conversations_end_idle"] = env.float(
    "ANALYSIS_IDLE_SWEEP_SECONDS", default=60.0
)
WORKER_WARMUPS.append("analysis.annotate.warm")
# Tries of a batch or clustering run before it is marked failed with the reason.
ANALYSIS_MAX_ATTEMPTS = env.int("ANALYSIS_MAX_ATTEMPTS", default=3)
# External ingestion: limits per message, per conversation, and the request rate.
ANALYSIS_INGEST_TEXT_MAX_CHARS = env.int("ANALYSIS_INGEST_TEXT_MAX_CHARS", default=4000)
ANALYSIS_INGEST_MAX_MESSAGES = env.int("ANALYSIS_INGEST_MAX_MESSAGES", default=5000)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["analysis_ingest"] = env.str(
    "THROTTLE_ANALYSIS_INGEST", default="600/min"
)

# --- Teaching modules -------------------------------------------------------------------

# Modules per conversation (all languages together) and per learner-wide run.
TEACHING_MAX_FOCUSES = env.int("TEACHING_MAX_FOCUSES", default=3)
# Mistake groups shown to focus selection per language (the rest are not considered).
TEACHING_MAX_GROUPS = env.int("TEACHING_MAX_GROUPS", default=8)
# Sentences below this priority (1..5), and mistakes of these types, are not taught.
TEACHING_MIN_PRIORITY = env.int("TEACHING_MIN_PRIORITY", default=2)
TEACHING_TRIVIAL_TYPES = env.list("TEACHING_TRIVIAL_TYPES", default=["punctuation"])
# The judge's scores (1..5) a module needs: each at least the minimum, on average the mean.
TEACHING_JUDGE_MIN_SCORE = env.int("TEACHING_JUDGE_MIN_SCORE", default=3)
TEACHING_JUDGE_MIN_MEAN = env.float("TEACHING_JUDGE_MIN_MEAN", default=3.5)
# "target": explanations in the language being learned; "native": in the learner's own.
TEACHING_EXPLANATION_LANGUAGE = env.str("TEACHING_EXPLANATION_LANGUAGE", default="target")
if TEACHING_EXPLANATION_LANGUAGE not in ("target", "native"):
    raise ImproperlyConfigured("TEACHING_EXPLANATION_LANGUAGE must be target or native")
TEACHING_MAX_ATTEMPTS = env.int("TEACHING_MAX_ATTEMPTS", default=3)
# Limits on what a learner writes into their collection.
TEACHING_NOTES_MAX_CHARS = env.int("TEACHING_NOTES_MAX_CHARS", default=2000)
TEACHING_MAX_TAGS = env.int("TEACHING_MAX_TAGS", default=10)
TEACHING_TAG_MAX_CHARS = env.int("TEACHING_TAG_MAX_CHARS", default=30)

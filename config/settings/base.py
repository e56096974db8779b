"""What every process needs: the environment, the apps and middleware, auth, the API,
static files and page security."""

import ipaddress
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


def _proxy_list(entries: list[str]) -> list[str]:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            message = f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            raise ImproperlyConfigured(message) from error
    return entries


# Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs). Empty:
# nobody's, and the client address is the connection's (core.middleware).
TRUSTED_PROXIES = _proxy_list(
    [entry.strip() for entry in env.list("TRUSTED_PROXIES", default=[]) if entry.strip()]
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
    "core",
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
    "django_structlog",
    # Last: the wiring that connects the apps (config/flow.py).
    "config",
]

MIDDLEWARE = [
    # First: everything after it counts and logs by the client's real address.
    "core.middleware.TrustedProxyMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # CommonMiddleware that sends no slash-appending redirects under /api/.
    "core.middleware.ApiCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication, so that every request's events carry its user's id.
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "core.middleware.SyncMiddlewareChain",
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Auth and the API -------------------------------------------------------------------

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
        "core.tokens.RevocableJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every status an operation answers with is in the schema (core/schema.py).
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # The API reads JSON only (form encodings would make every field a string, which the
    # schema's types do not allow); nested too deeply for Python's parser is a 400.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "core.api.PageNumberPagination",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "PAGE_SIZE": 20,
    # REMOTE_ADDR is already the client's (core.middleware.TrustedProxyMiddleware): the
    # throttles must not read X-Forwarded-For themselves.
    "NUM_PROXIES": 0,
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
        # Conversations posted by other systems (analysis' ingestion API).
        "analysis_ingest": env.str("THROTTLE_ANALYSIS_INGEST", default="600/min"),
    },
}
# Failed sign-ins per account, from any address: after SIGN_IN_ACCOUNT_FAILURES within
# SIGN_IN_ACCOUNT_WINDOW_SECONDS, that account's sign-ins are refused until the window ends
# (slows guessing one password from many addresses; accounts.throttles).
SIGN_IN_ACCOUNT_FAILURES = env.int("SIGN_IN_ACCOUNT_FAILURES", default=10)
SIGN_IN_ACCOUNT_WINDOW_SECONDS = env.int("SIGN_IN_ACCOUNT_WINDOW_SECONDS", default=900)
# django-structlog logs the address ipware finds: only the one the middleware settled.
IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    # A password change revokes the JWTs issued before it (REST and open websockets alike).
    "CHECK_REVOKE_TOKEN": True,
    # "Sign out everywhere" revokes them too, refresh tokens included (core.tokens).
    "TOKEN_REFRESH_SERIALIZER": "core.tokens.RevocableTokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    # Native and target language share one choice list: one schema enum, not two.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "accounts.models.Language",
        "JobStatusEnum": "core.jobs.JobStatus",
    },
    "TITLE": "Curiosity Coach API",
    "DESCRIPTION": "Chat with an AI tutor; every reply streams over /ws/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Integrations send `Authorization: Api-Key <key>` (analysis' ingestion API).
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "apiKeyAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An integration's key, sent as `Api-Key <key>`.",
            }
        }
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.trimmed_strings_need_text",
    ],
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

# --- Page security ---------------------------------------------------------------------

# Content-Security-Policy on every response (django-csp), a second wall behind the Markdown
# sanitiser: scripts only from this site's own files, never inline; sockets and fetches
# only to this origin. Inline styles stay allowed (admin, API docs and charts set them);
# style cannot run code.
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
# A form refused by the CSRF check gets the product's 403 page (core/error_views.py).
CSRF_FAILURE_VIEW = "core.error_views.csrf_failure"

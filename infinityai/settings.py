"""Django settings, read top to bottom in sections.

Every value that comes from the environment is declared in `infinityai/config.py`
and read there once; this file only turns typed values into Django settings.
Production and development differ only by those values, never by a separate
settings module that the tests would not run.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from corsheaders.defaults import default_headers

from infinityai.config import BASE_DIR, SERVICE_NAME, derive_signing_key, load
from infinityai.database import databases
from infinityai.logs import logging_config

CONFIG = load()


# --- Core ---------------------------------------------------------------------

DEBUG = CONFIG.DEBUG
# With DEBUG on and no SECRET_KEY, a random key per process start: sessions and
# tokens do not survive a restart, which is acceptable only in development
# (`make run` provides a stable key).
SECRET_KEY = CONFIG.SECRET_KEY or secrets.token_urlsafe(50)

ALLOWED_HOSTS = list(CONFIG.ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS: list[str] = []
if CONFIG.WEBSITE_HOSTNAME:
    ALLOWED_HOSTS.append(CONFIG.WEBSITE_HOSTNAME)
    CSRF_TRUSTED_ORIGINS.append(f"https://{CONFIG.WEBSITE_HOSTNAME}")

ROOT_URLCONF = "infinityai.urls"
WSGI_APPLICATION = "infinityai.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Routes accept an optional trailing slash themselves; a redirect would drop a POST body.
APPEND_SLASH = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Applications ---------------------------------------------------------------

INSTALLED_APPS = [
    "accounts.admin_site.InfinityAdminConfig",  # django.contrib.admin, titled and throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "infinityai.static_files.ServedStaticFilesConfig",  # django.contrib.staticfiles, fewer files
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "infinityai",
    "accounts",
    "health",
]

MIDDLEWARE = [
    # The request id first, so every log line of the request (probes included) carries it;
    # metrics next, so every response is counted whoever answers it.
    "infinityai.request_id.RequestIdMiddleware",
    "infinityai.metrics.MetricsMiddleware",
    # CORS outside the probes, so a browser on the frontend's origin can read /health
    # too; it answers preflights itself and never looks at the Host header.
    "infinityai.middleware.CorsMiddleware",  # corsheaders', skipping probes without Origin
    # 413 for an oversized body on every route, before anything reads it.
    "infinityai.middleware.BodySizeMiddleware",
    # Probes next: /ready and /health answer whatever the Host header says.
    "infinityai.middleware.ProbeMiddleware",
    "infinityai.middleware.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -------------------------------------------------------------------

DATABASES = databases(CONFIG)

# Request threads per process that may wait on the database at once (the rest get an
# outage's answer after a short wait), so a hung database leaves two threads for
# /ready and requests that need no database (infinityai/mysql_backend/waiters.py).
DATABASE_WAITERS = max(1, CONFIG.GUNICORN_THREADS - 2)

HEALTH_DB_TIMEOUT = CONFIG.HEALTH_DB_TIMEOUT

# --- Authentication -------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Database users first; the fallback admin only for a name the database does not
# hold, or when it cannot be reached (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.DatabaseBackend",
    "accounts.backends.FallbackAdminBackend",
]
PASSWORD_HASHERS = [
    "accounts.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
BCRYPT_ROUNDS = CONFIG.BCRYPT_ROUNDS

FALLBACK_LOGIN = {
    "ENABLED": CONFIG.ALLOW_FALLBACK_LOGIN,
    "USERNAME": CONFIG.ADMIN_USERNAME,
    "PASSWORD_HASH": CONFIG.ADMIN_PASSWORD_HASH,
    "PASSWORD": CONFIG.ADMIN_PASSWORD if CONFIG.ADMIN_ALLOW_PLAINTEXT else "",
}

# https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=CONFIG.ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=CONFIG.REFRESH_TOKEN_HOURS),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": CONFIG.TOKEN_SIGNING_KEY or derive_signing_key(SECRET_KEY),
    "ISSUER": SERVICE_NAME,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "CHECK_REVOKE_TOKEN": True,
}

LOGIN_THROTTLE = {
    "FAILURES_PER_USER": CONFIG.LOGIN_FAILURES_PER_USER,
    "FAILURES_PER_CLIENT": CONFIG.LOGIN_FAILURES_PER_CLIENT,
    "WINDOW_SECONDS": CONFIG.LOGIN_LOCKOUT_SECONDS,
}
TRUSTED_PROXY_COUNT = CONFIG.TRUSTED_PROXY_COUNT

# --- Cache ----------------------------------------------------------------------
# Login failure counts and revoked tokens (accounts/cache.py). "default" is shared by
# every instance through Redis when REDIS_URL is set; "local" (only then) is what
# they fall back to while Redis is down. Without REDIS_URL "default" is that cache
# itself: shared by this instance's workers, in the folder gunicorn's master made
# (infinityai/instance_cache.py), or process memory outside gunicorn. Short socket
# timeouts keep a hung Redis from holding requests. Entries: enough that culling
# (random, at the limit) never drops a lockout count under a spray of user names.
# Each alias costs every request a little (Django closes caches after each), so
# there are no more than these.

CACHE_ENTRIES = 100_000
_INSTANCE_CACHE = {
    **({"BACKEND": "infinityai.instance_cache.InstanceFileCache", "LOCATION": CONFIG.INSTANCE_CACHE_DIR}
       if CONFIG.INSTANCE_CACHE_DIR
       else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "instance"}),
    "OPTIONS": {"MAX_ENTRIES": CACHE_ENTRIES},
}
CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CONFIG.REDIS_URL,
                 "KEY_PREFIX": "infinityai", "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
     "local": _INSTANCE_CACHE}
    if CONFIG.REDIS_URL
    else {"default": _INSTANCE_CACHE}
)

# --- API ------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "infinityai.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "infinityai.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS without view docstrings or serializer fields (infinityai/api_views.py).
    "DEFAULT_METADATA_CLASS": "infinityai.api_views.MinimalMetadata",
    # No `?format=` renderer switch on every route (`/health?format=xml` was a 404);
    # /api/schema keeps its own `?format=yaml` (infinityai/schema_views.py).
    "URL_FORMAT_OVERRIDE": None,
}

# Request bodies above this size answer 413 before anything reads them (Django's
# default, 2.5 MB; the API's bodies are a few hundred bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- API schema and /docs -----------------------------------------------------------
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
# Swagger UI's files come from drf-spectacular-sidecar through the static files:
# some operators' browsers cannot reach a CDN.

SPECTACULAR_SETTINGS = {
    "TITLE": "InfinityAI backend API",
    "DESCRIPTION": (
        "Every route answers both at the root and under `/api/` (`/login` and `/api/login`, "
        "`/api/auth/me` and `/auth/me`), with or without a trailing slash; each is listed once, "
        "as the service contract spells it. Errors are JSON `{\"detail\": \"...\"}`, field errors "
        "`{\"<field>\": [\"...\"]}`. Request bodies over 2.5 MB answer 413; a body without "
        "Content-Length (chunked) answers 411."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True},
    "PREPROCESSING_HOOKS": ["infinityai.openapi.one_path_per_route"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "infinityai.openapi.add_error_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and /docs need no credentials, whatever the API's authentication is.
    "SERVE_AUTHENTICATION": [],
}

# --- CORS -----------------------------------------------------------------------

# https://github.com/adamchainz/django-cors-headers#configuration
# No credentials mode: the frontend sends a bearer token, not cookies.
CORS_ALLOWED_ORIGINS = CONFIG.CORS_ALLOW_ORIGINS
CORS_ALLOW_HEADERS = (*default_headers, "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "WWW-Authenticate"]
CORS_PREFLIGHT_MAX_AGE = 600

# --- Security -------------------------------------------------------------------
# App Service terminates TLS and forwards X-Forwarded-Proto.
# https://learn.microsoft.com/azure/app-service/configure-language-python#detect-https-session

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = CONFIG.SECURE_SSL_REDIRECT
# No SECURE_REDIRECT_EXEMPT: ProbeMiddleware answers /ready and /health before
# SecurityMiddleware, so probes are never redirected (it adds the headers below itself).
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Static files ---------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
# Pages name static files through the manifest (hashed names), so the originals are
# never served: without them every worker indexes half as many files at start.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# --- Logging --------------------------------------------------------------------

# One format for Django, the app and gunicorn (gunicorn.conf.py uses the same config);
# secrets are redacted in the formatter. See infinityai/logs.py.

LOGGING = logging_config(CONFIG.LOG_LEVEL, CONFIG.LOG_FORMAT, CONFIG.TRUSTED_PROXY_COUNT)
# Python warnings (e.g. whitenoise's) as log records, not raw lines on stderr.
logging.captureWarnings(True)

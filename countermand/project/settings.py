"""Django settings for Countermand, read from the environment.

`DATABASE_URL` picks the database (default: a SQLite file in the working directory),
`COUNTERMAND_LISTEN_DATABASE_URL` the direct PostgreSQL connection workers LISTEN on when DATABASE_URL goes
through a pooler (default: DATABASE_URL), `COUNTERMAND_SECRET_KEY` signs sessions and derives the key that
encrypts connection passwords.
"""

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")
DEFAULT_SQLITE_NAME = "countermand.db"


def database_from_url(url: str) -> dict[str, Any]:
    """Turn `sqlite:///path` or `postgres://user:pw@host:port/name?options` into a DATABASES entry.

    dj-database-url parses the URL. On top of it: only SQLite and PostgreSQL are accepted; SQLite gets the
    options that let web and worker processes write side by side and a file for the test database;
    PostgreSQL takes `conn_max_age` from the query string, and a query option given twice keeps its last value;
    it never uses server-side cursors (see below).
    """
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ValueError(
            f"DATABASE_URL scheme {scheme!r} is not supported: use sqlite:///path/to/file.db "
            "or postgres://user:password@host:5432/name"
        )
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError:
        # Not the URL itself in the message: it may hold a password.
        raise ValueError(
            "DATABASE_URL is not a valid URL: the port must be a number, and characters such as @ : / in the "
            "user name or password must be percent-quoted (@ is %40)"
        ) from None
    options = {key: value[-1] if isinstance(value, list) else value for key, value in db.pop("OPTIONS", {}).items()}
    if scheme == "sqlite":
        # sqlite:///relative.db is relative to the working directory, sqlite:////abs/file.db absolute;
        # sqlite:// alone is the default file (dj-database-url would make it an in-memory database).
        if url != "sqlite://:memory:" and urlsplit(url).netloc:
            raise ValueError(
                "DATABASE_URL: a SQLite path follows three slashes: sqlite:///relative.db or sqlite:////absolute.db"
            )
        return {
            **db,
            "NAME": DEFAULT_SQLITE_NAME if db["NAME"] == ":memory:" and url != "sqlite://:memory:" else db["NAME"],
            # Web and worker processes write side by side: IMMEDIATE transactions take the write lock
            # up front (no deadlocking lock upgrades), the busy timeout waits instead of failing, and
            # WAL lets readers run while one writes. Options in the URL's query string come on top.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
                **options,
            },
            # Tests use a file (not :memory:) so that worker subprocesses can share the test database.
            "TEST": {
                "NAME": os.environ.get("COUNTERMAND_TEST_SQLITE")
                or str(Path(tempfile.gettempdir()) / f"countermand-test-{os.getpid()}.sqlite3")
            },
        }
    return {
        **db,
        "PORT": str(db.get("PORT") or ""),
        "CONN_MAX_AGE": int(options.pop("conn_max_age", 0)),
        # Always, not only behind a pooler: a server-side cursor (QuerySet.iterator()) is session state — in
        # autocommit it is a WITH HOLD cursor that outlives its transaction, and behind PgBouncer in
        # transaction mode the next fetch lands on another server connection ("cursor does not exist"). The
        # settings cannot tell whether DATABASE_URL names a pooler, and one setting for both keeps what the
        # tests run on PostgreSQL what production runs. The cost is that iterator() reads its whole result
        # at once, in chunks from memory; nothing in Countermand iterates over a result too big for that.
        # (Prepared statements are off too: Django's psycopg default, prepare_threshold None.)
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": options,
    }


DEBUG = env_bool("COUNTERMAND_DEBUG", False)
# Unset: the public development key (countermand.core.crypto.DEVELOPMENT_SECRET_KEY), which production mode refuses
# to start with (crypto.secret_key_require, called by `serve`, `web`, `worker` and the WSGI application).
COUNTERMAND_SECRET_KEY_SET = bool(os.environ.get("COUNTERMAND_SECRET_KEY", "").strip())
SECRET_KEY = os.environ.get("COUNTERMAND_SECRET_KEY", "").strip() or "countermand-insecure-development-key-change-me"
# Earlier keys, comma-separated: sessions they signed and passwords they encrypted stay readable after a rotation
# (`countermand manage secrets_reencrypt` encrypts the stored passwords with the current key).
SECRET_KEY_FALLBACKS = [
    key.strip() for key in os.environ.get("COUNTERMAND_SECRET_KEY_FALLBACKS", "").split(",") if key.strip()
]
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("COUNTERMAND_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("COUNTERMAND_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///countermand.db"))}
# The direct connection (not a pooler) workers LISTEN on: countermand.integration.db.listen_connection_params.
COUNTERMAND_LISTEN_DATABASE_URL = os.environ.get("COUNTERMAND_LISTEN_DATABASE_URL", "").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "countermand.core",
    "countermand.settings",
    "countermand.websites",
    "countermand.customers",
    "countermand.accounts",
    "countermand.orders",
    "countermand.integration",
    "countermand.cancellations",
    "countermand.webhooks",
    "countermand.sandbox_erp",
    "countermand.storefront",
    "countermand.api",
    "countermand.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "countermand.project.middleware.HostileRequestMiddleware",
    "countermand.project.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "countermand.project.urls"
WSGI_APPLICATION = "countermand.project.wsgi.application"

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

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format everywhere, with the time zone (countermand/project/formats/en/formats.py).
FORMAT_MODULE_PATH = "countermand.project.formats"

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("COUNTERMAND_STATIC_ROOT", BASE_DIR.parent / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the apps, so `countermand serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
# Without collectstatic there is no STATIC_ROOT folder; the finders serve the files, so the warning is noise.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "storefront:login"
LOGIN_REDIRECT_URL = "storefront:orders"
LOGOUT_REDIRECT_URL = "storefront:login"

# Security headers; HTTPS-only cookies and HSTS when the operator says the site is behind TLS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
_HTTPS = env_bool("COUNTERMAND_HTTPS", False)
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS
SECURE_HSTS_SECONDS = 31536000 if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _HTTPS else None

# /metrics names connections and job definitions. Open by default (and in the demo); an operator protects it
# with a bearer token (Prometheus: `authorization: {credentials: …}`) and/or an allow-list of client addresses
# or networks. With both set, a scrape must pass both.
METRICS_TOKEN = os.environ.get("COUNTERMAND_METRICS_TOKEN", "").strip()
METRICS_ALLOW = [a.strip() for a in os.environ.get("COUNTERMAND_METRICS_ALLOW", "").split(",") if a.strip()]

# Content-Security-Policy on every response (storefront, console, API docs, API), by django-csp (Mozilla's,
# maintained; Django 5.2 has none built in). Nothing inline runs or styles a page: scripts and styles are static
# files; the one page that needs inline code (Swagger UI, countermand/api/templates/api/swagger_ui.html) marks it
# with the request's nonce, which the header names only on the responses that used it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # Swagger UI's and the admin's icons are data: URIs in their CSS
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

EMAIL_BACKEND = os.environ.get("COUNTERMAND_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("COUNTERMAND_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("COUNTERMAND_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("COUNTERMAND_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("COUNTERMAND_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("COUNTERMAND_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("COUNTERMAND_EMAIL_FROM", "countermand@localhost")
if EMAIL_HOST_USER or os.environ.get("COUNTERMAND_EMAIL_HOST"):
    EMAIL_BACKEND = os.environ.get("COUNTERMAND_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "countermand.api.schema.CountermandAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "countermand.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Unsupported methods (405) and charsets (400) are refused before authentication (countermand/api/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "countermand.api.negotiation.ApiContentNegotiation",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["countermand.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "countermand.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Countermand API",
    "DESCRIPTION": "Order cancellation for B2B commerce. Buyers: `/api/v1/orders…` (their customer's orders "
    "on their websites). Staff: `/api/v1/admin/…` (Django permissions). Errors: `{code, message}`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SetupCheckStateEnum": [(v, v) for v in ("ok", "missing", "warning")],
        "CancellationStateEnum": [(v, v) for v in ("Requested", "Sent", "Confirmed", "Denied", "Failed", "LocalOnly")],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("COUNTERMAND_LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO; the job log already records each ERP call.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

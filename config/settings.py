"""Settings read from the environment (django-environ).

Production differs from development only by environment values. With nothing set, trovon runs
on an embedded SQLite file and Celery runs tasks eagerly, so `make demo` needs no server.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# No default outside DEBUG: a production process without SECRET_KEY refuses to start.
SECRET_KEY = (
    env.str("SECRET_KEY", default="insecure-development-key-not-for-production")
    if DEBUG
    else env.str("SECRET_KEY")
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "rest_framework",
    # API tokens that expire and can be revoked (django-rest-knox; docs/security.md).
    "knox",
    # Two-factor sign-in: TOTP authenticators and recovery codes (fund.two_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "drf_spectacular",
    # Swagger UI and Redoc served from our own static files, not a CDN.
    "drf_spectacular_sidecar",
    # Sign-in lockout (docs/security.md): failures kept in the database, shared by every process.
    "axes",
    "accounting",
    "fund",
    "loans",
    "reports",
    "operations",
]
# The demo fund (`manage.py demo`): data and command for development and the tests, never loaded
# in production (DEBUG off) unless asked for.
if env.bool("TROVON_DEMO", default=DEBUG):
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    # /healthz, /readyz and /metrics answer before host checks and the HTTPS redirect: they are
    # called by compose's healthchecks and Prometheus over the internal network (config/probes.py).
    "config.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (hashed, compressed names) served by the app itself, under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A request id on every log line, with the user and the fund (config/logs.py); the request
    # counted in the metrics (config/metrics.py).
    "config.logs.RequestContextMiddleware",
    "config.metrics.MetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.IgnoreAcceptLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.TwoFactorMiddleware",
    # A session's idle and absolute limits (SESSION_IDLE_TIMEOUT, SESSION_ABSOLUTE_TIMEOUT).
    "config.middleware.SessionLimitsMiddleware",
    # Reports, auditor pages and exports read from the replica when one is configured.
    "config.db_router.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Cache-Control: no-store on every page and API answer (personal data).
    "config.middleware.NoStoreMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its refusal (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "config.context_processors.officer",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'trovon.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# PostgreSQL's two roles (accounting/roles.py, docs/ledger.md §11): the owner runs `migrate`, the
# application connects as the role that owns nothing. Each process's DATABASE_URL names its role.
DATABASE_OWNER_ROLE = env("TROVON_DB_OWNER_ROLE", default="trovon_owner")
DATABASE_APP_ROLE = env("TROVON_DB_APP_ROLE", default="trovon_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The one-time link that lets an officer set their password (a new account, or a reset sent by
# the fund's pages, fund.officers) works this many seconds, and only until it is used.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=48 * 3600)

# Vietnamese first, English through Django i18n.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
# config/locale: the English of the web app's pages (templates, navigation, forms, messages).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
# Django's Vietnamese locale has no input formats and English reads month first; our own
# format modules (config/formats/) make "01/06/2024" mean 1 June in both languages.
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"

# Money: VND has no minor unit; every amount is whole đồng.
CURRENCIES = ("VND",)
DEFAULT_CURRENCY = "VND"
CURRENCY_DECIMAL_PLACES = 0

# Celery: a real Redis broker when configured, eager execution otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# The cache holds the login throttle's counts: shared by every process when Redis is configured.
# Redis is not a single point of failure: the cache answers "miss" when Redis is down
# (config.cache.TolerantRedisCache) and the sessions live in the database alone.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The officer profile and its unit are read with the user (one query instead of three or four).
# (Sessions opened through Django's plain ModelBackend before this setting ask to sign in again.)
# django-axes' backend first: a locked-out account or client is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.auth_backend.OfficerModelBackend",
]
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Keys the database never holds (accounting/signing.py, docs/ledger.md §7): the Ed25519 key that
# signs chain heads (base64 of the raw 32-byte key, or a file holding it), the public keys of
# retired signing keys ("keyid:base64", comma separated) so their heads still verify, the key of
# the entries' request MAC (default: derived from SECRET_KEY), and the folder where the sealer
# keeps the last signed head outside the database (the high-water mark; "" turns it off).
LEDGER_SIGNING_KEY = env.str("LEDGER_SIGNING_KEY", default="")
LEDGER_SIGNING_KEY_FILE = env.str("LEDGER_SIGNING_KEY_FILE", default="")
# A development process (DEBUG at start-up) with no key makes one in var/: read once here, so
# that a command turning DEBUG off for its own run (the demo) still finds it.
LEDGER_DEV_KEY = DEBUG
LEDGER_VERIFY_KEYS = env.list("LEDGER_VERIFY_KEYS", default=[])
LEDGER_MAC_KEY = env.str("LEDGER_MAC_KEY", default="")
LEDGER_HEAD_DIR = env.str("LEDGER_HEAD_DIR", default=str(BASE_DIR / "var" / "heads"))

CELERY_BEAT_SCHEDULE = {
    "ledger-seal": {"task": "accounting.tasks.ledger_seal_task", "schedule": 60.0},
    "audit-seal": {"task": "fund.tasks.audit_seal_task", "schedule": 60.0},
    # Every verification of the books, after the night's close of business (docs/ledger.md §11).
    "integrity-check": {
        "task": "fund.tasks.integrity_check_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # The signed chain heads to the fund officers and auditors, to keep, every Monday.
    "chain-heads-email": {
        "task": "fund.tasks.chain_heads_email_task",
        "schedule": crontab(hour=7, minute=30, day_of_week=1),
    },
    "ledger-turnover-compact": {
        "task": "accounting.tasks.ledger_turnover_compact_task",
        "schedule": 60.0,
    },
    # Close of business of the day that ended, for every fund (catching up any missed day).
    "close-of-business": {
        "task": "loans.tasks.close_of_business_daily_task",
        "schedule": crontab(hour=0, minute=15),
    },
    # After each quarter closes (the 2nd of January, April, July, October from 06:00): the fund's
    # report, then every superior union's in parallel. Asked every quarter of an hour and queued
    # once through the outbox (reports.services.quarterly_reports_schedule), so that a run missed
    # while Redis was down is made when it returns.
    "quarterly-reports": {
        "task": "reports.tasks.quarterly_reports_due_task",
        "schedule": crontab(minute="*/15"),
    },
    # Reminders after the night's close of business: prepare the day's records, queue the sends.
    "reminders-daily": {
        "task": "loans.reminder_tasks.reminders_daily_task",
        "schedule": crontab(hour=7, minute=0),
    },
    # Failed sends whose backoff has run out, and sends left by a worker that died.
    "reminders-retry": {"task": "loans.reminder_tasks.reminders_retry_task", "schedule": 300.0},
    # Outbox rows left pending while Redis was down (the outbox_relay service does it too).
    "outbox-relay": {"task": "fund.tasks.outbox_relay_task", "schedule": 60.0},
}

# The REST API (/api/v1/, config/api_urls.py): token or session sign-in, one access rule per
# view (apicommon.permissions.AccessRolePermission), errors as JSON with a code and the field.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "apicommon.authentication.HeaderCsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apicommon.permissions.AccessRolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apicommon.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apicommon.paging.ApiPagination",
    "DEFAULT_SCHEMA_CLASS": "apicommon.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "apicommon.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("API_LOGIN_RATE", default="20/min")},
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "trovon API",
    "DESCRIPTION": (
        'API của Quỹ Trợ vốn CNVCLĐ nghèo. Số tiền: {"amount": "15220000000", '
        '"currency": "VND"}; tiêu đề Idempotency-Key bắt buộc với mọi thao tác chuyển '
        'tiền; lỗi: {"code", "field", "message"}.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apicommon.errors.add_error_responses",
    ],
    # The docs pages load Swagger UI and Redoc from our static files (drf-spectacular-sidecar):
    # no third-party origin in the page, so a strict Content-Security-Policy can stay strict.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two "kind" enums in the schema (a change request's, a grassroots union's): each named here,
    # so that the change request's keeps the name it had before the union update joined it.
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "loans.models.LoanChangeRequest.Kind",
        "GrassrootsUnionKindEnum": "fund.models.GrassrootsUnion.Kind",
        "DocumentKindEnum": "loans.models.DocumentKind",
    },
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# The file backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend) writes here.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="quy-tro-von@localhost")

# SMS (loans.reminders.channels): console by default; FileSmsBackend or HttpSmsBackend (a JSON
# gateway).
SMS_BACKEND = env.str("SMS_BACKEND", default="loans.reminders.channels.ConsoleSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms"))
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)

# Reminders (loans.reminders.planning): failed sends retried after 5, 10, 20, 40, 80 minutes, then
# left for an officer; a send still "sending" after the lease is treated as interrupted.
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=300)
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=6)
REMINDER_SENDING_LEASE_SECONDS = env.int("REMINDER_SENDING_LEASE_SECONDS", default=900)

# Production hardening, driven by the environment so that `check --deploy` is clean there.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_SSL_REDIRECT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# SECURE_PROXY_SSL_HEADER: with the proxies (TRUSTED_PROXIES), in the operations block below.
# Stated rather than left to Django's defaults, so that tests/test_security_settings.py pins them.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Everything from our own origin, nothing inline (config.middleware: the CSP middleware).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI and Redoc (bundled, served from our static files) write inline styles and Redoc
# runs a web worker from a blob: URL; scripts still come from our origin only.
CONTENT_SECURITY_POLICY_API_DOCS = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
).replace("default-src 'self'", "default-src 'self'; worker-src 'self' blob:")

# One line per event on stderr: JSON in production (LOG_FORMAT=json), each with the request id,
# the user and the fund of the request or Celery task that wrote it (config/logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logs.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(request_id)s %(user)s %(fund)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s %(fund)s] "
            "%(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": env.str("LOG_FORMAT", default="text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Sign-ins, refusals and lockouts (INFO) and the request log are kept in production.
    "loggers": {"trovon": {"level": env.str("TROVON_LOG_LEVEL", default="INFO")}},
}

# --------------------------------------------------------------------------------------------
# Security (issue #18, docs/security.md): client address, sign-in lockout, throttles.

# The reverse proxies in front of the app (addresses or networks, comma-separated), whose
# X-Forwarded-For entries are believed; empty: nobody's, the client is REMOTE_ADDR.
# fund.signin.client_ip is the one reader, for django-axes, DRF's throttles and the logs.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Sign-in lockout (django-axes, kept in the database so every worker sees the same counts):
# LOGIN_FAILURE_LIMIT failures for one user name (from anywhere) OR from one client address (any
# user names: password spraying) lock that name or address for LOGIN_FAILURE_WINDOW seconds.
# Doors: the app's log-in, the admin's, the API token endpoint and the password change.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = LOGIN_FAILURE_WINDOW / 3600  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "fund.signin.client_ip"
AXES_USERNAME_CALLABLE = "fund.signin.axes_username"
AXES_LOCKOUT_CALLABLE = "config.auth_views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Sign-in events are logged by fund.signin (logger "trovon.signin"); axes' own lines repeat them.
LOGGING.setdefault("loggers", {})["axes"] = {"level": "ERROR"}

# Request and upload sizes (docs/security.md, "Uploads"): a form or JSON body up to 2.5 MB, an
# import file up to IMPORT_FILE_MAX_BYTES (the proxy's request_body limit sits just above it),
# files past FILE_UPLOAD_MAX_MEMORY_SIZE spooled to disk, never held whole in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
IMPORT_FILE_MAX_BYTES = env.int("IMPORT_FILE_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
IMPORT_XLSX_MAX_UNCOMPRESSED = env.int("IMPORT_XLSX_MAX_UNCOMPRESSED", default=50 * 1024 * 1024)
# A member's document (loans.documents): at most this size, below the proxy's body limit.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=5 * 1024 * 1024)

# Sessions: signed out after SESSION_IDLE_TIMEOUT seconds without a request and after
# SESSION_ABSOLUTE_TIMEOUT whatever happens (config.middleware.SessionLimitsMiddleware); the
# cookie lasts no longer. API tokens (django-rest-knox) expire API_TOKEN_TTL after they are
# issued, at most API_TOKEN_LIMIT_PER_USER at a time, and are revoked by the sign-out endpoints,
# a password change and a deactivation (fund.signin).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=10 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
REST_KNOX = {
    "TOKEN_TTL": timedelta(seconds=env.int("API_TOKEN_TTL", default=10 * 3600)),
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=10),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# ---------------------------------------------------------------------------------------------
# Operations (issue #17, docs/operations.md): static files, health, logs, metrics, Celery's
# queues and redelivery, the read replica, backups. Kept together to ease merges.
# ---------------------------------------------------------------------------------------------
# Production (DEBUG off): collectstatic (in the image) writes hashed, compressed copies and their
# manifest, which WhiteNoise serves with a far-future cache. Development and the tests (DEBUG on)
# serve the source files under their plain names, without running collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Members' documents (CCCD scans, certificates, contracts, visit photos): never under
    # MEDIA_ROOT nor served by a URL; read only through loans.web.documents' download view.
    # DOCUMENTS_STORAGE_BACKEND names another backend (an S3-compatible bucket,
    # docs/operations.md "Documents"), configured by the DOCUMENTS_STORAGE_OPTIONS JSON.
    "documents": {
        "BACKEND": env.str(
            "DOCUMENTS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "DOCUMENTS_STORAGE_OPTIONS",
            default={
                "location": env.str("DOCUMENTS_ROOT", default=str(BASE_DIR / "var" / "documents")),
                "base_url": None,
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        ),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True) if DEBUG else None
# The public origin(s) behind the proxy, e.g. https://quy.ldld.hanoi.vn (docker-compose.yml).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# /readyz (config/health.py): what "late" means for the nightly work.
READYZ_CLOSE_OF_BUSINESS_MAX_LAG_DAYS = env.int("READYZ_CLOSE_OF_BUSINESS_MAX_LAG_DAYS", default=1)
READYZ_SEAL_MAX_LAG_SECONDS = env.int("READYZ_SEAL_MAX_LAG_SECONDS", default=15 * 60)
# /metrics (config/metrics.py): a bearer token; without one the endpoint answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# X-Forwarded-Proto is believed only when a TLS proxy is declared in front (TRUSTED_PROXIES above:
# the Caddy service of docker-compose.yml); otherwise any client could pass for HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
# Errors to Sentry when a DSN is set (config/logs.py sentry_init, called by wsgi and celery).
SENTRY_DSN = env.str("SENTRY_DSN", default="")

# Celery: a killed worker's task goes back to the queue after the visibility timeout (Redis
# broker); acks late and reject-on-lost above make it redeliverable. Ten minutes: longer than any
# task runs (a close of business of the demo fund takes seconds, a quarterly report under one
# minute), short enough that the night's work is not held up.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_TASK_TRACK_STARTED = True
# Queues by kind, so that workers for each can run on other hosts (`celery worker -Q reports`).
# A worker started without -Q consumes all of them.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name) for name in ("celery", "close_of_business", "reminders", "reports", "ledger")
]
CELERY_TASK_ROUTES = {
    "accounting.tasks.*": {"queue": "ledger"},
    "loans.tasks.close_of_business*": {"queue": "close_of_business"},
    "loans.reminder_tasks.*": {"queue": "reminders"},
    "reports.tasks.*": {"queue": "reports"},
}

# Reads that may lag a moment (reports, the auditor's pages, exports) go to a PostgreSQL streaming
# replica when one is configured (config/db_router.py); every write and every other read stays on
# the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "ATOMIC_REQUESTS": False,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]

# Backups (manage.py backup, restore_drill): where, how many to keep, optional encryption key.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups")))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
BACKUP_PASSPHRASE_FILE = env.str("BACKUP_PASSPHRASE_FILE", default="")

# Two-factor sign-in (fund.two_factor): the issuer shown in the authenticator app.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Quỹ Trợ vốn")

"""harborops settings: one module, configured only by environment variables.

With nothing set you get the *embedded default*: SQLite and a brokerless Celery transport
(kombu's filesystem transport) under ``HARBOROPS_DATA_DIR``. Production sets ``DATABASE_URL``
(PostgreSQL) and ``CELERY_BROKER_URL`` (Redis). Every variable is listed in README.md.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from harborops.env import envbool, envint, envlist, envsecret, envstr
from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("HARBOROPS_DATA_DIR", str(BASE_DIR / "data"))).resolve()

DEBUG = envbool("HARBOROPS_DEBUG", False)
# The embedded default has a development key so that a fresh clone starts; the system check
# harborops.core.E001 refuses it when DEBUG is off and HARBOROPS_PRODUCTION is set.
INSECURE_DEFAULT_SECRET_KEY = "harborops-embedded-default-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = envsecret("HARBOROPS_SECRET_KEY") or INSECURE_DEFAULT_SECRET_KEY
PRODUCTION = envbool("HARBOROPS_PRODUCTION", False)

ALLOWED_HOSTS = envlist("HARBOROPS_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("HARBOROPS_CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("HARBOROPS_SITE_URL", "http://127.0.0.1:8000")

# Behind a TLS-terminating reverse proxy (the documented production setup).
if envbool("HARBOROPS_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_SSL_REDIRECT = envbool("HARBOROPS_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = envbool("HARBOROPS_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("HARBOROPS_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = envbool("HARBOROPS_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = envint("HARBOROPS_SESSION_AGE", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "harborops.core",
    "harborops.audit",
    "harborops.fleet",
    "harborops.ssh",
    "harborops.installs",
    "harborops.events",
    "harborops.access",
    "harborops.maintenance",
    "harborops.certificates",
    "harborops.replication",
    "harborops.alerts",
]

MIDDLEWARE = [
    "harborops.core.middleware.LoopbackHealthProbeMiddleware",  # before host checks and the HTTPS redirect
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "harborops.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "harborops.core.middleware.MetricsMiddleware",
]

ROOT_URLCONF = "harborops.urls"
WSGI_APPLICATION = "harborops.wsgi.application"

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
                "harborops.core.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envsecret("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'harborops.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("HARBOROPS_DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sqlite_file = Path(DATABASES["default"]["NAME"])
    sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # web, worker and beat all write: without IMMEDIATE transactions and a busy timeout,
    # concurrent writers fail with "database is locked" instead of waiting.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("HARBOROPS_SQLITE_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: the real workers of the worker tests open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(sqlite_file.with_name("test-" + sqlite_file.name))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# Login throttling (harborops/core/login_throttle.py): failures per user name and per client address.
LOGIN_FAILURE_LIMIT = envint("HARBOROPS_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = envint("HARBOROPS_LOGIN_FAILURE_WINDOW", 15 * 60)
LOGIN_LOCKOUT_SECONDS = envint("HARBOROPS_LOGIN_LOCKOUT", 15 * 60)
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("HARBOROPS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(envstr("HARBOROPS_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Secrets at rest ------------------------------------------------------------------------
# Comma-separated Fernet keys: the first encrypts, all decrypt. Unset: a 0600 key file in
# DATA_DIR, created on first use (embedded default only; check harborops.core.W002).
SECRET_KEYS = [k.strip() for k in envsecret("HARBOROPS_SECRET_KEYS").split(",") if k.strip()]
SECRET_KEY_FILE = DATA_DIR / "secret-keys"

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = envsecret("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Unique per deployment (and per test run): two harborops on one Redis never mix queues.
        "global_keyprefix": envstr("HARBOROPS_REDIS_KEY_PREFIX", "harborops:"),
        "visibility_timeout": envint("HARBOROPS_REDIS_VISIBILITY_TIMEOUT", 3600),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False  # the reaper, not the broker, brings jobs back
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("HARBOROPS_TASK_TIME_LIMIT", 6 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = envint("HARBOROPS_TASK_SOFT_TIME_LIMIT", 6 * 3600 - 60)
CELERY_TASK_DEFAULT_QUEUE = "periodic"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = build_beat_schedule(SYSTEM_SCHEDULES)
CELERY_TIMEZONE = TIME_ZONE

# Jobs whose worker died: heartbeat every N s; the reaper acts after M s of silence.
JOB_HEARTBEAT_SECONDS = envint("HARBOROPS_JOB_HEARTBEAT_SECONDS", 10)
JOB_STALE_AFTER_SECONDS = envint("HARBOROPS_JOB_STALE_AFTER_SECONDS", 120)
JOB_LOG_RETENTION_DAYS = envint("HARBOROPS_JOB_LOG_RETENTION_DAYS", 90)

# --- Fleet ----------------------------------------------------------------------------------
FLEET_SWEEP_CHUNK = envint("HARBOROPS_SWEEP_CHUNK", 200)            # instances per sweep task
FLEET_SWEEP_CONCURRENCY = envint("HARBOROPS_SWEEP_CONCURRENCY", 100)  # requests in flight per task
FLEET_SWEEP_TIMEOUT = envint("HARBOROPS_SWEEP_TIMEOUT", 10)          # seconds per call; no retries
FLEET_SNAPSHOT_RETENTION_DAYS = envint("HARBOROPS_SNAPSHOT_RETENTION_DAYS", 14)

# --- Harbor installs over SSH (ssh/, installs/) -----------------------------------------------
INSTALLER_DIR = Path(envstr("HARBOROPS_INSTALLER_DIR", str(DATA_DIR / "installers")))  # uploaded bundles
# Preflight minimum:recommended per resource (Harbor's documented 2:4 CPUs, 4:8 GB, 40:160 GB).
INSTALL_THRESHOLDS = envstr("HARBOROPS_INSTALL_THRESHOLDS", "cpus=2:4,memory_gb=4:8,disk_gb=40:160")
INSTALL_COMMAND_TIMEOUT = envint("HARBOROPS_INSTALL_COMMAND_TIMEOUT", 3600)  # seconds per remote step
INSTALL_VERIFY_TIMEOUT = envint("HARBOROPS_INSTALL_VERIFY_TIMEOUT", 600)    # wait for a healthy Harbor
CERT_ROTATE_VERIFY_TIMEOUT = envint("HARBOROPS_CERT_ROTATE_VERIFY_TIMEOUT", 300)  # wait for the new certificate

# --- Harbor audit events (events/) ------------------------------------------------------------
EVENTS_RETENTION_DAYS = envint("HARBOROPS_EVENTS_RETENTION_DAYS", 365)   # stored events older are purged
EVENTS_INGEST_MAX = envint("HARBOROPS_EVENTS_INGEST_MAX", 20000)         # per source per scheduled run
EVENTS_BATCH = envint("HARBOROPS_EVENTS_BATCH", 5000)                    # events per transaction
EVENTS_LEASE_SECONDS = envint("HARBOROPS_EVENTS_LEASE_SECONDS", 600)     # a killed ingest blocks its instance this long

# --- Replication health (harborops/replication; README "Replication") ---------------------------
REPLICATION_HARBOR_TIMEOUT = envint("HARBOROPS_REPLICATION_TIMEOUT", 15)        # seconds per Harbor call
REPLICATION_STUCK_MINUTES = envint("HARBOROPS_REPLICATION_STUCK_MINUTES", 60)   # InProgress longer: stuck
REPLICATION_LAG_HOURS = envint("HARBOROPS_REPLICATION_LAG_HOURS", 26)           # scheduled: no success for
REPLICATION_SCHEDULE_GRACE_MINUTES = envint("HARBOROPS_REPLICATION_SCHEDULE_GRACE_MINUTES", 15)  # late start ok
REPLICATION_HISTORY_DAYS = envint("HARBOROPS_REPLICATION_HISTORY_DAYS", 30)     # executions kept
REPLICATION_FIRST_READ = envint("HARBOROPS_REPLICATION_FIRST_READ", 1000)       # executions read on first collect
REPLICATION_MAX_NEW = envint("HARBOROPS_REPLICATION_MAX_NEW", 5000)             # new executions read per run
REPLICATION_PAIR_SYNC_TIMEOUT = envint("HARBOROPS_REPLICATION_PAIR_SYNC_TIMEOUT", 1800)  # pair setup waits
REPLICATION_PAIR_POLL_SECONDS = envint("HARBOROPS_REPLICATION_PAIR_POLL_SECONDS", 5)      # for its first sync

# --- LDAP login and team mappings (harborops/access; README "Access: LDAP") -------------------
# AUTH_LDAP_* for django-auth-ldap, built from HARBOROPS_LDAP_*; empty HARBOROPS_LDAP_URI = LDAP off.
# ModelBackend stays: local accounts (the first admin) log in when the directory is down.
from harborops.access.ldap_config import auth_ldap_settings  # noqa: E402

globals().update(auth_ldap_settings())
AUTHENTICATION_BACKENDS = ["harborops.access.login.HarboropsLDAPBackend", "django.contrib.auth.backends.ModelBackend"]
ACCESS_APPLY_TIMEOUT = envint("HARBOROPS_ACCESS_TIMEOUT", 15)  # seconds per Harbor call in plan/apply/drift

# --- Garbage collection (harborops/maintenance; README "Garbage collection") -------------------
GC_MAX_CONCURRENT = envint("HARBOROPS_GC_MAX_CONCURRENT", 4)          # GCs at once across the fleet
GC_POLL_SECONDS = envint("HARBOROPS_GC_POLL_SECONDS", 15)             # how often a run polls Harbor
GC_HARBOR_TIMEOUT = envint("HARBOROPS_GC_TIMEOUT", 30)                # seconds per Harbor call
GC_LONG_RUN_HOURS = envint("HARBOROPS_GC_LONG_RUN_HOURS", 20)         # watchdog: before jobservice's 24 h
GC_MAX_AGE_DAYS = envint("HARBOROPS_GC_MAX_AGE_DAYS", 8)              # watchdog: last success older than
GC_MISSED_GRACE_MINUTES = envint("HARBOROPS_GC_MISSED_GRACE_MINUTES", 60)  # a scheduled run may be late
CLEANUP_UNPULLED_DAYS = envint("HARBOROPS_CLEANUP_UNPULLED_DAYS", 90)  # clean-up report: "unpulled for N days"
CLEANUP_QUOTA_PERCENT = envint("HARBOROPS_CLEANUP_QUOTA_PERCENT", 80)  # clean-up report: "over N % of quota"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "harborops.core.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["harborops.core.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "harborops.core.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "harborops API",
    "DESCRIPTION": "Manage a fleet of Harbor registries. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Tags start collapsed, with a filter box: with every operation expanded at once (~140), Swagger UI
    # stopped rendering after the first few operations.
    "SWAGGER_UI_SETTINGS": {"docExpansion": "none", "filter": True, "deepLinking": True},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["harborops.core.api.permissions.RolePermission"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "harborops.core.api.schema.document_error_responses"],
    # One name per choice set that several fields share (keeps `check --deploy` warning-free).
    "ENUM_NAME_OVERRIDES": {
        "InstanceStatusEnum": "harborops.fleet.models.Instance.Status",
        "PreflightStatusEnum": "harborops.access.services.preflight.STATUSES",
        "JobStatusEnum": "harborops.core.models.jobs.JobRun.Status",
        "AuditSourceEnum": "harborops.events.models.Source",
        "InstallerSourceEnum": "harborops.installs.models.Installer.Source",
        "CertificateEndpointStatusEnum": "harborops.certificates.models.Endpoint.Status",
        "CertificateEndpointSourceEnum": "harborops.certificates.models.Endpoint.Source",
        "ManagedCAKeyTypeEnum": "harborops.certificates.models.ManagedCA.KeyType",
        "IssuedCertificateKeyTypeEnum": "harborops.certificates.models.IssuedCertificate.KeyType",
        "ManagedCAScopeEnum": "harborops.certificates.models.ManagedCA.Scope",
        "ManagedCAOriginEnum": "harborops.certificates.models.ManagedCA.Origin",
        "PullingHostRuntimeEnum": "harborops.certificates.models.PullingHost.Runtime",
        "TrustStateEnum": "harborops.certificates.models.TrustState.State",
        "AlertSeverityEnum": "harborops.alerts.models.alerts.SEVERITY_CHOICES",
        "AlertStateEnum": "harborops.alerts.models.alerts.Alert.State",
        "CertificateDeploymentStatusEnum": "harborops.certificates.models.Deployment.Status",
        "CertificateDiskFileKindEnum": "harborops.certificates.models.DiskFile.Kind",
        "CleanupItemKindEnum": "harborops.maintenance.models.CleanupItem.Kind",
    },
}

# --- Alerts (harborops/alerts; README "Alerts") -------------------------------------------------
# Hysteresis: an instance is *down* for alerting after N consecutive failed sweeps or M minutes of
# failures (0 = off), and *up* again after K good sweeps. *_BY_LABEL: "env=lab:5,tier=critical:1"
# (the first label that matches an instance wins).
ALERT_DOWN_AFTER_FAILURES = envint("HARBOROPS_ALERT_DOWN_AFTER_FAILURES", 3)
ALERT_DOWN_AFTER_MINUTES = envint("HARBOROPS_ALERT_DOWN_AFTER_MINUTES", 5)
ALERT_UP_AFTER_SUCCESSES = envint("HARBOROPS_ALERT_UP_AFTER_SUCCESSES", 2)
ALERT_DOWN_AFTER_FAILURES_BY_LABEL = envstr("HARBOROPS_ALERT_DOWN_AFTER_FAILURES_BY_LABEL")
ALERT_DOWN_AFTER_MINUTES_BY_LABEL = envstr("HARBOROPS_ALERT_DOWN_AFTER_MINUTES_BY_LABEL")
ALERT_UP_AFTER_SUCCESSES_BY_LABEL = envstr("HARBOROPS_ALERT_UP_AFTER_SUCCESSES_BY_LABEL")
ALERT_REMINDER_HOURS = envint("HARBOROPS_ALERT_REMINDER_HOURS", 4)             # 0 = no reminders
ALERT_DEGRADED_AFTER_MINUTES = envint("HARBOROPS_ALERT_DEGRADED_AFTER_MINUTES", 5)
ALERT_STORAGE_WARNING_PERCENT = envint("HARBOROPS_ALERT_STORAGE_WARNING_PERCENT", 85)
ALERT_STORAGE_CRITICAL_PERCENT = envint("HARBOROPS_ALERT_STORAGE_CRITICAL_PERCENT", 95)
ALERT_JOB_QUEUE_BACKLOG = envint("HARBOROPS_ALERT_JOB_QUEUE_BACKLOG", 1000)   # pending jobservice jobs
ALERT_DELIVERY_MAX_ATTEMPTS = envint("HARBOROPS_ALERT_DELIVERY_MAX_ATTEMPTS", 8)
ALERT_DELIVERY_BACKOFF_SECONDS = envint("HARBOROPS_ALERT_DELIVERY_BACKOFF_SECONDS", 30)  # doubles per attempt
ALERT_DELIVERY_BACKOFF_MAX_SECONDS = envint("HARBOROPS_ALERT_DELIVERY_BACKOFF_MAX_SECONDS", 3600)
ALERT_DELIVERY_TIMEOUT = envint("HARBOROPS_ALERT_DELIVERY_TIMEOUT", 10)       # seconds per HTTP/SMTP attempt
ALERT_DELIVERY_LEASE_SECONDS = envint("HARBOROPS_ALERT_DELIVERY_LEASE_SECONDS", 120)  # then a killed one resends
ALERT_CHANNEL_FAILING_MINUTES = envint("HARBOROPS_ALERT_CHANNEL_FAILING_MINUTES", 120)
# Email channels always use this backend (the test runner swaps EMAIL_BACKEND, not this).
ALERT_EMAIL_BACKEND = envstr("HARBOROPS_ALERT_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = envstr("HARBOROPS_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("HARBOROPS_EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("HARBOROPS_EMAIL_USER")
EMAIL_HOST_PASSWORD = envsecret("HARBOROPS_EMAIL_PASSWORD")
EMAIL_USE_TLS = envbool("HARBOROPS_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("HARBOROPS_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = ALERT_DELIVERY_TIMEOUT
DEFAULT_FROM_EMAIL = envstr("HARBOROPS_EMAIL_FROM", "harborops@localhost")

# --- Metrics --------------------------------------------------------------------------------
PROMETHEUS_MULTIPROC_DIR = envstr("PROMETHEUS_MULTIPROC_DIR")
# Set: /metrics answers only `Authorization: Bearer <token>` (README "Metrics for Prometheus").
METRICS_TOKEN = envsecret("HARBOROPS_METRICS_TOKEN")
# Instance label keys that become Prometheus labels on per-instance series (keep the set small).
METRICS_INSTANCE_LABELS = envlist("HARBOROPS_METRICS_INSTANCE_LABELS", "env,region,team")

# --- Alert conditions of events, access and jobs (README "Metrics for Prometheus", "Alerts") --
EVENTS_STALL_MINUTES = envint("HARBOROPS_EVENTS_STALL_MINUTES", 30)    # no successful ingest for that long
EVENTS_GAP_ALERT_HOURS = envint("HARBOROPS_EVENTS_GAP_ALERT_HOURS", 24)  # a gap stays an alert that long
JOBS_FAILED_ALERT_HOURS = envint("HARBOROPS_JOBS_FAILED_ALERT_HOURS", 24)  # a failed job stays an alert
SCHEDULE_MISSED_GRACE_MINUTES = envint("HARBOROPS_SCHEDULE_MISSED_GRACE_MINUTES", 5)  # sweep/reaper late by

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = envstr("HARBOROPS_LOG_LEVEL", "INFO")
# Every record is redacted where it is made (core.redaction.install_record_factory, from core's
# AppConfig.ready), so no handler below ever sees a secret.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request at INFO: 4,000 lines a minute from a 1,000-instance sweep and a fifth of its
    # CPU time (docs/benchmarks.md, "Fleet sweep"). Its warnings and errors still show.
    "loggers": {"django.db.backends": {"level": "INFO"}, "httpx": {"level": "WARNING"}},
}

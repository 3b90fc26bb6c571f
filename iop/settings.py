"""One settings module, driven by environment variables (see the README's table).

Debug off is the default: a forgotten variable must fail safe, never expose a
debug page with client data on it.
"""

import json
import os
import re
from datetime import time, timedelta
from decimal import Decimal
from email.utils import formataddr
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Developer defaults from a git-ignored ``.env`` (``make install`` writes one with
    DJANGO_DEBUG=1). Real environment variables always win; production has no file."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


_load_dotenv(BASE_DIR / ".env")
VAR_DIR = Path(os.environ.get("IOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG=1"  # noqa: S105

# Keys the audit trail's hash chain (HMAC-SHA-256). It lives in the environment, never
# in the database: someone who can write the table cannot recompute a valid chain.
IOP_AUDIT_KEY = os.environ.get("IOP_AUDIT_KEY", "")
if not IOP_AUDIT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("IOP_AUDIT_KEY is required when DJANGO_DEBUG is off.")
    IOP_AUDIT_KEY = "insecure-development-audit-key-only-used-with-DJANGO_DEBUG=1"
elif not DEBUG and len(IOP_AUDIT_KEY) < 32:
    raise ImproperlyConfigured("IOP_AUDIT_KEY must be at least 32 characters.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "guardian",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "iop.accounts",
    "iop.audit",
    "iop.notifications",
    "iop.reports",
    "clients",
    "scheduling",
    "clinical",
    "screening",
    "billing",
    # The client portal (/my/): client accounts, apart from staff.
    "portal",
    # Last: seed_demo, seed_scale and bench know every app above (README, "Layout").
    "tooling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before the session limits: their idle sign-out must know an htmx request.
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The client portal's session, before any staff redirect: /my/ answers clients
    # only, and a client gets 404 everywhere else (portal/middleware.py).
    "portal.middleware.PortalMiddleware",
    # Each request builds a person's client scope once per purpose (clients.access).
    "clients.access.RequestScopeMiddleware",
    "iop.accounts.middleware.NoStoreMiddleware",
    "iop.accounts.middleware.HtmxSignInRedirectMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "iop.accounts.middleware.SessionLimitsMiddleware",
    "iop.accounts.middleware.TwoFactorMiddleware",
    # A wrong re-entry at the account's limit: signed out, to the sign-in page.
    "iop.accounts.middleware.ReentryLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must be last: it turns a lockout raised during authentication into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iop.urls"
WSGI_APPLICATION = "iop.wsgi.application"

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
                "iop.accounts.context_processors.navigation",
                "portal.context_processors.portal",
            ],
            # The date and time filters (|day, |moment, |clock...) on every page.
            "builtins": ["iop.templatetags.when"],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'iop.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        # A kept connection is checked before a request reuses it, so a database
        # failover or a pooler restart costs a reconnect, not a failed request.
        conn_health_checks=env_bool("DJANGO_CONN_HEALTH_CHECKS", True),
        # Behind PgBouncer in transaction mode (docs/deploy.md): a server-side cursor
        # outside a transaction would be fetched from on another server connection.
        disable_server_side_cursors=env_bool("DJANGO_DISABLE_SERVER_SIDE_CURSORS", False),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that a Celery worker started by a test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    # The embedded default must serve a small clinic (six staff at once, a worker and
    # beat): WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # when a transaction begins, so a reader turned writer cannot hit "database is
    # locked" mid-transaction (it waits up to the busy timeout instead); synchronous
    # NORMAL is durable in WAL mode across application crashes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
        ),
    }
elif DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DJANGO_PG_JIT_OFF", True):
    # No JIT for the app's short queries: a mis-estimated one (the group note's roster
    # once) paid 100-600 ms of compilation for a few ms of work. Behind PgBouncer, which
    # does not pass startup options, set it on the role instead (docs/deploy.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        # Longer than any task may run (hard limit below), so a slow task is not
        # handed to a second worker; no task is queued with an ETA, rows are the schedule.
        "visibility_timeout": 3600,
        # A page that queues work while Redis is down answers within seconds.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport needs no server: make run works with Python alone.
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # Without it kombu writes control/*.exchange into the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died is delivered again (tasks are idempotent).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    # The rows are the schedule: beat only wakes the sweeper (write due reminders,
    # recover stuck rows, send what is due). See iop/celery.py for why settings.
    "outbox-sweep": {"task": "iop.notifications.tasks.sweep_outbox", "schedule": 60.0},
    "generate-sessions": {"task": "scheduling.tasks.generate_sessions", "schedule": 6 * 3600.0},
    # Truncation after the last checkpoint goes unseen: keep the window short.
    "audit-checkpoint": {"task": "iop.audit.tasks.audit_checkpoint", "schedule": 300.0},
    # A report's file lives 24 hours in private storage.
    "purge-reports": {"task": "iop.reports.tasks.purge_reports", "schedule": 3600.0},
    # A report run whose message the broker lost is sent again (claimed once).
    "requeue-reports": {"task": "iop.reports.tasks.requeue_reports", "schedule": 300.0},
    # Hourly, drawing each clinic day once (SelectionRun.date is unique).
    "random-screen-selection": {
        "task": "screening.tasks.draw_random_selections",
        "schedule": 3600.0,
    },
    "care-team-permissions": {
        "task": "clients.tasks.sync_due_care_team_permissions",
        "schedule": 3600.0,
    },
    # Nightly (07:30 UTC, the small hours in the clinic's zone): charges from what
    # happened, then last month's claims, each checked again (billing.tasks). Idempotent.
    "billing-charges-and-claims": {
        "task": "billing.tasks.build_charges_and_claims",
        "schedule": crontab(minute=30, hour=7),
    },
}

# --- Auth, sessions, 2FA, lockout ---------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that loads the roles with the user (one query less per request).
    "iop.accounts.backends.StaffBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2 (memory-hard, Django's recommendation) for new and upgraded hashes; PBKDF2
# stays listed so hashes made before verify, and are re-hashed at the next sign-in.
PASSWORD_HASHERS = [
    "iop.accounts.hashers.ClinicArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

IOP_REQUIRE_2FA = env_bool("IOP_REQUIRE_2FA", not DEBUG)
IOP_IDLE_TIMEOUT_MINUTES = int(os.environ.get("IOP_IDLE_TIMEOUT_MINUTES", "15"))
IOP_IDLE_WARNING_SECONDS = 120
IOP_SESSION_ABSOLUTE_HOURS = 12
# A signed-in request writes the session's last-seen time when it is older than this, so
# the idle clock moves without a session write on every request.
IOP_SESSION_TOUCH_SECONDS = 5
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # logout deletes the row on the server
SESSION_COOKIE_AGE = IOP_SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Messages can name a client ("Registered with MRN …"): keep them on the server, not
# in the default signed-but-readable cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
OTP_TOTP_ISSUER = "IOP Clinic"

# Lockout by (account, address): five failures lock that account from that address for
# 15 minutes, so a stranger typing a clinician's name elsewhere cannot lock the
# clinician out at the front desk, and colleagues behind the clinic's one address are
# never locked by someone else's typos. A slower limit per account from any address
# (IOP_ACCOUNT_FAILURE_LIMIT in IOP_ACCOUNT_FAILURE_WINDOW) stops guessing spread over
# many addresses. See the README's security section.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "iop.accounts.lockout.ClinicLockoutHandler"
# The same address the audit records: X-Forwarded-For only behind trusted proxies.
AXES_CLIENT_IP_CALLABLE = "iop.audit.services.client_ip"
IOP_ACCOUNT_FAILURE_LIMIT = 30  # failed sign-ins and failed re-entries (below) together
IOP_ACCOUNT_FAILURE_WINDOW = timedelta(hours=1)
# Re-entering the password (or code) to sign, per account across its sessions
# (iop/accounts/reentry.py): after 5 wrong entries in a row re-entry pauses for 15
# minutes, doubling with each further wrong one up to a day; the 5th ends the account's
# sessions. Wrong entries older than the memory are forgotten.
IOP_REENTRY_FAILURE_LIMIT = 5
IOP_REENTRY_PAUSE = timedelta(minutes=15)
IOP_REENTRY_MAX_PAUSE = timedelta(hours=24)
IOP_REENTRY_MEMORY = timedelta(hours=24)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout neither extend it nor count again towards it (they are
# still audited as failed sign-ins, which the per-account limit counts).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False  # axes would otherwise log usernames and addresses

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; only staff ever see clients

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Addresses and the audit trail ---------------------------------------------------
# How many reverse proxies stand in front and append to X-Forwarded-For (compose: 1).
# 0 = trust only the socket's address; the header is the client's to write.
try:
    IOP_TRUSTED_PROXY_COUNT = int(os.environ.get("IOP_TRUSTED_PROXY_COUNT", "0") or 0)
except ValueError as exc:
    raise ImproperlyConfigured("IOP_TRUSTED_PROXY_COUNT must be a whole number.") from exc
if IOP_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("IOP_TRUSTED_PROXY_COUNT must not be negative.")
# Checkpoints of the chain's head, outside the database (also written to the log).
IOP_AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("IOP_AUDIT_CHECKPOINT_FILE", VAR_DIR / "audit-checkpoints.jsonl")
)

# --- Time ---------------------------------------------------------------------------
# The clinic's locale: how every page, print view and client message writes a date and a
# time (iop/when.py; the formats are in iop/formats/<locale>/formats.py). en-us: "Fri, Dec
# 4, 2026", 2:00 PM; en-gb: "Fri 4 Dec 2026", 14:00. Words stay English (USE_I18N off).
LANGUAGE_CODE = os.environ.get("IOP_LOCALE", "en-us").strip().lower() or "en-us"
FORMAT_MODULE_PATH = ["iop.formats"]
_LOCALES = sorted(
    p.parent.name.lower().replace("_", "-")
    for p in (BASE_DIR / "iop" / "formats").glob("*/formats.py")
)
if LANGUAGE_CODE not in _LOCALES:
    raise ImproperlyConfigured(
        f"IOP_LOCALE must be one of {', '.join(_LOCALES)} (a locale with formats in iop/formats)."
    )
USE_I18N = False
USE_TZ = True
TIME_ZONE = os.environ.get("IOP_TIME_ZONE", "America/New_York")  # the clinic's zone; stored UTC
# Phone numbers typed without a country code are read as this region's, stored in E.164.
IOP_PHONE_REGION = os.environ.get("IOP_PHONE_REGION", "US")
# Days between treatment-plan reviews; each review is signed and kept as a new version.
IOP_PLAN_REVIEW_DAYS = int(os.environ.get("IOP_PLAN_REVIEW_DAYS", "30"))
# Breath-alcohol consequence tiers, "removal from,violation from" in g/210 L: a confirmed
# 0.020-0.039 keeps a client off safety-sensitive duty for 24 hours (49 CFR 382.505(a)),
# 0.040 or more is a violation needing a SAP evaluation (382.201, 40.285). A program may
# draw stricter lines, e.g. "0.020,0.020" (every confirmed positive is a violation).
try:
    IOP_BREATH_TIERS = tuple(
        Decimal(part.strip()).quantize(Decimal("0.001"))
        for part in os.environ.get("IOP_BREATH_TIERS", "0.020,0.040").split(",")
    )
except ArithmeticError as exc:
    raise ImproperlyConfigured("IOP_BREATH_TIERS must be two BAC values: 0.020,0.040.") from exc
if len(IOP_BREATH_TIERS) != 2 or not (
    Decimal("0.020") <= IOP_BREATH_TIERS[0] <= IOP_BREATH_TIERS[1] <= Decimal("0.400")
):
    raise ImproperlyConfigured(
        "IOP_BREATH_TIERS must be two rising BAC values from 0.020 to 0.400: 0.020,0.040."
    )
# The edition of The ASAM Criteria new admissions are assessed under: 3 (2013) or 4
# (2023); its level and dimension names are shown. Each episode keeps the edition it
# was assessed under (clients.models.AsamEdition).
IOP_ASAM_EDITION = os.environ.get("IOP_ASAM_EDITION", "3").strip() or "3"
if IOP_ASAM_EDITION not in ("3", "4"):
    raise ImproperlyConfigured("IOP_ASAM_EDITION must be 3 or 4 (the ASAM Criteria edition).")
IOP_ASAM_EDITION = int(IOP_ASAM_EDITION)
# Intensive-outpatient per-diem billing (HCPCS H0015). The HCPCS descriptor describes
# the program ("a treatment program that operates at least 3 hours/day and at least 3
# days/week"); payers differ on what the client must attend. Two rules
# (scheduling.billing.H0015Rule): "program_day" (the descriptor's: any day the client
# attended a session of a program, the track, that operates at least min_hours a day on
# at least min_days days a week) and "client_week" (the client attended at least
# min_hours that day, in a Monday-Sunday week with at least min_days such days).
# IOP_H0015_RULE is the program's default; each payer in IOP_BILLING_RULES (keyed by the
# payer's id) may name its own "h0015_rule", e.g.
# {"acme": {"label": "Acme Health", "min_hours": 3, "min_days": 4, "h0015_rule": "client_week"}}.
H0015_RULES = ("program_day", "client_week")
IOP_H0015_RULE = os.environ.get("IOP_H0015_RULE", "program_day").strip() or "program_day"
if IOP_H0015_RULE not in H0015_RULES:
    raise ImproperlyConfigured(f"IOP_H0015_RULE must be one of {', '.join(H0015_RULES)}.")
try:
    _payer_rules = json.loads(os.environ.get("IOP_BILLING_RULES", "{}") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured("IOP_BILLING_RULES must be a JSON object.") from exc
if not isinstance(_payer_rules, dict):
    raise ImproperlyConfigured("IOP_BILLING_RULES must be a JSON object.")
IOP_BILLING_RULES = {
    "default": {
        "label": "Default (H0015: 3 h a day, 3 days a week)",
        "min_hours": 3,
        "min_days": 3,
    },
    **_payer_rules,
}
for _payer, _rule in IOP_BILLING_RULES.items():
    if (
        not isinstance(_rule, dict)
        or not {"label", "min_hours", "min_days"} <= _rule.keys()
        or _rule.get("h0015_rule", IOP_H0015_RULE) not in H0015_RULES
    ):
        raise ImproperlyConfigured(
            f"IOP_BILLING_RULES[{_payer!r}] needs label, min_hours and min_days, and an "
            f"h0015_rule (if any) of {', '.join(H0015_RULES)}."
        )
# X12 837P envelopes (billing/services/export.py): the submitter id the payer or
# clearinghouse assigned the program (ISA06, GS02, 1000A NM109; blank: the billing
# provider's EIN), the receiver (blank: each payer's own payer id) and the usage
# indicator ISA15, "T" (test) until the receiver has approved production ("P").
IOP_X12_SUBMITTER_ID = os.environ.get("IOP_X12_SUBMITTER_ID", "").strip()
IOP_X12_RECEIVER_ID = os.environ.get("IOP_X12_RECEIVER_ID", "").strip()
IOP_X12_USAGE = os.environ.get("IOP_X12_USAGE", "T").strip().upper() or "T"
if IOP_X12_USAGE not in ("P", "T"):
    raise ImproperlyConfigured("IOP_X12_USAGE must be P (production) or T (test).")
# The length an appointment booking starts from, per kind, in minutes (a 50-minute
# therapy hour, a 25-minute medication check). Override any as JSON in
# IOP_APPOINTMENT_MINUTES, e.g. {"family": 60}; scheduling's system check refuses an
# unknown kind or a length outside what a booking allows.
IOP_APPOINTMENT_MINUTES = json.loads(os.environ.get("IOP_APPOINTMENT_MINUTES", "{}") or "{}")
if not isinstance(IOP_APPOINTMENT_MINUTES, dict):
    raise ImproperlyConfigured('IOP_APPOINTMENT_MINUTES must be a JSON object: {"kind": minutes}.')
IOP_APPOINTMENT_MINUTES = {
    "individual": 50,
    "family": 50,
    "medication": 25,
    "case_management": 30,
    **IOP_APPOINTMENT_MINUTES,
}
# A note signed more than this many hours after its session or appointment ended is a
# late entry (clinical.notes.models.late_entry_after).
IOP_LATE_ENTRY_HOURS = int(os.environ.get("IOP_LATE_ENTRY_HOURS", "72"))
if IOP_LATE_ENTRY_HOURS < 1:
    raise ImproperlyConfigured("IOP_LATE_ENTRY_HOURS must be at least 1.")
# Days a clinical supervisor still reads a supervisee's group note (every client's
# section: Purpose.SUPERVISION) after co-signing it; while it waits, always.
IOP_SUPERVISION_READ_DAYS = int(os.environ.get("IOP_SUPERVISION_READ_DAYS", "30"))
# Days after a discharge the billing role still reaches the client (Purpose.BILLING):
# timely filing (commonly 90 to 365 days from the date of service) and accounts receivable.
IOP_BILLING_REACH_DAYS = int(os.environ.get("IOP_BILLING_REACH_DAYS", "365"))
# Service codes a payer authorizes in units (billing.services.charges): a charge of one of
# them is linked to the client's authorization and a claim line without one is held.
IOP_BILLING_AUTHORIZED_CODES = tuple(
    code.strip().upper()
    for code in os.environ.get("IOP_BILLING_AUTHORIZED_CODES", "H0015").split(",")
    if code.strip()
)
if not all(re.fullmatch(r"[A-Z0-9]{5}", code) for code in IOP_BILLING_AUTHORIZED_CODES):
    raise ImproperlyConfigured(
        "IOP_BILLING_AUTHORIZED_CODES must be HCPCS/CPT codes separated by commas: H0015,90837."
    )
# 42 CFR 2.14(b) (2024 rule): where state law lets a minor obtain substance use disorder
# treatment alone, only the minor may consent to a disclosure. The age from which the
# program's state lets a minor do so (e.g. 12); empty (the default) when state law
# requires a parent's consent, in which case the minor and a parent sign (2.14(c)).
_minors_alone = os.environ.get("IOP_MINORS_CONSENT_ALONE", "").strip()
try:
    IOP_MINORS_CONSENT_ALONE = int(_minors_alone) if _minors_alone else None
except ValueError as exc:
    raise ImproperlyConfigured(
        "IOP_MINORS_CONSENT_ALONE must be an age (a whole number) or empty."
    ) from exc
if IOP_MINORS_CONSENT_ALONE is not None and not 0 <= IOP_MINORS_CONSENT_ALONE < 18:
    raise ImproperlyConfigured("IOP_MINORS_CONSENT_ALONE must be an age from 0 to 17.")


def env_minutes(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, str(default)) or default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number of minutes.") from exc
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative.")
    return value


# Nothing is recorded before it happened: a client is marked present, late or on
# telehealth from this many minutes before their session starts (they arrive early)...
IOP_ATTENDANCE_OPENS_MINUTES = env_minutes("IOP_ATTENDANCE_OPENS_MINUTES", 30)
# ...and absent (excused or not) or as having left early only this many minutes after
# it started, when they could no longer be on their way.
IOP_ABSENCE_GRACE_MINUTES = env_minutes("IOP_ABSENCE_GRACE_MINUTES", 15)

# --- Static files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
REPORTS_DIR = Path(os.environ.get("IOP_REPORTS_DIR", VAR_DIR / "reports"))
# Several web servers and workers share report files only through object storage:
# with IOP_REPORTS_S3_BUCKET set, the files go to that S3-compatible bucket
# (django-storages), private (no ACL, no public URL: run_download streams them);
# otherwise the file system under IOP_REPORTS_DIR. The keys come from the usual
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the instance's role), never settings.
IOP_REPORTS_S3_BUCKET = os.environ.get("IOP_REPORTS_S3_BUCKET", "")
if IOP_REPORTS_S3_BUCKET:
    REPORTS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": IOP_REPORTS_S3_BUCKET,
            "endpoint_url": os.environ.get("IOP_REPORTS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("IOP_REPORTS_S3_REGION") or None,
            "location": os.environ.get("IOP_REPORTS_S3_PREFIX", "reports"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    REPORTS_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(REPORTS_DIR), "base_url": None},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Report files (CSV of client figures): private, never under MEDIA_URL or static;
    # served only by iop.reports.views.run_download to the person who asked.
    "reports": REPORTS_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)

# --- Email --------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
# The sender clients see: a neutral display name and address (a client's inbox is not
# private: no program name), "Name <address>" when a name is set. The deploy check
# warns while the address is still the development default.
IOP_MAIL_FROM_NAME = os.environ.get("IOP_MAIL_FROM_NAME", "").strip()
MAIL_FROM_ADDRESS = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "clinic@localhost").strip()
DEFAULT_FROM_EMAIL = (
    formataddr((IOP_MAIL_FROM_NAME, MAIL_FROM_ADDRESS)) if IOP_MAIL_FROM_NAME else MAIL_FROM_ADDRESS
)

# --- Reminders (iop/notifications) ------------------------------------------------------
IOP_SMS_BACKEND = os.environ.get(
    "IOP_SMS_BACKEND",
    "iop.notifications.channels.ConsoleSmsBackend"
    if DEBUG
    else "iop.notifications.channels.HttpSmsBackend",
)
IOP_SMS_FILE_PATH = os.environ.get("IOP_SMS_FILE_PATH", str(VAR_DIR / "sms.jsonl"))
IOP_SMS_HTTP_URL = os.environ.get("IOP_SMS_HTTP_URL", "")
IOP_SMS_HTTP_TOKEN = os.environ.get("IOP_SMS_HTTP_TOKEN", "")
IOP_SMS_FROM = os.environ.get("IOP_SMS_FROM", "")
# Hours before a session or appointment that a client reminder goes (wall-clock).
IOP_REMINDER_LEAD_HOURS = tuple(
    int(h) for h in os.environ.get("IOP_REMINDER_LEAD_HOURS", "24,2").split(",") if h.strip()
)
# The place a neutral reminder names, and the number it gives to call.
IOP_REMINDER_PLACE = os.environ.get("IOP_REMINDER_PLACE", "200 Harbor Street, Suite 410")
IOP_REMINDER_PHONE = os.environ.get("IOP_REMINDER_PHONE", "(555) 201-0100")
IOP_PROGRAM_NAME = os.environ.get("IOP_PROGRAM_NAME", "Harbor IOP")
# The number the portal's crisis resources give for the program (beside 988 and 911),
# and the one an attendance letter's recipient may call.
IOP_PROGRAM_PHONE = os.environ.get("IOP_PROGRAM_PHONE", IOP_REMINDER_PHONE)
# The client portal's "who looked at my record": staff by role (the default) or, when
# the program prefers, by name and role.
IOP_PORTAL_SHOW_STAFF_NAMES = env_bool("IOP_PORTAL_SHOW_STAFF_NAMES", False)
# When a client drawn for a random test is asked to come by (clinic time, HH:MM).
IOP_CALL_IN_TIME = time.fromisoformat(os.environ.get("IOP_CALL_IN_TIME", "06:30"))
# What the call-in notice asks a client who chose wording that names the program for
# ("Your Harbor IOP team asks for a visit today"); the others get time and place only.
IOP_SCREEN_CALL_IN_WORDS = os.environ.get("IOP_SCREEN_CALL_IN_WORDS", "").strip()[:60] or "a visit"
# Staff reminders: PHQ-9 and GAD-7 are due this many days after the last one.
IOP_MEASURE_INTERVAL_DAYS = int(os.environ.get("IOP_MEASURE_INTERVAL_DAYS", "14"))
# A session that met (or an appointment kept) without a signed note: a task for the
# facilitator or clinician this many hours after it ended, escalated to their clinical
# supervisor after the second number of hours.
IOP_NOTE_TASK_HOURS = int(os.environ.get("IOP_NOTE_TASK_HOURS", "24"))
IOP_NOTE_ESCALATE_HOURS = int(os.environ.get("IOP_NOTE_ESCALATE_HOURS", "72"))
if not 0 < IOP_NOTE_TASK_HOURS <= IOP_NOTE_ESCALATE_HOURS:
    raise ImproperlyConfigured(
        "IOP_NOTE_TASK_HOURS must be above 0 and IOP_NOTE_ESCALATE_HOURS at least as long."
    )
# The daily digest email of open tasks goes at this hour (clinic time, 0-23).
IOP_STAFF_DIGEST_HOUR = int(os.environ.get("IOP_STAFF_DIGEST_HOUR", "7"))
if not 0 <= IOP_STAFF_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("IOP_STAFF_DIGEST_HOUR must be an hour from 0 to 23.")
# Public address of the site, for the one link in the digest email.
IOP_SITE_URL = os.environ.get("IOP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Security headers ---------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script anywhere: every script is a static file from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if not DEBUG:
    _secure = env_bool("DJANGO_SECURE_SSL", True)  # off only behind the test client
    SECURE_SSL_REDIRECT = _secure
    SESSION_COOKIE_SECURE = _secure
    CSRF_COOKIE_SECURE = _secure
    SECURE_HSTS_SECONDS = 31536000 if _secure else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging: no client data; request paths carry only opaque ids ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # Audit checkpoints go to the log whatever the root level: a copy outside the database.
    "loggers": {"iop.audit": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

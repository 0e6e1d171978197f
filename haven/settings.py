"""Haven's one settings module.

Every knob is read here, once, from a ``HAVEN_*`` environment variable with a safe default.
The embedded mode (the default) runs on one machine with SQLite under ``var/``; the
production mode (``HAVEN_ENV=production``) refuses to start with unsafe values.
"""

from __future__ import annotations

import os
import secrets
import stat
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ


def _bool(name: str, default: bool) -> bool:
    raw = ENV.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: list[str]) -> list[str]:
    raw = ENV.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


HAVEN_ENV = ENV.get("HAVEN_ENV", "embedded").strip().lower()
if HAVEN_ENV not in {"embedded", "production"}:
    raise ImproperlyConfigured("HAVEN_ENV must be 'embedded' or 'production'.")
PRODUCTION = HAVEN_ENV == "production"

HAVEN_VAR_DIR = Path(ENV.get("HAVEN_VAR_DIR", str(BASE_DIR / "var"))).resolve()
HAVEN_MEDIA_DIR = Path(ENV.get("HAVEN_MEDIA_DIR", str(HAVEN_VAR_DIR / "media"))).resolve()
HAVEN_KEY_DIR = Path(ENV.get("HAVEN_KEY_DIR", str(HAVEN_VAR_DIR / "keys"))).resolve()
HAVEN_HOST = ENV.get("HAVEN_HOST", "127.0.0.1")
HAVEN_PORT = int(ENV.get("HAVEN_PORT", "8000"))
HAVEN_WORKERS = int(ENV.get("HAVEN_WORKERS", "2"))
# Which faces this process serves: the portal, the workspace (with the API), or both.
HAVEN_FACE = ENV.get("HAVEN_FACE", "both").strip().lower()
if HAVEN_FACE not in {"portal", "workspace", "both"}:
    raise ImproperlyConfigured("HAVEN_FACE must be 'portal', 'workspace' or 'both'.")
# The mission whose portal this host serves (slug); empty means the first mission.
HAVEN_PORTAL_MISSION = ENV.get("HAVEN_PORTAL_MISSION", "")
HAVEN_AUDIT_HEAD_FILE = Path(
    ENV.get("HAVEN_AUDIT_HEAD_FILE", str(HAVEN_VAR_DIR / "audit-head.json"))
).resolve()

DEBUG = _bool("HAVEN_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("HAVEN_DEBUG must be off in production.")


def _embedded_secret_key() -> str:
    """Create the embedded secret key once, readable by its owner only."""
    path = HAVEN_KEY_DIR / "django-secret-key"
    if not path.exists():
        HAVEN_KEY_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(f"{path} must be readable by its owner only (chmod 600).")
    return path.read_text().strip()


SECRET_KEY = ENV.get("HAVEN_SECRET_KEY", "")
if PRODUCTION:
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "HAVEN_SECRET_KEY must be set to a random value of at least 50 characters."
        )
elif not SECRET_KEY:
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = _list(
    "HAVEN_ALLOWED_HOSTS",
    [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("HAVEN_ALLOWED_HOSTS must list the host names to serve.")
CSRF_TRUSTED_ORIGINS = _list("HAVEN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "haven.core",
    "haven.crypto",
    "haven.accounts",
    "haven.audit",
    "haven.registry",
    "haven.intake",
    "haven.cases",
    "haven.monitoring",
    "haven.referrals",
    "haven.reports",
    "haven.coordination",
    # Last: it imports every domain app to fill them with synthetic data.
    "haven.scale",
]

MIDDLEWARE = [
    "haven.core.middleware.RequestIdMiddleware",
    # Under /api/ every error is JSON, including those no API route answered.
    "haven.core.apierrors.ApiErrorMiddleware",
    "haven.crypto.middleware.DataKeyCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "haven.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # After an emergency destruction: a plain "data destroyed" page, not a crash.
    "haven.crypto.destroyed.DestroyedStateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "haven.core.middleware.SessionRefreshMiddleware",
    "haven.core.middleware.HavenLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "haven.core.middleware.FetchMetadataCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "haven.accounts.middleware.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "haven.accounts.middleware.WorkspaceGateMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haven.urls"
WSGI_APPLICATION = "haven.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "haven.core.context_processors.shell",
            ],
        },
    }
]


def _database_from_url(url: str) -> dict[str, object]:
    """Turn ``postgresql://user:pass@host:port/name`` or ``sqlite:///path`` into Django's form."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "haven",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": ENV.get("HAVEN_TEST_DATABASE_NAME", "test_haven")},
        }
    if parts.scheme == "sqlite":
        return _sqlite(Path(unquote(parts.path)))
    raise ImproperlyConfigured("HAVEN_DATABASE_URL must start with postgresql:// or sqlite:///")


def _sqlite(path: Path) -> dict[str, object]:
    # SQLite creates the file but not its folder; folders Haven makes are private.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers work beside the writer; FULL makes every commit durable.
            # secure_delete overwrites removed rows, so shredded keys leave no trace in free pages.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
            " PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA secure_delete=ON;",
            "transaction_mode": "IMMEDIATE",
        },
    }


_db_url = ENV.get("HAVEN_DATABASE_URL", "")
if PRODUCTION and not _db_url.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("Production needs HAVEN_DATABASE_URL pointing at PostgreSQL.")
_default_db = _database_from_url(_db_url) if _db_url else _sqlite(HAVEN_VAR_DIR / "haven.sqlite3")

# The key store holds every subject's wrapped data key, apart from the data, so that a backup
# of the data restored after a subject was shredded cannot read that subject (docs/keys.md).
HAVEN_KEYSTORE_DIR = Path(ENV.get("HAVEN_KEYSTORE_DIR", str(HAVEN_VAR_DIR / "keystore"))).resolve()
_keystore_url = ENV.get("HAVEN_KEYSTORE_URL", "")
if PRODUCTION and not _keystore_url.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "Production needs HAVEN_KEYSTORE_URL: a PostgreSQL database of its own for the key store,"
        " backed up apart from the data (docs/keys.md)."
    )
if _keystore_url:
    _keys_db = _database_from_url(_keystore_url)
elif _default_db["ENGINE"] == "django.db.backends.sqlite3":
    _keys_db = _sqlite(HAVEN_KEYSTORE_DIR / "keystore.sqlite3")
else:
    # A development or test server: a database of its own on the same server.
    _keys_db = {**_default_db, "NAME": f"{_default_db['NAME']}_keystore"}
    _keys_db["TEST"] = {"NAME": f"{ENV.get('HAVEN_TEST_DATABASE_NAME', 'test_haven')}_keystore"}
DATABASES = {"default": _default_db, "keys": _keys_db}
DATABASE_ROUTERS = ["haven.crypto.router.KeyStoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 15},
    },
    {"NAME": "haven.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:desk"

# Sessions live on the server: logout deletes them, and an idle session dies after 30 minutes.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 30 * 60
# Slid forward at most once a minute by haven.core.middleware.SessionRefreshMiddleware.
SESSION_SAVE_EVERY_REQUEST = False
HAVEN_SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
HAVEN_SESSION_ABSOLUTE = timedelta(hours=12)
HAVEN_REAUTH_WINDOW = timedelta(minutes=5)

# The headquarters dashboard (every mission of a viewer) keeps its counts this long in the
# cache of the process: reading every mission's rows at each visit would take seconds. Both
# dashboards keep the regions their filter offers this long too.
HAVEN_DASHBOARD_CACHE_SECONDS = 300

# Lockout per username, never per address: behind Tor every visitor shares one address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=int(ENV.get("HAVEN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "haven.accounts.views.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True
AXES_USERNAME_CALLABLE = "haven.accounts.lockout.username_key"
AXES_CLIENT_IP_CALLABLE = "haven.accounts.lockout.no_address"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# axes.W006 asks for the address in the lockout key. Keying on it would let one address lock
# out everyone behind Tor or a mission's shared gateway, so it is deliberately left out.
# security.W003 looks for Django's CSRF middleware by its dotted name; ours is a subclass
# (haven.core.middleware.FetchMetadataCsrfMiddleware) and haven.E001 checks it is present.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W003"]

OTP_TOTP_ISSUER = "Haven"
OTP_TOTP_TOLERANCE = 1
OTP_WEBAUTHN_RP_ID = ENV.get("HAVEN_WEBAUTHN_RP_ID", "localhost" if not PRODUCTION else "")
OTP_WEBAUTHN_RP_NAME = "Haven"
OTP_WEBAUTHN_ALLOWED_ORIGINS = _list(
    "HAVEN_WEBAUTHN_ORIGINS",
    # Browsers treat only https and http://localhost as secure for security keys.
    [] if PRODUCTION else [f"http://localhost:{HAVEN_PORT}"],
)
if PRODUCTION and not (OTP_WEBAUTHN_RP_ID and OTP_WEBAUTHN_ALLOWED_ORIGINS):
    raise ImproperlyConfigured(
        "Production needs HAVEN_WEBAUTHN_RP_ID and HAVEN_WEBAUTHN_ORIGINS for security keys."
    )

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# E-mail carries the daily digest only (counts, never case content). Without an SMTP host the
# digest is printed on the console, as suits the embedded mode.
HAVEN_SMTP_HOST = ENV.get("HAVEN_SMTP_HOST", "")
if HAVEN_SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = HAVEN_SMTP_HOST
    EMAIL_PORT = int(ENV.get("HAVEN_SMTP_PORT", "587"))
    EMAIL_HOST_USER = ENV.get("HAVEN_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = ENV.get("HAVEN_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = _bool("HAVEN_SMTP_TLS", True)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = ENV.get("HAVEN_MAIL_FROM", "haven@localhost")
# Where the digest tells people to sign in (the workspace's address as staff reach it).
HAVEN_DESK_URL = ENV.get("HAVEN_DESK_URL", f"http://{HAVEN_HOST}:{HAVEN_PORT}/desk/")

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("ru", "Русский"),
]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [BASE_DIR / "haven" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_HTTPONLY = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(ENV.get("HAVEN_STATIC_ROOT", str(HAVEN_VAR_DIR / "static")))
# The embedded server serves its own static files; production puts a reverse proxy in front.
HAVEN_SERVE_STATIC = _bool("HAVEN_SERVE_STATIC", not PRODUCTION)

# Bodies and fields are capped: oversized input gets a clear 4xx, never a crash. The framework's
# caps sit well above what any of Haven's forms can hold, so that a person who pastes too much
# or picks too many files meets Haven's own limits (the form shown again, nothing typed lost)
# and only hostile requests meet the framework's bare 400. Files beyond HAVEN_ATTACHMENTS_MAX
# are skipped unread by the upload handler (core/uploads.py); the framework's count stops
# only requests no file picker makes.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
# Uploads are encrypted as they arrive (never plaintext on disk) and cut off beyond this size
# per file.
FILE_UPLOAD_HANDLERS = ["haven.core.uploads.EncryptedSpoolUploadHandler"]
HAVEN_UPLOAD_MAX_BYTES = int(ENV.get("HAVEN_UPLOAD_MAX_BYTES", str(25 * 1024 * 1024)))
# Receipt passphrases are stretched with Argon2id at this cost (libsodium's "interactive":
# about 70 ms and 64 MiB on one core), so guessing them offline costs as much.
HAVEN_RECEIPT_KDF_OPSLIMIT = int(ENV.get("HAVEN_RECEIPT_KDF_OPSLIMIT", "2"))
HAVEN_RECEIPT_KDF_MEMLIMIT = int(ENV.get("HAVEN_RECEIPT_KDF_MEMLIMIT", str(64 * 1024 * 1024)))
# A portal request may carry this many files (each at most HAVEN_UPLOAD_MAX_BYTES).
HAVEN_ATTACHMENTS_MAX = int(ENV.get("HAVEN_ATTACHMENTS_MAX", "10"))
# Every portal form carries a signed, single-use token; a post is taken only between these
# ages of its token (seconds): quicker is a robot, older is a page left open too long. Either
# way the form is shown again with what was typed. The minimum is off by default: a password
# manager fills and sends a receipt at once, and the budgets already stop quick robots before
# any expensive work (docs/portal-limits.md).
HAVEN_PORTAL_FORM_MIN_SECONDS = float(ENV.get("HAVEN_PORTAL_FORM_MIN_SECONDS", "0"))
HAVEN_PORTAL_FORM_MAX_SECONDS = int(ENV.get("HAVEN_PORTAL_FORM_MAX_SECONDS", str(6 * 3600)))
# A registry import refuses files with more data lines than this.
HAVEN_IMPORT_MAX_ROWS = int(ENV.get("HAVEN_IMPORT_MAX_ROWS", "50000"))

# Headers of SECURITY.md item 9.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = _bool("HAVEN_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-haven-session"
    CSRF_COOKIE_NAME = "__Host-haven-csrf"

# -- crypto --
# Where the key-encryption keys and the blind-index key come from (docs/keys.md):
# "file" (embedded): key files in HAVEN_KEY_DIR, created 0600 at first use;
# "env" (production): a secrets directory the deployment mounts, never written by Haven.
HAVEN_KEY_PROVIDER = ENV.get("HAVEN_KEY_PROVIDER", "file").strip().lower()
if HAVEN_KEY_PROVIDER not in {"file", "env"}:
    raise ImproperlyConfigured("HAVEN_KEY_PROVIDER must be 'file' or 'env'.")
HAVEN_KEY_SECRETS_DIR = ENV.get("HAVEN_KEY_SECRETS_DIR", "")
if HAVEN_KEY_PROVIDER == "env" and not HAVEN_KEY_SECRETS_DIR:
    raise ImproperlyConfigured(
        "HAVEN_KEY_PROVIDER=env needs HAVEN_KEY_SECRETS_DIR, the directory where the key"
        " secrets are mounted."
    )
# A key in the key store that no row uses (a write that crashed after the key store committed,
# haven.crypto.commits) is removed by the orphan check once it is this old: long enough that no
# write still under way can be about to use it (docs/keys.md).
_orphan_grace_hours = int(ENV.get("HAVEN_ORPHAN_KEY_GRACE_HOURS", "24"))
if _orphan_grace_hours < 1:
    raise ImproperlyConfigured("HAVEN_ORPHAN_KEY_GRACE_HOURS must be at least 1.")
HAVEN_ORPHAN_KEY_GRACE = timedelta(hours=_orphan_grace_hours)
# Tests only: the name of a point in haven.crypto.commits where the process stops at once
# (os._exit), to prove what a crash there leaves behind. Refused in production.
HAVEN_TEST_CRASH_POINT = ENV.get("HAVEN_TEST_CRASH_POINT", "")
if PRODUCTION and HAVEN_TEST_CRASH_POINT:
    raise ImproperlyConfigured("HAVEN_TEST_CRASH_POINT must not be set in production.")
# Written by emergency destruction (docs/emergency.md); while it exists the workspace and the
# API answer "data destroyed" (haven.crypto.destroyed.DestroyedStateMiddleware).
HAVEN_DESTRUCTION_CERTIFICATE = Path(
    ENV.get("HAVEN_DESTRUCTION_CERTIFICATE", str(HAVEN_VAR_DIR / "destruction-certificate.json"))
).resolve()

# Logs carry request ids and event names, never personal data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "haven.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": ENV.get("HAVEN_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger repeats paths and, on errors, request details.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "ERROR"},
        # pikepdf announces its logging bridge on import; it says nothing useful.
        "pikepdf": {"level": "WARNING"},
    },
}

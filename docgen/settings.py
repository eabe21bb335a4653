"""Settings: one frozen tree read from the environment at start; every problem reported at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from docgen.keys import ApiKey, key_problems, parse_key_lines
from docgen.logs import LogFormat
from docgen.mail import SmtpSettings

__all__ = [
    "ConverterSettings",
    "DeliverySettings",
    "LimitSettings",
    "S3Settings",
    "Settings",
    "SettingsError",
    "load_settings",
    "require_api_keys",
    "require_link_secret",
]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class S3Settings(msgspec.Struct, frozen=True):
    endpoint: str  # host:port the service and workers use
    public_endpoint: str  # host:port people's browsers reach (presigned URLs are signed for it)
    access_key: str
    secret_key: str
    bucket: str
    region: str  # explicit, or presigning makes a network call (DESIGN §4)
    secure: bool


class ConverterSettings(msgspec.Struct, frozen=True):
    # host:port of running unoservers; empty means the process starts its own.
    addresses: tuple[str, ...]
    unoserver_bin: str
    fontconfig_file: str
    timeout_s: float
    pool_size: int  # K LibreOffice instances per worker (one per core by default)
    # Threads that render and hand documents to the pool: K + 1 by default, so that one
    # document is rendered while K convert (docs/BENCHMARKS.md §5).
    render_threads: int
    max_conversions: int  # an instance is recycled after this many conversions
    max_memory_mb: int  # … or when its processes' resident memory passes this


class DeliverySettings(msgspec.Struct, frozen=True):
    # Signs the links emailed to people; API and workers must share it. Empty: links cannot be
    # made, and `docgen serve`/`docgen worker` refuse to start.
    link_secret: str
    link_ttl_days: int  # how long an emailed link works (it is re-presigned on each click)
    smtp: SmtpSettings | None  # None: no SMTP configured, emails are recorded as failed
    webhook_secret: str
    webhook_timeout_s: float
    # Tests receive webhooks on loopback over http; production refuses both (SSRF).
    webhook_allow_http: bool
    webhook_allow_private: bool
    max_attempts: int  # per email or webhook, with exponential backoff between them
    # Whom people should ask for a new link, on the download page's "expired" answer, e.g.
    # "请联系省教育厅职成处（010-12345678）". Empty: the page names the submitting platform generally.
    link_help: str = ""


class LimitSettings(msgspec.Struct, frozen=True):
    """Per tenant, so that one platform cannot starve the others."""

    jobs_per_minute: int  # job creations in one fixed minute window
    max_open_jobs: int  # jobs queued or running at once


class Settings(msgspec.Struct, frozen=True):
    redis_url: str
    s3: S3Settings
    converter: ConverterSettings
    delivery: DeliverySettings
    limits: LimitSettings
    public_base_url: str
    # Who may call the API; empty: `docgen serve` refuses to start (every call would be a 401).
    api_keys: tuple[ApiKey, ...]
    templates_dir: str
    log_level: str
    log_format: LogFormat  # json (one object a line, for collectors) or text (people)
    redelivery_after_s: float  # a killed worker's messages come back after this
    # `docgen expire` removes what is older, except each attachment's latest version and the
    # inputs a batch regenerates from; 0 keeps everything (the default: a ministry may ask).
    retention_days: int = 0
    # The reconciler (docgen/reconcile.py): one worker a turn, every `interval`; work counts as
    # lost when untouched for `after` with no message for it.
    reconcile_interval_s: float = 60.0
    reconcile_after_s: float = 300.0


class SettingsError(Exception):
    """Every invalid variable at once, each naming the variable to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def text(name: str, default: str) -> str:
        return env.get(name, default).strip()

    def number(name: str, default: float) -> float:
        raw = env.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{name}={raw!r}: expected a number")
            return default
        if value <= 0:
            problems.append(f"{name}={raw!r}: must be greater than 0")
        return value

    def flag(name: str, default: bool) -> bool:
        raw = env.get(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        problems.append(f"{name}={raw!r}: expected true or false")
        return default

    def host_port(name: str, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            problems.append(f"{name}={value!r}: expected host:port")
        return value

    s3_endpoint = host_port("DOCGEN_S3_ENDPOINT", text("DOCGEN_S3_ENDPOINT", "127.0.0.1:8333"))
    public_s3 = text("DOCGEN_S3_PUBLIC_ENDPOINT", "") or s3_endpoint
    host_port("DOCGEN_S3_PUBLIC_ENDPOINT", public_s3)
    addresses = tuple(a.strip() for a in text("DOCGEN_CONVERTERS", "").split(",") if a.strip())
    for address in addresses:
        host_port("DOCGEN_CONVERTERS", address)
    pool_size = int(number("DOCGEN_CONVERTER_POOL_SIZE", os.cpu_count() or 1))

    base_url = text("DOCGEN_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        problems.append(f"DOCGEN_PUBLIC_BASE_URL={base_url!r}: expected an absolute http(s) URL")

    smtp_host = text("DOCGEN_SMTP_HOST", "")
    smtp_security = text("DOCGEN_SMTP_SECURITY", "starttls")
    if smtp_security not in ("none", "starttls", "ssl"):
        problems.append(f"DOCGEN_SMTP_SECURITY={smtp_security!r}: expected none, starttls or ssl")
        smtp_security = "starttls"
    smtp = (
        SmtpSettings(
            host=smtp_host,
            port=int(number("DOCGEN_SMTP_PORT", 587)),
            security=smtp_security,  # type: ignore[arg-type]
            username=text("DOCGEN_SMTP_USERNAME", ""),
            password=env.get("DOCGEN_SMTP_PASSWORD", ""),
            sender=text("DOCGEN_SMTP_FROM", "docgen@localhost"),
        )
        if smtp_host
        else None
    )
    link_secret = env.get("DOCGEN_LINK_SECRET", "")
    if link_secret and len(link_secret) < 32:
        problems.append("DOCGEN_LINK_SECRET: at least 32 characters (it signs emailed links)")
    delivery = DeliverySettings(
        link_secret=link_secret,
        link_ttl_days=int(number("DOCGEN_LINK_TTL_DAYS", 30)),
        smtp=smtp,
        webhook_secret=env.get("DOCGEN_WEBHOOK_SECRET", ""),
        webhook_timeout_s=number("DOCGEN_WEBHOOK_TIMEOUT", 10.0),
        webhook_allow_http=flag("DOCGEN_WEBHOOK_ALLOW_HTTP", False),
        webhook_allow_private=flag("DOCGEN_WEBHOOK_ALLOW_PRIVATE", False),
        max_attempts=int(number("DOCGEN_DELIVERY_ATTEMPTS", 6)),
        link_help=text("DOCGEN_LINK_HELP", ""),
    )

    templates_dir = text("DOCGEN_TEMPLATES_DIR", str(_PROJECT_ROOT / "doc_templates"))
    if not (Path(templates_dir) / "manifest.json").is_file():
        problems.append(f"DOCGEN_TEMPLATES_DIR={templates_dir!r}: no manifest.json there")

    log_format = text("DOCGEN_LOG_FORMAT", "json").lower()
    if log_format not in ("json", "text"):
        problems.append(f"DOCGEN_LOG_FORMAT={log_format!r}: expected json or text")
        log_format = "json"

    retention = env.get("DOCGEN_RETENTION_DAYS", "0").strip()
    if not (retention.isascii() and retention.isdigit()):
        problems.append(f"DOCGEN_RETENTION_DAYS={retention!r}: expected a whole number of days")
        retention = "0"

    settings = Settings(
        redis_url=text("DOCGEN_REDIS_URL", "redis://127.0.0.1:6379/0"),
        s3=S3Settings(
            endpoint=s3_endpoint,
            public_endpoint=public_s3,
            access_key=text("DOCGEN_S3_ACCESS_KEY", ""),
            secret_key=text("DOCGEN_S3_SECRET_KEY", ""),
            bucket=text("DOCGEN_S3_BUCKET", "docgen"),
            region=text("DOCGEN_S3_REGION", "us-east-1"),
            secure=flag("DOCGEN_S3_SECURE", False),
        ),
        converter=ConverterSettings(
            addresses=addresses,
            unoserver_bin=text(
                "DOCGEN_UNOSERVER_BIN", str(_PROJECT_ROOT / ".venv-uno/bin/unoserver")
            ),
            fontconfig_file=text(
                "DOCGEN_FONTCONFIG_FILE", str(_PROJECT_ROOT / "deploy/fontconfig/fonts.conf")
            ),
            # 120 s: the default; a 3,000-row list took ≈23 s here (DESIGN §4).
            timeout_s=number("DOCGEN_CONVERSION_TIMEOUT", 120.0),
            pool_size=pool_size,
            render_threads=int(number("DOCGEN_RENDER_THREADS", pool_size + 1)),
            # 200: JODConverter's default; Gotenberg restarts every 10 (DESIGN §4).
            max_conversions=int(number("DOCGEN_CONVERTER_MAX_CONVERSIONS", 200)),
            max_memory_mb=int(number("DOCGEN_CONVERTER_MAX_MEMORY_MB", 1024)),
        ),
        delivery=delivery,
        limits=LimitSettings(
            # 60 a minute: a platform submits a community's year once; a loop is a bug.
            jobs_per_minute=int(number("DOCGEN_RATE_LIMIT_PER_MINUTE", 60)),
            # 200: a provincial platform's whole year at once, still one worker-hour at most.
            max_open_jobs=int(number("DOCGEN_MAX_OPEN_JOBS", 200)),
        ),
        public_base_url=base_url,
        api_keys=_api_keys(env, problems),
        templates_dir=templates_dir,
        log_level=text("DOCGEN_LOG_LEVEL", "INFO").upper(),
        log_format=log_format,  # type: ignore[arg-type]  # checked above
        # dramatiq's default; shorter means a slow conversion may be delivered twice (harmless:
        # documents are idempotent), longer means a crash delays the work it held.
        redelivery_after_s=number("DOCGEN_REDELIVERY_AFTER", 60.0),
        retention_days=int(retention),
        # Each pass reads every job of the last week once: a minute keeps that cheap, and a lost
        # job waits at most `after` + a minute.
        reconcile_interval_s=number("DOCGEN_RECONCILE_INTERVAL", 60.0),
        # Longer than a conversion's timeout (120 s) plus a retry's backoff: see docgen/reconcile.
        reconcile_after_s=number("DOCGEN_RECONCILE_AFTER", 300.0),
    )
    if problems:
        raise SettingsError(problems)
    return settings


def _api_keys(env: Mapping[str, str], problems: list[str]) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    path = env.get("DOCGEN_API_KEYS_FILE", "").strip()
    if path:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            problems.append(f"DOCGEN_API_KEYS_FILE={path!r}: {exc.strerror}")
        else:
            found, wrong = parse_key_lines(text, f"DOCGEN_API_KEYS_FILE={path!r}")
            keys += found
            problems += wrong
    inline = env.get("DOCGEN_API_KEYS", "").strip()
    if inline:
        try:
            found = msgspec.json.decode(inline, type=list[ApiKey])
        except msgspec.DecodeError as exc:
            problems.append(f"DOCGEN_API_KEYS: expected a JSON array of keys: {exc}")
        else:
            keys += found
            problems += [f"DOCGEN_API_KEYS: {p}" for k in found for p in key_problems(k)]
    ids = [k.id for k in keys]
    if len(set(ids)) != len(ids):
        problems.append(
            f"DOCGEN_API_KEYS(_FILE): key ids used twice: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    if len({k.sha256 for k in keys}) != len(keys):
        problems.append("DOCGEN_API_KEYS(_FILE): one key hash configured twice")
    return tuple(keys)


def require_api_keys(settings: Settings) -> None:
    """Without a key, every call to the API would be refused: say so at start instead."""
    if not settings.api_keys:
        raise SettingsError(
            [
                "DOCGEN_API_KEYS_FILE or DOCGEN_API_KEYS: at least one key is required by "
                "`docgen serve` (create one with `docgen keys create --tenant T --role client`)"
            ]
        )


def require_link_secret(settings: Settings) -> None:
    """The API and workers sign links people receive; without a shared secret they cannot."""
    if not settings.delivery.link_secret:
        raise SettingsError(
            [
                "DOCGEN_LINK_SECRET: required by `docgen serve` and `docgen worker` "
                "(at least 32 characters, the same for both; e.g. `openssl rand -hex 32`)"
            ]
        )

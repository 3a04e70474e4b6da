"""Configuration from the environment, with safe defaults and production guards."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from consent.passwords import MINIMUM_PRODUCTION_MEMORY_KIB, HashingCost
from integrations.registry import CARD_AUTHORITIES, OQS_BACKENDS
from store.location import default_database_url, instance_dir  # noqa: F401 - instance_dir: also web.config's

APP_ENVS = ("development", "sandbox", "production")


class ConfigError(RuntimeError):
    """The configuration is unsafe or inconsistent; the service must not start."""


def _local_secret_key(name: str = "secret_key") -> str:
    """Development/sandbox only: one key shared by all workers, kept under INSTANCE_DIR."""
    folder = instance_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        # O_EXCL: two workers starting together must end up with the same key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return path.read_text().strip()


@dataclass
class Settings:
    app_env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    rp_id: str = "localhost"
    origins: list[str] = field(default_factory=list)
    port: int = 5000
    # Patients must finish within this many days ahead (configurable per deployment).
    max_days_ahead: int = 30
    challenge_ttl_seconds: int = 300
    staff_idle_minutes: int = 30
    # However active, a staff session ends this long after sign-in.
    staff_absolute_hours: int = 12
    patient_idle_minutes: int = 30
    max_json_bytes: int = 1024 * 1024
    max_upload_bytes: int = 2 * 1024 * 1024
    # Card reads a minute: per browser session, per card, per client address (CARD_RATE_LIMITS).
    card_reads_per_session: int = 10
    card_reads_per_card: int = 5
    card_reads_per_address: int = 300
    # A card read still waiting for the card after this long tells the patient what to do next.
    card_read_advice_seconds: int = 60
    log_requests: bool = True
    # Rate limits counted in Redis (REDIS_URL, e.g. redis://127.0.0.1:6379/0) instead of the
    # database; REDIS_PREFIX keeps deployments sharing one Redis apart.
    redis_url: str = ""
    redis_prefix: str = "mynareception:"
    # Proxy hops whose X-Forwarded-For/-Proto are believed; 0: forwarded headers are ignored.
    trusted_proxies: int = 0
    # GET /metrics (Prometheus) only when on, and only to these addresses or CIDR ranges.
    metrics: bool = False
    metrics_allow: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    # Waits on the database while a person waits (seconds): PostgreSQL connect and pool checkout;
    # one statement (PostgreSQL statement_timeout, SQLite's busy timeout). Operator commands wait longer.
    db_connect_timeout: float = 3.0
    db_statement_timeout: float = 5.0
    # Which implementation stands behind each national system. Only the embedded ones exist
    # so far; production must name them and say that synthetic data is acceptable.
    oqs_backend: str = "simulator"
    card_authority: str = "embedded"
    allow_simulators: bool = True
    # The audit chain's key (AUDIT_KEY) and retired keys kept to verify older entries (AUDIT_KEYS).
    audit_key: str = field(default="", repr=False)
    audit_keys: list[str] = field(default_factory=list, repr=False)
    # Encrypts webhook signing secrets at rest (WEBHOOK_KEY); never stored in the database.
    webhook_key: str = field(default="", repr=False)
    # The instant this deployment started keying its audit chains (AUDIT_KEYED_SINCE): a fact kept
    # outside the database, so a version-1 (unkeyed) entry dated at or after it fails verification.
    audit_keyed_since: datetime | None = None
    # Argon2id cost of staff passwords (ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM).
    password_hashing: HashingCost = field(default_factory=HashingCost)

    @property
    def sandbox(self) -> bool:
        return self.app_env == "sandbox"

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def uses_simulators(self) -> bool:
        """Synthetic people and cards stand behind the service (pages then say so)."""
        return self.oqs_backend == "simulator" or self.card_authority == "embedded"

    @property
    def secure_cookies(self) -> bool:
        # Browsers treat http://localhost as secure; anywhere else we are behind HTTPS.
        return not all(urlsplit(o).hostname in ("localhost", "127.0.0.1") for o in self.origins)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, check_only: bool = False, **overrides) -> "Settings":
        """Settings from the environment; ConfigError names every problem, one per line.

        `check_only` validates without creating INSTANCE_DIR's database or secret key.
        """
        env = dict(os.environ if env is None else env)
        problems: list[str] = []
        app_env = overrides.pop("app_env", None) or env.get("APP_ENV", "development")
        port = overrides.pop("port", None) or _int_from(env, "PORT", 5000, 1, 65535, problems)
        rp_id = overrides.pop("rp_id", None) or env.get("RP_ID", "localhost")
        origins = overrides.pop("origins", None)
        if origins is None:
            raw = env.get("ORIGINS", "")
            origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()] or [
                f"http://localhost:{port}"
            ]
        settings = cls(
            app_env=app_env,
            database_url=overrides.pop("database_url", None) or env.get("DATABASE_URL", ""),
            secret_key=overrides.pop("secret_key", None) or env.get("SECRET_KEY", ""),
            rp_id=rp_id,
            origins=list(origins),
            port=port,
        )
        settings.max_days_ahead = _int_from(env, "MAX_DAYS_AHEAD", settings.max_days_ahead, 1, 365, problems)
        settings.staff_idle_minutes = _int_from(
            env, "STAFF_IDLE_MINUTES", settings.staff_idle_minutes, 1, 24 * 60, problems)
        settings.trusted_proxies = _int_from(env, "TRUSTED_PROXIES", 0, 0, 10, problems)
        settings.card_read_advice_seconds = _int_from(
            env, "CARD_READ_ADVICE_SECONDS", settings.card_read_advice_seconds, 1, 110, problems)
        if env.get("CARD_RATE_LIMITS"):
            # "session,card,address" per minute; benchmarks raise them.
            try:
                per_session, per_card, per_address = (int(x) for x in env["CARD_RATE_LIMITS"].split(","))
                settings.card_reads_per_session = per_session
                settings.card_reads_per_card = per_card
                settings.card_reads_per_address = per_address
            except ValueError:
                problems.append("CARD_RATE_LIMITS must be three integers: session,card,address")
        for name, key in (("DB_CONNECT_TIMEOUT", "db_connect_timeout"), ("DB_STATEMENT_TIMEOUT", "db_statement_timeout")):
            if env.get(name):
                try:
                    setattr(settings, key, float(env[name]))
                except ValueError:
                    problems.append(f"{name} must be a number of seconds, not {env[name]!r}")
        default_cost = HashingCost()
        settings.password_hashing = HashingCost(
            time_cost=_int_from(env, "ARGON2_TIME_COST", default_cost.time_cost, 1, 20, problems),
            memory_kib=_int_from(env, "ARGON2_MEMORY_KIB", default_cost.memory_kib, 8, 4 * 1024 * 1024, problems),
            parallelism=_int_from(env, "ARGON2_PARALLELISM", default_cost.parallelism, 1, 16, problems),
        )
        truthy = ("1", "true", "yes", "on")
        production = app_env == "production"
        # In production nothing is assumed: the backends must be named, simulators allowed explicitly.
        settings.oqs_backend = overrides.pop("oqs_backend", None) or env.get("OQS_BACKEND", "" if production else "simulator")
        settings.card_authority = overrides.pop("card_authority", None) or env.get(
            "CARD_AUTHORITY", "" if production else "embedded")
        settings.allow_simulators = (not production) or env.get("ALLOW_SIMULATORS", "").lower() in truthy
        settings.metrics = env.get("METRICS", "").lower() in truthy
        if env.get("METRICS_ALLOW", "").strip():
            settings.metrics_allow = [a.strip() for a in env["METRICS_ALLOW"].split(",") if a.strip()]
        sandbox_flag = env.get("SANDBOX", "").lower() in truthy
        settings.audit_key = env.get("AUDIT_KEY", "").strip()
        settings.audit_keys = [k.strip() for k in env.get("AUDIT_KEYS", "").split(",") if k.strip()]
        settings.webhook_key = env.get("WEBHOOK_KEY", "").strip()
        settings.redis_url = env.get("REDIS_URL", "").strip()
        settings.redis_prefix = env.get("REDIS_PREFIX", "").strip() or settings.redis_prefix
        settings.audit_keyed_since = _instant_from(env, "AUDIT_KEYED_SINCE", problems)
        for key, value in overrides.items():
            if not hasattr(settings, key):
                raise ConfigError(f"unknown setting {key!r}")
            setattr(settings, key, value)
        problems += settings._validate(sandbox_flag)
        if problems:
            raise ConfigError("\n".join(problems))
        if check_only:
            return settings
        if not settings.database_url:
            settings.database_url = default_database_url()
        if not settings.secret_key:
            settings.secret_key = _local_secret_key()
        if not settings.audit_key:
            settings.audit_key = _local_secret_key("audit_key")
        if not settings.webhook_key:
            settings.webhook_key = _local_secret_key("webhook_key")
        return settings

    def _validate(self, sandbox_flag: bool) -> list[str]:
        problems: list[str] = []
        if self.app_env not in APP_ENVS:
            problems.append(f"APP_ENV must be one of {', '.join(APP_ENVS)}, not {self.app_env!r}")
        if not self.origins:
            problems.append("ORIGINS must list at least one origin")
        for origin in self.origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
                problems.append(f"ORIGINS entry {origin!r} is not an origin like https://host")
                continue
            host = parts.hostname
            if host != self.rp_id and not host.endswith("." + self.rp_id):
                problems.append(f"ORIGINS entry {origin!r} is not within RP_ID {self.rp_id!r}")
        for name, value in (("DB_CONNECT_TIMEOUT", self.db_connect_timeout),
                            ("DB_STATEMENT_TIMEOUT", self.db_statement_timeout)):
            # Below gunicorn's 30 s worker timeout, or a slow database ends in its English page.
            if not 0 < value <= 20:
                problems.append(f"{name} must be between 0 and 20 seconds, not {value}")
        if self.production:
            if not self.secret_key or len(self.secret_key) < 32:
                problems.append("production needs SECRET_KEY (at least 32 characters)")
            if not self.database_url:
                problems.append("production needs DATABASE_URL")
            if not self.audit_key:
                problems.append("production needs AUDIT_KEY (the secret key of the audit chain)")
            elif self.audit_key == self.secret_key:
                problems.append("AUDIT_KEY must differ from SECRET_KEY")
            if not self.webhook_key:
                problems.append("production needs WEBHOOK_KEY (encrypts the webhook signing secrets)")
            elif self.webhook_key in (self.secret_key, self.audit_key):
                problems.append("WEBHOOK_KEY must differ from SECRET_KEY and AUDIT_KEY")
            url = self.database_url
            if url.startswith("sqlite") and (":memory:" in url or url in ("sqlite://", "sqlite:///")):
                problems.append("production refuses an in-memory SQLite database")
            if sandbox_flag:
                problems.append("production refuses the sandbox")
            if self.password_hashing.memory_kib < MINIMUM_PRODUCTION_MEMORY_KIB:
                problems.append(f"production needs ARGON2_MEMORY_KIB of at least {MINIMUM_PRODUCTION_MEMORY_KIB}")
            if any(urlsplit(o).scheme != "https" for o in self.origins):
                problems.append("production origins must be https")
            if not self.oqs_backend or not self.card_authority:
                problems.append("production must name OQS_BACKEND and CARD_AUTHORITY explicitly")
            if self.uses_simulators and not self.allow_simulators:
                problems.append("production with the OQS simulator or the embedded card authority needs "
                                "ALLOW_SIMULATORS=1 (every page then says the data is synthetic)")
        cost = self.password_hashing
        if cost.memory_kib < 8 * cost.parallelism:
            problems.append("ARGON2_MEMORY_KIB must be at least 8 times ARGON2_PARALLELISM")
        if any(0 < len(key) < 32 for key in (self.audit_key, *self.audit_keys)):
            problems.append("AUDIT_KEY and each of AUDIT_KEYS need at least 32 characters")
        if 0 < len(self.webhook_key) < 32:
            problems.append("WEBHOOK_KEY needs at least 32 characters")
        if self.oqs_backend and self.oqs_backend not in OQS_BACKENDS:
            problems.append(f"OQS_BACKEND must be one of {', '.join(OQS_BACKENDS)} (a remote OQS is not built yet)")
        if self.card_authority and self.card_authority not in CARD_AUTHORITIES:
            problems.append(f"CARD_AUTHORITY must be one of {', '.join(CARD_AUTHORITIES)}")
        if self.redis_url and urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            problems.append(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, not {self.redis_url!r}")
        for entry in self.metrics_allow:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                problems.append(f"METRICS_ALLOW must list addresses or CIDR ranges (10.0.0.0/8), not {entry!r}")
        return problems


def _instant_from(env: dict[str, str], name: str, problems: list[str]) -> datetime | None:
    """An RFC 3339 instant with its offset (2026-11-01T00:00:00+09:00), or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None or not 2000 <= value.astimezone(timezone.utc).year <= 2099:
            raise ValueError
    except (ValueError, OverflowError):
        problems.append(f"{name} must be an instant with its offset, like 2026-11-01T00:00:00+09:00, not {raw!r}")
        return None
    return value.astimezone(timezone.utc)


def _int_from(env: dict[str, str], name: str, default: int, lowest: int, highest: int,
              problems: list[str]) -> int:
    """An integer variable within [lowest, highest]; a problem is noted, the default kept."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lowest <= value <= highest:
        problems.append(f"{name} must be an integer from {lowest} to {highest}, not {raw!r}")
        return default
    return value

"""Configuration guards: production must refuse to start unsafely."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from web.config import ConfigError, Settings

GOOD_PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "AUDIT_KEY": "k" * 48,
    "WEBHOOK_KEY": "h" * 48,
    "DATABASE_URL": "postgresql://app@db/app",
    "RP_ID": "reception.example.jp",
    "ORIGINS": "https://reception.example.jp",
    "OQS_BACKEND": "simulator",
    "CARD_AUTHORITY": "embedded",
    "ALLOW_SIMULATORS": "1",
}


def test_production_with_everything_named_starts():
    settings = Settings.from_env(env=GOOD_PROD)
    assert settings.production and not settings.sandbox and settings.secure_cookies


@pytest.mark.parametrize(
    "change, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
        ({"DATABASE_URL": "sqlite://"}, "in-memory"),
        ({"SANDBOX": "1"}, "sandbox"),
        ({"ORIGINS": "http://reception.example.jp"}, "https"),
        ({"ORIGINS": "https://evil.example.com"}, "RP_ID"),
        ({"OQS_BACKEND": ""}, "OQS_BACKEND and CARD_AUTHORITY"),
        ({"CARD_AUTHORITY": ""}, "OQS_BACKEND and CARD_AUTHORITY"),
        ({"ALLOW_SIMULATORS": ""}, "ALLOW_SIMULATORS=1"),
        ({"OQS_BACKEND": "remote"}, "OQS_BACKEND must be one of"),
        ({"AUDIT_KEY": ""}, "production needs AUDIT_KEY"),
        ({"ARGON2_MEMORY_KIB": "19455"}, "ARGON2_MEMORY_KIB of at least 19456"),
        ({"ARGON2_TIME_COST": "0"}, "ARGON2_TIME_COST must be an integer"),
        ({"ARGON2_PARALLELISM": "4", "ARGON2_MEMORY_KIB": "19456x"}, "ARGON2_MEMORY_KIB must be an integer"),
    ],
)
def test_production_refuses_unsafe_settings(change, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env={**GOOD_PROD, **change})


def test_password_hashing_cost_comes_from_the_environment():
    from consent.passwords import PRODUCTION_COST, HashingCost

    assert Settings.from_env(env=GOOD_PROD).password_hashing == PRODUCTION_COST
    assert Settings.from_env(env={**GOOD_PROD, "ARGON2_MEMORY_KIB": "19456"}).password_hashing.memory_kib == 19456
    cheap = Settings.from_env(env={"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8", "ARGON2_PARALLELISM": "1"},
                              check_only=True)
    assert cheap.password_hashing == HashingCost(time_cost=1, memory_kib=8, parallelism=1)
    with pytest.raises(ConfigError, match="at least 8 times ARGON2_PARALLELISM"):
        Settings.from_env(env={"ARGON2_MEMORY_KIB": "8", "ARGON2_PARALLELISM": "2"}, check_only=True)


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        Settings.from_env(env={"APP_ENV": "staging"})


def test_defaults_are_local_and_safe(tmp_path, monkeypatch):
    settings = Settings.from_env(env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "d" * 40})
    assert settings.app_env == "development"
    assert settings.port == 5000
    assert settings.rp_id == "localhost"
    assert settings.origins == ["http://localhost:5000"]
    assert not settings.secure_cookies


def test_sandbox_mode_is_only_the_sandbox_env():
    assert Settings.from_env(env={"APP_ENV": "sandbox", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"}).sandbox


def test_every_page_says_the_data_is_synthetic_when_simulators_serve(make_app):
    page = make_app("development").test_client().get("/").get_data(as_text=True)
    assert "この環境のデータは模擬データです" in page


@pytest.mark.parametrize(
    "change, message",
    [
        ({"AUDIT_KEY": ""}, "production needs AUDIT_KEY"),
        ({"AUDIT_KEY": "short"}, "at least 32 characters"),
        ({"AUDIT_KEYS": "k" * 40 + ",old"}, "at least 32 characters"),
        ({"AUDIT_KEY": "p" * 48}, "AUDIT_KEY must differ from SECRET_KEY"),
        ({"WEBHOOK_KEY": ""}, "production needs WEBHOOK_KEY"),
        ({"WEBHOOK_KEY": "short"}, "WEBHOOK_KEY needs at least 32 characters"),
        ({"WEBHOOK_KEY": "k" * 48}, "WEBHOOK_KEY must differ from SECRET_KEY and AUDIT_KEY"),
    ],
)
def test_production_needs_its_own_audit_key(change, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env={**GOOD_PROD, **change})


def test_audit_keys_are_read_and_generated_outside_production(tmp_path, monkeypatch):
    settings = Settings.from_env(env={**GOOD_PROD, "AUDIT_KEYS": " " + "a" * 40 + ", " + "b" * 40 + " "})
    assert (settings.audit_key, settings.audit_keys) == ("k" * 48, ["a" * 40, "b" * 40])
    assert "k" * 48 not in repr(settings)  # keys stay out of logs and tracebacks
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    local = Settings.from_env(env={"DATABASE_URL": "sqlite://", "SECRET_KEY": "d" * 40})
    assert len(local.audit_key) == 64 and (tmp_path / "audit_key").read_text() == local.audit_key
    again = Settings.from_env(env={"DATABASE_URL": "sqlite://", "SECRET_KEY": "d" * 40})
    assert again.audit_key == local.audit_key  # every worker keys the chain alike


@pytest.mark.parametrize(
    "change, line",
    [
        ({"PORT": "abc"}, "PORT must be an integer from 1 to 65535, not 'abc'"),
        ({"PORT": "0"}, "PORT must be an integer from 1 to 65535, not '0'"),
        ({"STAFF_IDLE_MINUTES": "-5"}, "STAFF_IDLE_MINUTES must be an integer from 1 to 1440, not '-5'"),
        ({"MAX_DAYS_AHEAD": "0"}, "MAX_DAYS_AHEAD must be an integer from 1 to 365, not '0'"),
        ({"TRUSTED_PROXIES": "one"}, "TRUSTED_PROXIES must be an integer from 0 to 10, not 'one'"),
        ({"METRICS_ALLOW": "10.0.0.0/8,nowhere"}, "METRICS_ALLOW must list addresses or CIDR ranges"),
        ({"APP_ENV": "staging"}, "APP_ENV must be one of development, sandbox, production, not 'staging'"),
    ],
)
def test_a_bad_variable_is_named_with_what_it_accepts(change, line):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env={"SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://", **change})
    assert line in str(refused.value).splitlines()[0]


def test_every_problem_is_reported_at_once():
    env = {**GOOD_PROD, "PORT": "abc", "STAFF_IDLE_MINUTES": "-1", "AUDIT_KEY": ""}
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env=env)
    lines = str(refused.value).splitlines()
    assert len(lines) == 3
    assert [line.split()[0] for line in lines[:2]] == ["PORT", "STAFF_IDLE_MINUTES"]
    assert "AUDIT_KEY" in lines[2]


def test_deployment_limits_are_read_from_the_environment():
    settings = Settings.from_env(env={"SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://", "MAX_DAYS_AHEAD": "7",
                                      "STAFF_IDLE_MINUTES": "15", "TRUSTED_PROXIES": "2", "METRICS": "1",
                                      "METRICS_ALLOW": "10.0.0.0/8, 192.0.2.7"})
    assert (settings.max_days_ahead, settings.staff_idle_minutes, settings.trusted_proxies) == (7, 15, 2)
    assert settings.metrics and settings.metrics_allow == ["10.0.0.0/8", "192.0.2.7"]


def test_the_app_factory_refuses_with_the_same_message(monkeypatch):
    from app import create_app

    monkeypatch.setenv("PORT", "abc")
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert str(refused.value) == ("PORT must be an integer from 1 to 65535, not 'abc'\n"
                                  "APP_ENV must be one of development, sandbox, production, not 'staging'")


def _config_check(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    base = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "PORT", "DATABASE_URL", "SECRET_KEY")}
    return subprocess.run([flask, "--app", "app", "config", "check"], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_config_check_exits_2_with_one_line_per_problem(tmp_path):
    bad = {**GOOD_PROD, "PORT": "abc", "STAFF_IDLE_MINUTES": "-5", "AUDIT_KEY": ""}
    result = _config_check(bad, tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "PORT must be an integer from 1 to 65535, not 'abc'",
        "STAFF_IDLE_MINUTES must be an integer from 1 to 1440, not '-5'",
        "production needs AUDIT_KEY (the secret key of the audit chain)",
    ]
    unknown = _config_check({"APP_ENV": "staging"}, tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == ["APP_ENV must be one of development, sandbox, production, not 'staging'"]


def test_config_check_passes_a_good_production_environment_and_writes_nothing(tmp_path):
    result = _config_check(GOOD_PROD, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "APP_ENV=production" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_generated_files_go_to_instance_dir(tmp_path, monkeypatch):
    # An installed package must not write beside its code (site-packages): INSTANCE_DIR it is.
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings.from_env(env={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'app.db'}"
    assert (tmp_path / "state" / "secret_key").read_text().strip() == settings.secret_key

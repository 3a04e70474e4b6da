"""Configuration guards: production must refuse to start unsafely."""
from __future__ import annotations

import pytest

from web.config import ConfigError, Settings

GOOD_PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "AUDIT_KEY": "k" * 48,
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
    ],
)
def test_production_refuses_unsafe_settings(change, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env={**GOOD_PROD, **change})


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
    ],
)
def test_production_needs_its_own_audit_key(change, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env={**GOOD_PROD, **change})


def test_audit_keys_are_read_and_generated_outside_production(tmp_path, monkeypatch):
    settings = Settings.from_env(env={**GOOD_PROD, "AUDIT_KEYS": " " + "a" * 40 + ", " + "b" * 40 + " "})
    assert (settings.audit_key, settings.audit_keys) == ("k" * 48, ["a" * 40, "b" * 40])
    assert "k" * 48 not in repr(settings)  # keys stay out of logs and tracebacks
    monkeypatch.setattr("web.config.INSTANCE_DIR", tmp_path)
    local = Settings.from_env(env={"DATABASE_URL": "sqlite://", "SECRET_KEY": "d" * 40})
    assert len(local.audit_key) == 64 and (tmp_path / "audit_key").read_text() == local.audit_key
    again = Settings.from_env(env={"DATABASE_URL": "sqlite://", "SECRET_KEY": "d" * 40})
    assert again.audit_key == local.audit_key  # every worker keys the chain alike

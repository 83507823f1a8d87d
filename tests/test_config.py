from __future__ import annotations

import pytest

from auditflow import create_app
from auditflow.config import ConfigError


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDITFLOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("AUDITFLOW_ENV", "production")
    with pytest.raises(ConfigError, match="AUDITFLOW_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_starts_with_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITFLOW_ENV", "production")
    monkeypatch.setenv("AUDITFLOW_SECRET_KEY", "s" * 64)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "s" * 64
    assert app.config["TESTING"] is False


def test_development_needs_no_secret_and_defaults_to_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("AUDITFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("AUDITFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("AUDITFLOW_ENV", "development")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/auditflow.db"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("AUDITFLOW_ENV", "testing")
    monkeypatch.setenv("AUDITFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/y.db")
    monkeypatch.setenv("AUDITFLOW_MAX_UPLOAD_MB", "7")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/y.db"
    assert app.config["MAX_UPLOAD_MB"] == 7


@pytest.mark.parametrize(("name", "value"), [("AUDITFLOW_ENV", "staging"), ("AUDITFLOW_MAX_UPLOAD_MB", "many")])
def test_bad_settings_are_refused_clearly(monkeypatch, name, value):
    monkeypatch.setenv("AUDITFLOW_ENV", "testing")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        create_app()

"""make lint's dependency audit: a finding fails it; an audit that could not run is said so."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from tests.conftest import REPO


@pytest.fixture
def gate():
    spec = importlib.util.spec_from_file_location("dependency_audit",
                                                  REPO / "tools" / "dependency_audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answering(monkeypatch, gate, stdout: str, stderr: str = "", code: int = 0):
    def run(command, **_kwargs):
        assert "--format" in command and "json" in command
        return subprocess.CompletedProcess(command, code, stdout=stdout, stderr=stderr)

    monkeypatch.setattr(gate.subprocess, "run", run)


def test_a_known_vulnerability_fails(monkeypatch, gate, capsys):
    answering(monkeypatch, gate, json.dumps({"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "werkzeug", "version": "2.0.0",
         "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["2.2.3"]}]}]}), code=1)
    assert gate.main() == 1
    assert "VULNERABLE werkzeug 2.0.0: GHSA-xxxx (fixed in 2.2.3)" in capsys.readouterr().err


def test_a_clean_audit_passes(monkeypatch, gate, capsys):
    answering(monkeypatch, gate, json.dumps({"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []}]}))
    assert gate.main() == 0
    assert "1 packages checked, no known vulnerabilities" in capsys.readouterr().out


def test_packages_the_service_did_not_know_are_reported_not_failed(monkeypatch, gate, capsys):
    answering(monkeypatch, gate, json.dumps({"dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "sqlalchemy", "version": "2.1.9", "vulns": []}]}))
    assert gate.main() == 0
    assert "INCOMPLETE: 1 of 2 packages could not be checked" in capsys.readouterr().err


def test_an_unreachable_service_is_reported_not_failed(monkeypatch, gate, capsys):
    answering(monkeypatch, gate, "", stderr="requests.exceptions.ConnectionError: no route",
              code=1)
    assert gate.main() == 0
    assert "NOT RUN" in capsys.readouterr().err

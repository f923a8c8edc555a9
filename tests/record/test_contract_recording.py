"""CONTRACT_TARGET=openai records its run (here against an emulator standing in for the real API), and
`pytest tests/contract --drift DIR` re-runs that recording against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.record._serve import served

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "CONTRACT_", "OPENAI_"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_contract_run_against_the_real_api_path_is_recorded_and_drift_checked(tmp_path: Path) -> None:
    cassettes, key = tmp_path / "cassettes", "sk-contract-recording-key-0123456789"
    with served(tmp_path / "upstream", transitions="immediate") as upstream:
        run = _pytest("tests/contract/test_files.py", env={
            "CONTRACT_TARGET": "openai", "CONTRACT_OPENAI_BASE_URL": upstream, "OPENAI_API_KEY": key,
            "CONTRACT_RECORD": str(cassettes)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    files = list(cassettes.glob("*.json"))
    assert any("files-id" in f.name for f in files) and any("POST-v1-files.json" in f.name for f in files)
    assert not any(key.encode() in p.read_bytes() for p in cassettes.rglob("*") if p.is_file())
    report = tmp_path / "drift.md"
    check = _pytest("tests/contract/test_drift.py", "--drift", str(cassettes), "--drift-report", str(report),
                    env={"CONTRACT_TARGET": "http"})
    assert check.returncode == 0, check.stdout[-3000:] + (report.read_text() if report.exists() else "")
    assert "**0 differences**" in report.read_text()

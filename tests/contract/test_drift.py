"""`pytest tests/contract --drift DIR`: a recorded run (e.g. CONTRACT_TARGET=openai's cassettes) re-run
against the emulator; fails listing every difference outside `--drift-allow FILE` (see client.drift)."""

from __future__ import annotations

import pytest

from client import drift


def test_recorded_run_matches_the_emulator(pytestconfig: pytest.Config, emulator_http) -> None:
    cassettes = pytestconfig.getoption("--drift")
    if cassettes is None:
        pytest.skip("no recording to compare: pass --drift DIR (cassettes from mockserver serve --record)")
    report = drift.run(cassettes, base_url=emulator_http.base_url, allow=pytestconfig.getoption("--drift-allow"))
    out = pytestconfig.getoption("--drift-report")
    if out is not None:
        out.write_text(report.markdown, encoding="utf-8")
    assert not report.failing, report.markdown

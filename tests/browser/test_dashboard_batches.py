"""The dashboard's Batches panel in headless Chromium: a batch's progress as the (manual) clock moves."""

from __future__ import annotations

import io
import json

import pytest

from tests.browser.conftest import KEY, Server, needs_browser

pytestmark = [pytest.mark.browser, pytest.mark.http, needs_browser]


def _control(srv: Server, path: str, payload: dict) -> None:
    import httpx2

    r = httpx2.post(f"{srv.origin}/_mock/{path}", json=payload)
    assert r.status_code == 200, r.text


def test_dashboard_shows_batch_progress(server: Server, page) -> None:
    from playwright.sync_api import expect

    _control(server, "policy", {"transitions": "manual", "time_scale": 1})
    client = server.client(KEY)
    lines = "".join(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": {
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{i}"}]}}) + "\n" for i in range(40))
    f = client.files.create(file=("requests.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    _control(server, "clock/advance", {"seconds": 10 + 10})   # validation, then 20 requests' worth
    assert client.batches.retrieve(batch.id).request_counts.completed == 20

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(20_000)
    page.goto(f"{server.origin}/dashboard")
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Use").click()
    row = page.locator(f'#batches tbody tr[data-id="{batch.id}"]')
    expect(row.locator(".badge")).to_have_text("in_progress")
    expect(row.locator("progress")).to_have_attribute("value", "20")
    expect(row.locator("progress")).to_have_attribute("max", "40")
    expect(row).to_contain_text("20/40")
    expect(page.locator("#live")).to_have_text("live")        # an unfinished batch keeps the page polling

    _control(server, "clock/advance", {"seconds": 60})
    expect(row.locator(".badge")).to_have_text("completed", timeout=30_000)
    expect(row).to_contain_text("40/40")
    expect(page.locator("#live")).to_have_text("idle", timeout=30_000)
    assert not problems, problems

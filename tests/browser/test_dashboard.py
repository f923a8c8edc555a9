"""The dashboard in headless Chromium, watching a real-time job on an emulator served by uvicorn.

The browser setup, the served emulator and the page fixture are in tests/browser/conftest.py.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import KEY, ROOT, Server, expect, needs_browser
from tests.conftest import pig_jsonl

pytestmark = [pytest.mark.browser, pytest.mark.http, needs_browser]


def test_dashboard_watches_a_job_then_chats_with_the_model(server: Server, page) -> None:
    client = server.client(KEY)
    other = server.client("sk-dash-someone-else").files.create(file=("other.jsonl", pig_jsonl()),
                                                               purpose="fine-tune")
    f = client.files.create(file=("pig.jsonl", pig_jsonl(10)), purpose="fine-tune")
    v = client.files.create(file=("pig-valid.jsonl", pig_jsonl(3)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=f.id, validation_file=v.id, model="gpt-4o-mini-2024-07-18")

    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(20_000)

    # Without a key the page shows nothing; with one it lists that organization's files and jobs only.
    page.goto(f"{server.origin}/dashboard")
    expect(page.locator("#live")).to_have_text("no key")
    expect(page.locator("#jobs tbody tr")).to_have_count(0)
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Use").click()
    row = page.locator(f'#jobs tbody tr[data-id="{job.id}"]')
    expect(row).to_be_visible()
    expect(page.locator("#files tbody")).to_contain_text(f.id)
    expect(page.locator("#files tbody")).to_contain_text("pig.jsonl")
    assert other.id not in page.content()

    # Select the job while it is still moving and watch it finish with the page open.
    row.click()
    status = page.locator('#job-fields dd[data-field="Status"]')
    expect(status).not_to_have_text("loading…")
    first_seen = status.inner_text()
    assert first_seen not in ("succeeded", "failed", "cancelled"), "the job finished before the page saw it move"
    expect(status).to_have_text("succeeded", timeout=60_000)
    expect(row.locator(".badge")).to_have_text("succeeded")

    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) >= 10
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-points", str(len(metrics)))
    expect(chart.locator("circle.pt.train-loss")).to_have_count(len(metrics))
    expect(chart.locator("circle.pt.train-acc")).to_have_count(len(metrics))
    expect(chart.locator("path.line.train-loss")).to_have_count(1)
    validated = [e for e in metrics if e.data.get("valid_loss") is not None]
    assert validated, "a job with a validation file reports validation loss"
    expect(chart.locator("circle.pt.valid-loss")).to_have_count(len(validated))
    expect(page.locator(".legend .valid-loss")).to_be_visible()
    expect(page.locator("#events li")).to_have_count(len(events))
    shown = page.locator("#events li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert shown == [e.id for e in events]  # newest first, each event once

    # The new model shows up and answers in the chat box.
    model = client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model
    assert model
    expect(page.locator(f'#chat-model option[value="{model}"]')).to_have_count(1)
    expect(page.locator("#models")).to_contain_text(model)
    page.get_by_label("Model", exact=True).select_option(model)
    page.get_by_label("Message").fill("体重何キロ?")
    page.get_by_role("button", name="Send").click()
    reply = page.locator("#chat-log li.reply").last
    expect(reply).not_to_have_class("reply pending")
    expect(reply.locator(".text")).to_have_text("500キロぶひ!")

    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    # The key survives a reload (localStorage); the job in the URL fragment is selected again.
    page.reload()
    expect(page.get_by_label("API key")).to_have_value(KEY)
    expect(status).to_have_text("succeeded")
    expect(page.locator("#live")).to_have_text("idle")

    assert all(u.startswith(server.origin) or u.startswith("data:") for u in requests), requests
    assert not problems, problems

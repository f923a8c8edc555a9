"""The benchmark harnesses' in-process lifespan (bench.asgi_profile._lifespan, also used by bench.h11_profile)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path


def test_the_lifespan_task_survives_a_collection_and_its_shutdown_runs(tmp_path: Path) -> None:
    """The lifespan task is held until its shutdown: a garbage collection while the benchmark runs destroys no
    pending task (before: "Task was destroyed but it is pending! ... EmulatorAPI.__call__()" at exit, and the app's
    shutdown never ran), and the shutdown closes what the app's lifespan closes (its caches' reader)."""
    from bench.asgi_profile import _app, _lifespan

    app = _app(str(tmp_path))
    reported: list[str] = []

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context["message"]))
        shutdown = await _lifespan(app)
        gc.collect()
        await asyncio.sleep(0)
        assert reported == []
        assert not app.state.services.caches._reader._closed
        await shutdown()

    try:
        asyncio.run(run())
    finally:
        app.state.services.db.dispose()
    gc.collect()
    assert reported == []
    assert app.state.services.caches._reader._closed

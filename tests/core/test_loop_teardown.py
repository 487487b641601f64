"""tests/loop_teardown.py: an async test whose task takes its cancellation and waits on ends its teardown."""

from __future__ import annotations

import asyncio

import pytest

from tests import loop_teardown


@pytest.mark.filterwarnings("ignore::tests.loop_teardown.LoopTeardownWarning")
async def test_a_task_that_swallows_its_cancellation_does_not_hold_teardown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the watchdog the loop's teardown waits for this task for ever (pytest-timeout fails it at 300 s).
    monkeypatch.setattr(loop_teardown, "GRACE_SECONDS", 0.2)

    async def stubborn() -> None:
        try:
            await asyncio.sleep(1000)
        except asyncio.CancelledError:
            await asyncio.sleep(1000)

    task = asyncio.ensure_future(stubborn())
    await asyncio.sleep(0)
    assert not task.done()

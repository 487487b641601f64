"""A bounded teardown for async tests: tasks that outlive a cancellation are cancelled again, and named.

pytest-asyncio closes each test's event loop by cancelling every task left on it and waiting for all of
them, without a limit. A task that takes the cancellation and goes on waiting (asgiref's ``sync_to_async``
waits for its thread once more; a consumer's cleanup awaits the channel layer) then holds the teardown
until pytest-timeout kills the test after 300 s: CI saw it once in about ten runs, on a socket test that
had passed. A watchdog thread waits ``GRACE_SECONDS`` of teardown, then cancels the tasks still pending
every ``RECANCEL_SECONDS`` from the loop's own thread, and records each one's stack; the test then ends
with a warning that shows them, so the cause can be read in CI's summary instead of a killed worker.
"""

from __future__ import annotations

import asyncio
import io
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

GRACE_SECONDS = 10.0  # twice channels-redis' 5 s blocking read, which a cancelled receive may finish first
RECANCEL_SECONDS = 2.0
RUNNER_FIXTURES = ("_function_scoped_runner", "_module_scoped_runner", "_session_scoped_runner")


class LoopTeardownWarning(pytest.PytestWarning):
    """Tasks of an async test did not end when the test's loop cancelled them."""


def _loop_of(item: pytest.Item) -> asyncio.AbstractEventLoop | None:
    funcargs: dict[str, Any] = getattr(item, "funcargs", {}) or {}
    for name in RUNNER_FIXTURES:
        runner = funcargs.get(name)
        if runner is not None:
            try:
                loop: asyncio.AbstractEventLoop = runner.get_loop()
            except Exception:
                return None
            return loop
    return None


def _awaiting(coro: Any) -> list[str]:
    """Where a suspended coroutine waits, down its whole ``await`` chain (a task's own stack shows one frame)."""
    where = []
    while coro is not None and len(where) < 50:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            where.append(f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return where


def _stacks(tasks: set[asyncio.Task[Any]]) -> str:
    out = io.StringIO()
    for task in tasks:
        try:
            out.write(f"{task!r}\n" + "\n".join(_awaiting(task.get_coro())) + "\n")
        except Exception as exc:  # a task finishing under our feet
            out.write(f"{task!r}: {exc}\n")
    return out.getvalue()


class _Watchdog(threading.Thread):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(name="loop-teardown-watchdog", daemon=True)
        self.loop = loop
        self.done = threading.Event()
        self.report = ""

    def run(self) -> None:
        if self.done.wait(GRACE_SECONDS):
            return
        while not self.done.is_set() and not self.loop.is_closed():
            try:
                pending = {task for task in asyncio.all_tasks(self.loop) if not task.done()}
            except RuntimeError:  # the set changed while it was read: read it again
                continue
            if pending and not self.report:
                self.report = _stacks(pending)
            try:
                self.loop.call_soon_threadsafe(lambda tasks=pending: [task.cancel() for task in tasks])
            except RuntimeError:  # the loop closed meanwhile
                return
            self.done.wait(RECANCEL_SECONDS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    loop = _loop_of(item)
    if loop is None:
        return (yield)
    watchdog = _Watchdog(loop)
    watchdog.start()
    try:
        return (yield)
    finally:
        watchdog.done.set()
        watchdog.join()
        if watchdog.report:
            warnings.warn(
                LoopTeardownWarning(
                    f"tasks of {item.nodeid} outlived their cancellation for {GRACE_SECONDS:.0f} s and were "
                    f"cancelled again:\n{watchdog.report}"
                ),
                stacklevel=1,
            )

"""Fixtures of the sessions area: the real engine, sessions and socket helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.sessions.models import Session
from apps.sessions.services import session_create

# The Web SDK's browser tests share a service, a fake camera and Playwright (one each per test module).
from .sdk_browser import sdk_camera, sdk_driver, sdk_service  # noqa: F401

PASSIVE = {"liveness": {"type": "Verification", "challengeType": "Passive"}}
BALANCED = {"liveness": {"type": "Verification", "challengeType": "Balanced"}}


@pytest.fixture(scope="session")
def real_engine() -> Any:
    """The process's face engine, loaded (and the socket clips rendered) before any socket opens.

    Loading the models or rendering inside a socket test would block its event loop for a second or more.
    """
    from apps.core.engine import get_engine

    from .synthetic_clips import clips

    engine = get_engine()
    clips()
    return engine


def make_session(account: Any, verifiers: dict[str, Any] | None = None, **body: Any) -> Session:
    return session_create(account=account, body={"verifierConfigs": verifiers or PASSIVE, **body})


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """Playwright, for the hosted pages' browser tests (one per module: a sync driver owns its thread's loop)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright

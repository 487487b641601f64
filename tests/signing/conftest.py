"""Signing fixtures: a frozen clock, and no unsigned-link limit unless a test sets one."""

from __future__ import annotations

import pytest
import time_machine

from .helpers import NOW


@pytest.fixture(autouse=True)
def _no_unsigned_link_limit(settings) -> None:
    """Only the rate-limit test counts unsigned openings; the others share one client address."""
    settings.HOSTED_LINK_UNSIGNED_PER_HOUR = 10_000


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller

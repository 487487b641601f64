"""Face-engine fixtures: one dlib engine per test session (loading the models takes ~1 s).

Shared by the engine, synth and insightface test modules in this folder.
"""

from __future__ import annotations

import pytest

from apps.face_engine.pipeline import Engine


@pytest.fixture(scope="session")
def dlib_engine() -> Engine:
    # The same instance the analyze command and the session flow get: the models load once per test run.
    from apps.core.engine import get_engine

    engine = get_engine("dlib")
    assert isinstance(engine, Engine)
    return engine


@pytest.fixture(scope="session")
def engine(dlib_engine: Engine) -> Engine:
    """The default engine (dlib), under the generic name."""
    return dlib_engine

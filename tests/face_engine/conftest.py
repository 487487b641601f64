"""Face-engine fixtures: one engine per backend per test session (loading the models takes ~1 s).

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


@pytest.fixture(scope="session")
def mediapipe_engine() -> Engine:
    from apps.core.engine import get_engine

    engine = get_engine("mediapipe")
    assert isinstance(engine, Engine)
    return engine


@pytest.fixture(scope="session", params=["dlib", "mediapipe"])
def each_engine(request: pytest.FixtureRequest) -> Engine:
    """Each offline engine in turn: a test taking it runs once per backend."""
    engine = request.getfixturevalue(f"{request.param}_engine")
    assert isinstance(engine, Engine)
    return engine

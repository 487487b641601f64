"""The Django side of the face engine: settings are read here, once.

The engine package itself never touches settings; this module builds its
config and caches one engine per process (loading the models takes about a
second and ~150 MB, so every worker does it once: on first use, or as it starts
with ``engine_load_in_background``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from functools import cache

from django.conf import settings

from apps.face_engine.factory import build_engine, check_model_files, engine_choice
from apps.face_engine.types import EngineName, EngineSettings, FaceEngine, ModelFilesMissing

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_engines: dict[str, FaceEngine] = {}


@cache
def engine_settings() -> EngineSettings:
    """The ``EngineSettings`` built from Django settings (read once per process)."""
    return EngineSettings(
        engine=settings.FACE_ENGINE,
        insightface_home=str(settings.INSIGHTFACE_HOME) if settings.INSIGHTFACE_HOME else None,
        insightface_pack=settings.INSIGHTFACE_PACK,
        pass_threshold=float(settings.LIVENESS_PASS_THRESHOLD),
        retry_threshold=float(settings.LIVENESS_RETRY_THRESHOLD),
        max_frame_bytes=int(getattr(settings, "FACE_ENGINE_MAX_FRAME_BYTES", 1_500_000)),
        max_side_pixels=int(getattr(settings, "FACE_ENGINE_MAX_SIDE_PIXELS", 4096)),
        redetect_every=int(getattr(settings, "FACE_ENGINE_REDETECT_EVERY", 10)),
    )


@cache
def _engine_chosen(base: EngineSettings) -> EngineName:
    """``engine_choice(base)``, once per settings: "auto" looks for every backend's model files on disk (0.16 ms
    of CPU), and ``get_engine`` runs for every frame. A process keeps the engine it chose when it started."""
    return engine_choice(base)


def get_engine(name: EngineName | None = None) -> FaceEngine:
    """The process-wide engine (``name`` overrides the configured choice, e.g. ``dlib``)."""
    base = engine_settings()
    key = name or _engine_chosen(base)  # "auto" resolves to the backend it picks, so it shares that engine
    engine = _engines.get(key)
    if engine is None:
        with _lock:  # two threads must not both load the models
            engine = _engines.get(key)
            if engine is None:
                engine = build_engine(replace(base, engine=key))
                _engines[key] = engine
    return engine


def engine_load_in_background() -> threading.Thread:
    """Load the configured engine on a thread, so that a process that will analyse frames has its models before
    the first frame arrives (a first frame would otherwise wait seconds for them, and the frames behind it go
    stale). A frame that arrives meanwhile waits for the same load (``get_engine``'s lock)."""

    def load() -> None:
        started = time.monotonic()
        get_engine()
        logger.info("face engine %s loaded in %.1f s", engine_choice(engine_settings()), time.monotonic() - started)

    thread = threading.Thread(target=load, name="engine-warm-up", daemon=True)
    thread.start()
    return thread


def engine_status() -> tuple[bool, str]:
    """Whether the configured face engine's model files are present (nothing is loaded or run)."""
    try:
        chosen = check_model_files(engine_settings())
    except ModelFilesMissing as exc:
        return False, str(exc)
    return True, f"{chosen} engine model files present"

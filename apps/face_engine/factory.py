"""Building an engine from ``EngineSettings``: backend selection and model-file checks."""

from __future__ import annotations

from .backends.base import Backend
from .backends.insightface import build_insightface_backend, insightface_available, insightface_model_files
from .model_files import dlib_identity_paths, dlib_model_paths, mediapipe_model_paths
from .pipeline import Engine
from .types import EngineName, EngineSettings, FaceEngine, ModelFilesMissing


def engine_choice(settings: EngineSettings) -> EngineName:
    """The backend ``settings`` select. ``auto``: InsightFace when all its files are present; else MediaPipe
    (Apache-2.0 face models, dlib's CC0 descriptor) when its files are; else dlib (whose 68-point model is
    non-commercial)."""
    if settings.engine != "auto":
        return settings.engine
    if insightface_available(settings.insightface_home, settings.insightface_pack):
        return "insightface"
    return "mediapipe" if mediapipe_available() else "dlib"


def mediapipe_available() -> bool:
    """Whether the MediaPipe backend's model files are all present (nothing is loaded)."""
    try:
        mediapipe_model_paths()
        dlib_identity_paths()
    except ModelFilesMissing:
        return False
    return True


def check_model_files(settings: EngineSettings) -> str:
    """Name of the selected engine if every model file it needs exists; ModelFilesMissing otherwise.

    Only looks at files: nothing is loaded or run (used by the readiness probe).
    """
    choice = engine_choice(settings)
    if choice == "insightface":
        if not settings.insightface_home:
            raise ModelFilesMissing(
                "INSIGHTFACE_HOME is not set; install a pack with `python manage.py install_insightface_pack`."
            )
        insightface_model_files(settings.insightface_home, settings.insightface_pack)
    elif choice == "mediapipe":
        mediapipe_model_paths()
        dlib_identity_paths()
    else:
        dlib_model_paths()
    return choice


def build_backend(settings: EngineSettings) -> Backend:
    choice = engine_choice(settings)
    if choice == "insightface":
        if not settings.insightface_home:
            raise ModelFilesMissing(
                "INSIGHTFACE_HOME is not set; install a pack with `python manage.py install_insightface_pack`."
            )
        return build_insightface_backend(home=settings.insightface_home, pack=settings.insightface_pack)
    if choice == "mediapipe":
        from .backends.mediapipe import MediaPipeBackend  # loads LiteRT and dlib's CC0 identity models

        return MediaPipeBackend()
    from .backends.dlib import DlibBackend  # loads dlib (~0.5 s): an InsightFace process never needs it

    return DlibBackend()


def build_engine(settings: EngineSettings) -> FaceEngine:
    """One engine for ``settings``; load it once per process (model loading takes ~1 s)."""
    return Engine(build_backend(settings), settings)

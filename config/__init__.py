from __future__ import annotations

# The face engine's package sets OpenBLAS's thread count and kernel (apps/face_engine/blas.py) on import, before
# dlib loads it; every process imports it here first, whatever it imports next.
import apps.face_engine  # noqa: F401

from .celery import app as celery_app

__all__ = ["celery_app"]

from __future__ import annotations

import os

# Every process that runs the engine runs one per core (FRAME_CONCURRENCY): OpenBLAS, under dlib's face
# descriptor, must not start threads of its own on top (read when dlib first loads it, so set it here).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .celery import app as celery_app

__all__ = ["celery_app"]

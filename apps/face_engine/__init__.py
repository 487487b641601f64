"""The face engine: pure Python, no Django/Channels/Celery (``tests/face_engine/test_purity.py``).

Public entry points: ``build_engine(EngineSettings(...))`` returns a ``FaceEngine``
(see ``types.py``); ``challenges_draw(count=...)`` draws a session's challenges;
``age_threshold_check`` answers Above/Below/retry for an age limit.
"""

from __future__ import annotations

import warnings

from PIL import Image

from .blas import blas_defaults

# Pillow only warns between 89 and 179 million pixels (and raises above): every path here that opens a picture
# checks a far stricter limit from its header first, so the warning is noise in the server's log. Set once, at
# import: warnings.catch_warnings() is not thread-safe, and frames and uploads are decoded on several threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# OpenBLAS (under dlib's descriptor) reads its settings when dlib loads it: set them before any backend imports dlib.
blas_defaults()

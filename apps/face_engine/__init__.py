"""The face engine: pure Python, no Django/Channels/Celery (``tests/face_engine/test_purity.py``).

Public entry points: ``build_engine(EngineSettings(...))`` returns a ``FaceEngine``
(see ``types.py``); ``challenges_draw(count=...)`` draws a session's challenges;
``age_threshold_check`` answers Above/Below/retry for an age limit.
"""

from __future__ import annotations

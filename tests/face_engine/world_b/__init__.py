"""World B: a second synthetic video generator that shares no code with ``tests/face_engine/synthetic.py``.

Textured 3-D heads lifted from real photos (``faces``: the astronaut and the
six people of insightface's ``t1.jpg``) with anthropometric depths
(``head``), rendered with a perspective camera and a z-buffer (``raster``) in
a full-frame room that stays still, through a camera with exposure flicker
and sensor noise (``scene``); people sway, blink on their own and perform
challenges with varied timing and amplitude (``actor``); ``attacks`` films
prints, bent prints, screens, replays, frozen frames and face swaps in the
same kind of room. docs/synthetic-video.md describes it; ``tests/face_engine/worlds.py``
turns it into a labelled data set.
"""

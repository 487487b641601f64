"""World C: a third synthetic world, independent of worlds A and B (no code shared, none imported).

Heads are dense depth maps (heightfields) built from an analytic head model
placed by dlib's landmarks, rendered in each new pose by backward mapping:
every output pixel marches its camera ray through the heightfield until it
meets the surface (relief mapping), so the nose hides the far cheek by the
search itself. A light fixed in the room shades the head as it turns.
Expressions are displacement fields on the photo; the scene is a blurred
procedural office with a fixed webcam. See docs/synthetic-video.md#world-c.
"""

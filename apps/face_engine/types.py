"""The face engine's public contract: one Protocol and frozen dataclasses.

Pure Python: nothing here (or anywhere in this package) may import Django,
Channels or Celery. The Django side builds an ``EngineSettings`` from its
settings once and converts results to rows and JSON.

The session flow uses the engine like this::

    engine = build_engine(EngineSettings(...))          # once per process
    state = engine.new_capture(CapturePlan(mode="active", challenges=("blink", "turn_left")))
    for each JPEG frame (possibly on different worker processes):
        result = engine.analyze_frame(state, jpeg_bytes, timestamp_s)
        state = result.state                            # persist state.to_json() under the session id
        ... send result.feedback / result.current_challenge / result.progress to the browser ...
        if result.capture_complete: break
    verdict = engine.decide(state)                      # pass / fail / retry + everything else
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

ChallengeName = Literal["blink", "turn_left", "turn_right", "nod", "smile", "mouth_open"]
CHALLENGES: tuple[ChallengeName, ...] = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")

# Feedback codes shown to the user while capturing (the hosted page maps them to text).
FeedbackCode = Literal[
    "ok",
    "noFace",
    "multipleFaces",
    "comeCloser",
    "moveBack",
    "centerFace",
    "moreLight",
    "lessLight",
    "holdStill",
    "tooBlurry",
]
VerdictName = Literal["pass", "fail", "retry"]
EngineName = Literal["dlib", "insightface", "mediapipe"]
CaptureMode = Literal["active", "passive"]


class FrameError(Exception):
    """A frame or image that cannot be used. ``code``: badImage, tooLarge, tooManyPixels, unsupportedFormat."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FaceImageError(Exception):
    """A still image without exactly one usable face. ``code``: noFace, multipleFaces, badImage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ModelFilesMissing(Exception):  # noqa: N818 - agreed public name
    """A model file is missing; the message names the file and the command that installs it."""


@dataclass(frozen=True)
class EngineSettings:
    engine: Literal["auto", "dlib", "insightface", "mediapipe"] = "auto"
    insightface_home: str | None = None
    insightface_pack: str = "buffalo_l"
    pass_threshold: float = 0.70
    retry_threshold: float = 0.45
    max_frame_bytes: int = 1_500_000
    max_side_pixels: int = 4096
    redetect_every: int = 10


@dataclass(frozen=True)
class CapturePlan:
    mode: CaptureMode
    challenges: tuple[ChallengeName, ...] = ()
    fail_on_multiple_faces: bool = True
    # What replaces a challenge not answered in time, in order (``challenges_reserve_draw``); empty: the
    # challenges not in the plan, in ``CHALLENGES`` order. Part of the plan, so re-analysis asks the same.
    reprompt_challenges: tuple[ChallengeName, ...] = ()
    # Whether to compute age/gender, the embedding and the ICAO photo at decide().
    want_age_gender: bool = True
    want_embedding: bool = True
    want_icao: bool = True


class CaptureState(Protocol):
    """Per-session analysis state. Small and serialisable: it crosses worker processes."""

    def to_json(self, blobs: MutableMapping[str, bytes | None] | None = None) -> str: ...


@dataclass(frozen=True)
class FrameResult:
    state: CaptureState
    face_count: int
    feedback: tuple[FeedbackCode, ...]
    current_challenge: ChallengeName | None
    challenges_done: int
    progress: float  # 0..1 of the whole capture
    capture_complete: bool
    reprompts: int = 0  # challenges replaced so far because they were not answered in time
    paused: bool = False  # no usable face in this frame: the hold and the challenge's window stand still
    challenge_left_s: float | None = None  # seconds left for the current challenge (pauses not counted)


@dataclass(frozen=True)
class AgeGender:
    estimated_age: float
    age_confidence: float
    estimated_gender: Literal["Male", "Female"]
    gender_confidence: float
    # Typical absolute error of the age model (years); see face_engine.attributes.age_threshold_check.
    age_margin: float = 5.0


@dataclass(frozen=True)
class IcaoPhoto:
    jpeg: bytes  # 480x600
    checks: Mapping[str, bool]  # poseWithinLimits, eyesOpen, neutralExpression, sharpness, exposure, ...

    @property
    def compliant(self) -> bool:
        return all(self.checks.values())


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    confidence: float
    scores: Mapping[str, float]
    reasons: tuple[str, ...]  # noFace, multipleFaces, faceChanged, challengeFailed:<name>, presentationAttack, ...
    challenge_outcomes: Mapping[str, bool]
    total_face_count: int
    engine: EngineName
    versions: Mapping[str, str]
    embedding: tuple[float, ...] | None = None
    age_gender: AgeGender | None = None
    icao: IcaoPhoto | None = None


@dataclass(frozen=True)
class FaceImage:
    """One face found in a still image (uploads, ID photos, face compare)."""

    embedding: tuple[float, ...]
    box: tuple[int, int, int, int]
    engine: EngineName
    versions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    similarity: float  # 0..1
    is_identical: bool
    threshold: float
    engine: EngineName
    versions: Mapping[str, str] = field(default_factory=dict)  # the models that made the embeddings


class PendingKeyFrame(NamedTuple):
    """A same-person key frame still waiting for its embedding."""

    t: float  # its time in the capture: the key ``with_key_embeddings`` matches on
    jpeg: bytes  # the face crop
    box: tuple[int, int, int, int] | None = None  # the tracked face in the crop (None: find it)
    points: tuple[float, ...] | None = None  # its 68 landmarks in the crop, x and y in turn (None: find them)


@dataclass(frozen=True)
class KeyEmbedding:
    """A same-person key frame's embedding (and anti-spoof score, when the backend has one)."""

    embedding: tuple[float, ...]
    spoof: float | None


class FaceEngine(Protocol):
    name: EngineName
    versions: Mapping[str, str]
    match_threshold: float

    def new_capture(self, plan: CapturePlan) -> CaptureState: ...

    def load_capture(self, data: str, blobs: Mapping[str, bytes] | None = None) -> CaptureState: ...

    def analyze_frame(self, state: CaptureState, frame: bytes, timestamp: float) -> FrameResult: ...

    def decide(self, state: CaptureState) -> Verdict: ...

    # Same-person key frames need one descriptor each (~15-25 ms with dlib on OpenBLAS). A caller may compute them
    # elsewhere while the capture runs (a low-priority worker) and hand them back before ``decide``;
    # ``decide`` computes any still missing.
    def key_frames_pending(self, state: CaptureState) -> tuple[PendingKeyFrame, ...]: ...

    def embed_key_frame(
        self, jpeg: bytes, box: tuple[int, int, int, int] | None = None, points: Sequence[float] | None = None
    ) -> KeyEmbedding | None: ...

    def with_key_embeddings(self, state: CaptureState, found: Mapping[float, KeyEmbedding]) -> CaptureState: ...

    def face_from_image(self, image: bytes) -> FaceImage:
        """Exactly one face from a JPEG/PNG, or FaceImageError."""
        ...

    def faces_in_image(self, image: bytes) -> list[FaceImage]:
        """Every face in a still image, largest first (FrameError when the image cannot be used)."""
        ...

    def compare(self, a: tuple[float, ...], b: tuple[float, ...]) -> Comparison: ...

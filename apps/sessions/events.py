"""Typed messages of the capture socket, shared by the consumer, the notifier and the workers.

Workers publish ``ChannelEvent`` dicts to the session's channel-layer group;
the consumer turns each into one server message (the ``*Message`` dicts) for
the browser. Delivery is at-most-once: the database holds the verdict.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


def session_group(session_id: str) -> str:
    return f"capture.session.{session_id}"


class StateMessage(TypedDict):
    type: Literal["state"]
    status: str
    mode: str
    attempt: int
    maxAttempts: int
    challengesTotal: int
    resumeToken: NotRequired[str]


class FeedbackMessage(TypedDict):
    type: Literal["feedback"]
    codes: list[str]
    faceCount: int
    seq: int  # the server's count of frames sent for analysis in this attempt
    frame: NotRequired[int]  # which of the client's binary messages (1-based, since connecting) this answers
    timings: NotRequired[dict[str, float]]  # the frame's marks (apps/sessions/frame_timing.py): CAPTURE_FRAME_TIMINGS


class ChallengeMessage(TypedDict):
    type: Literal["challenge"]
    challenge: str
    index: int
    total: int
    reprompt: bool  # this challenge replaces one not answered in time
    repromptsLeft: int  # how many more times a missed challenge will be replaced before the attempt ends


class ProgressMessage(TypedDict):
    type: Literal["progress"]
    progress: float
    challengesDone: int
    challengesTotal: int
    paused: bool  # no usable face in the frame: progress and the challenge's seconds stand still
    challengeSecondsLeft: float | None  # for the current challenge (pauses not counted); None without one


class ResultMessage(TypedDict):
    type: Literal["result"]
    verdict: Literal["pass", "fail", "retry"]
    verificationResult: str | None
    reasons: list[str]
    attemptsLeft: int
    redirectUrl: str | None


class ErrorMessage(TypedDict):
    type: Literal["error"]
    code: str
    message: str


class CheckMessage(TypedDict):
    """One continuous-check sample compared with the session's enrolled face (docs/websocket.md)."""

    type: Literal["check"]
    samePerson: bool
    similarity: float | None  # the best face's similarity with the enrolled one; None without a face
    faceCount: int
    live: bool | None  # the picture moved since the previous sample; None on the first
    alert: str | None  # faceChanged | multipleFaces | None
    frame: int  # which of the client's binary messages (1-based, since connecting) this answers


class WatchMessage(TypedDict):
    """The session passed and this socket watches: send samples, at most one per ``minIntervalMs``."""

    type: Literal["watch"]
    minIntervalMs: int
    until: str  # when the check window closes (UTC)


class TokenMessage(TypedDict):
    """A fresh single-use resume token, once half the last one's life is gone (a socket open for long)."""

    type: Literal["token"]
    resumeToken: str


ServerMessage = (
    StateMessage
    | FeedbackMessage
    | ChallengeMessage
    | ProgressMessage
    | ResultMessage
    | ErrorMessage
    | CheckMessage
    | WatchMessage
    | TokenMessage
)


class FrameAnalysedEvent(TypedDict):
    """Published once per processed frame; carries up to three server messages."""

    type: Literal["capture.frame"]
    seq: int
    gen: NotRequired[str]  # the attempt the frame was sent for; a socket of another attempt ignores the event
    messages: list[ServerMessage]
    timing: NotRequired[dict[str, float]]  # the frame's marks so far (apps/sessions/frame_timing.py)
    complete: NotRequired[bool]  # this frame completed the capture: the verdict follows


class FrameSkippedEvent(TypedDict):
    """A frame a worker dropped (stale, or another frame of the session was in progress)."""

    type: Literal["capture.skipped"]
    seq: int
    gen: NotRequired[str]
    complete: NotRequired[bool]  # skipped because the capture is over: complete, or its record gone with the verdict


class ServerMessageEvent(TypedDict):
    """Any other server message (state change, analysing, result)."""

    type: Literal["capture.message"]
    message: ServerMessage


ChannelEvent = FrameAnalysedEvent | FrameSkippedEvent | ServerMessageEvent

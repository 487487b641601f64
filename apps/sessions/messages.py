"""Builders of the capture socket's server messages (the typed dicts of ``events``), read from the database."""

from __future__ import annotations

from apps.face_engine.challenges import MAX_REPROMPTS
from apps.face_engine.types import FrameResult

from .events import ChallengeMessage, FeedbackMessage, ProgressMessage, ResultMessage, ServerMessage, StateMessage
from .models import Session
from .result_redirect import result_redirect_url
from .state_store import CaptureRecord


def session_state_message(*, session: Session, resume_token: str | None = None) -> StateMessage:
    message: StateMessage = {
        "type": "state",
        "status": session.status,
        "mode": session.mode,
        "attempt": session.attempt,
        "maxAttempts": session.max_attempts,
        "challengesTotal": len(session.challenges),
    }
    if resume_token:
        message["resumeToken"] = resume_token
    return message


def session_result_message(*, session: Session) -> ResultMessage | None:
    """The result message for a finished (or retry-waiting) session, read from the database."""
    attempts_left = max(session.max_attempts - session.attempt, 0)
    if session.status == Session.Status.IN_PROGRESS and session.verdict == "retry":
        return {
            "type": "result",
            "verdict": "retry",
            "verificationResult": None,
            "reasons": list(session.verification_failed_reasons),
            "attemptsLeft": attempts_left,
            "redirectUrl": None,
        }
    if session.status not in (Session.Status.COMPLETED, Session.Status.EXPIRED, Session.Status.CANCELLED):
        return None
    return {
        "type": "result",
        "verdict": "pass" if session.passed else "fail",
        "verificationResult": session.verification_result,
        "reasons": list(session.verification_failed_reasons),
        "attemptsLeft": 0,
        "redirectUrl": result_redirect_url(session=session),
    }


def frame_messages(*, record: CaptureRecord, result: FrameResult, seq: int, total: int) -> list[ServerMessage]:
    """Feedback, a new challenge (when the engine moved on to one) and progress for one analysed frame."""
    feedback: FeedbackMessage = {
        "type": "feedback",
        "codes": list(result.feedback),
        "faceCount": int(result.face_count),
        "seq": seq,
    }
    messages: list[ServerMessage] = [feedback]
    reprompted = result.reprompts > record.get("reprompts", 0)
    if result.current_challenge and (result.current_challenge != record.get("challenge") or reprompted):
        challenge: ChallengeMessage = {
            "type": "challenge",
            "challenge": result.current_challenge,
            "index": int(result.challenges_done),
            "total": total,
            "reprompt": reprompted,
            "repromptsLeft": max(MAX_REPROMPTS - result.reprompts, 0),
        }
        messages.append(challenge)
    progress: ProgressMessage = {
        "type": "progress",
        "progress": round(float(result.progress), 3),
        "challengesDone": int(result.challenges_done),
        "challengesTotal": total,
        "paused": bool(result.paused),
        "challengeSecondsLeft": result.challenge_left_s,
    }
    messages.append(progress)
    return messages

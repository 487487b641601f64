"""A ``Verdict`` as plain JSON (camelCase), for the analysis command and anyone logging results."""

from __future__ import annotations

from typing import Any

from .types import Verdict


def verdict_to_dict(verdict: Verdict, *, include_embedding: bool = False) -> dict[str, Any]:
    """Everything an operator needs to see why a capture passed or not (no image bytes)."""
    out: dict[str, Any] = {
        "verdict": verdict.verdict,
        "confidence": verdict.confidence,
        "reasons": list(verdict.reasons),
        "scores": dict(verdict.scores),
        "challenges": [{"name": k, "passed": v} for k, v in verdict.challenge_outcomes.items()],
        "totalFaceCount": verdict.total_face_count,
        "engine": verdict.engine,
        "versions": dict(verdict.versions),
    }
    ag = verdict.age_gender
    if ag is not None:
        out.update(
            estimatedAge=ag.estimated_age,
            ageConfidence=ag.age_confidence,
            ageMargin=ag.age_margin,
            estimatedGender=ag.estimated_gender,
            genderConfidence=ag.gender_confidence,
        )
    if verdict.icao is not None:
        out["icao"] = {"compliant": verdict.icao.compliant, "checks": dict(verdict.icao.checks)}
    if include_embedding and verdict.embedding is not None:
        out["embedding"] = list(verdict.embedding)
    return out

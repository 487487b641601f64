"""The shared liveness pipeline: one ``FaceEngine`` implementation over any ``Backend``.

Per frame (hot path, target <= 5 ms at 640x480): grayscale decode, landmarks
refreshed from the last box (re-detect only when tracking is lost or every
``redetect_every`` frames, on a half-size image), measures, quality, challenge
detectors. Everything expensive (embeddings, age/gender, ICAO, anti-spoof) is
deferred to ``decide()`` and runs on a few key frames only.

This module only orchestrates; each concern has its module: ``tracking``
(finding and following the face), ``progress`` (what a frame adds, challenges,
the passive hold, the frame result), ``key_frames`` (frames kept and what they
show), ``verdict`` (the pure rules) and ``stills`` (still images).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence

from . import key_frames, progress, stills
from .backends.base import Backend, Box, GrayImage, MeshBackend
from .challenges import DETECTORS
from .decode import decode_image
from .measures import box_from_landmarks, face_quality, rigid_points
from .mesh_signals import mesh_rigid_depth, mesh_rigid_points
from .screen import SCREEN_PEAK, SCREEN_SAMPLE_EVERY, screen_peak
from .state import CaptureData
from .tracking import TrackedFace, detect_faces, track_face
from .types import (
    CapturePlan,
    CaptureState,
    Comparison,
    EngineSettings,
    FaceImage,
    FrameResult,
    KeyEmbedding,
    PendingKeyFrame,
    Verdict,
)
from .verdict import verdict_rules

PIPELINE_VERSION = "1"


def _capture_data(state: CaptureState) -> CaptureData:
    return state if isinstance(state, CaptureData) else CaptureData.from_json(state.to_json())


class Engine:
    """``FaceEngine`` over one ``Backend``; stateless between calls (the state travels with the session)."""

    def __init__(self, backend: Backend, settings: EngineSettings) -> None:
        self.backend = backend
        self.settings = settings
        self.name = backend.name
        self.match_threshold = backend.match_threshold
        self.versions: Mapping[str, str] = {"engine": backend.name, "pipeline": PIPELINE_VERSION, **backend.versions}

    # -- capture lifecycle --------------------------------------------------------
    def new_capture(self, plan: CapturePlan) -> CaptureState:
        if plan.mode == "active" and not plan.challenges:
            raise ValueError("An active capture needs at least one challenge.")
        for name in (*plan.challenges, *plan.reprompt_challenges):
            if name not in DETECTORS:
                raise ValueError(f"Unknown challenge {name!r}.")
        return CaptureData(
            mode=plan.mode,
            challenges=list(plan.challenges) if plan.mode == "active" else [],
            reserve=list(plan.reprompt_challenges),
            fail_on_multiple_faces=plan.fail_on_multiple_faces,
            want_age_gender=plan.want_age_gender,
            want_embedding=plan.want_embedding,
            want_icao=plan.want_icao,
            engine=self.name,
            mesh=isinstance(self.backend, MeshBackend),
        )

    def load_capture(self, data: str, blobs: Mapping[str, bytes] | None = None) -> CaptureState:
        return CaptureData.from_json(data, blobs)

    def _detect(self, gray: GrayImage) -> list[Box]:
        return detect_faces(self.backend, gray)

    # -- the hot path ---------------------------------------------------------------
    def analyze_frame(self, state: CaptureState, frame: bytes, timestamp: float) -> FrameResult:
        st = _capture_data(state)
        if st.complete:
            return progress.frame_result(st, ("ok",))
        s = self.settings
        gray = decode_image(frame, max_bytes=s.max_frame_bytes, max_side=s.max_side_pixels, color=False).gray
        since = st.t_last
        t = progress.frame_time(st, timestamp)
        progress.note_motion(st, gray)
        face = track_face(self.backend, st, gray, redetect_every=s.redetect_every)
        if face is None:
            st.frames_none += 1
            progress.note_pause(st, since, t, ("noFace",))  # paused: no timer runs on
            return progress.frame_result(st, ("noFace",))
        return self._face_frame(st, frame, gray, since, t, face)

    def _face_frame(
        self, st: CaptureData, frame: bytes, gray: GrayImage, since: float, t: float, face: TrackedFace
    ) -> FrameResult:
        st.box = list(face.box)
        m = face.measures()
        # Quality is read in the same landmark-anchored box on every backend (detector boxes differ).
        q = face_quality(gray, box_from_landmarks(face.landmarks))
        rigid = mesh_rigid_points(face.mesh) if face.mesh is not None else rigid_points(face.landmarks)
        row = progress.note_face(st, t, gray, face.landmarks, rigid, m, q)
        if face.mesh is None and progress.closure_candidate(st, row):
            # Eyes that look closed must look closed to a second fit, from a fresh detection: a fit from the
            # tracker's box can miss part of an eye, and on a photo the eye regions it reads then change.
            boxes = detect_faces(self.backend, gray)
            if boxes:
                row = progress.second_look(st, gray, self.backend.landmarks(gray, boxes[0]))
        if st.frames_one % SCREEN_SAMPLE_EVERY == 1:
            peak = screen_peak(gray, face.box)
            if peak is not None:
                st.screen_samples += 1
                st.screen_hits += peak >= SCREEN_PEAK
        # Without a usable face nothing moves on; the frame's measures are kept (the detectors read them later).
        if not progress.note_pause(st, since, t, q.problems()):
            had_baseline = st.baseline is not None
            progress.advance(st, t, row)
            if face.mesh is not None and not had_baseline and st.baseline is not None:
                # The face's shape as the baseline frame shows it (a later frame may be turned already).
                st.baseline_depth = mesh_rigid_depth(face.mesh, st.baseline_iod)
        found = key_frames.FrameFace(face.box, face.landmarks, m)
        key_frames.keep_key_frames(st, frame, t, found, quality_ok=q.ok, settings=self.settings)
        return progress.frame_result(st, progress.frame_feedback(st, q, row))

    # -- the verdict ------------------------------------------------------------------
    def decide(self, state: CaptureState) -> Verdict:
        """Combine every component into pass / fail / retry; see docs/engine.md ("Liveness") for the rules."""
        st = _capture_data(state)
        planar = progress.planar_evidence(st)
        findings = key_frames.key_frame_findings(self.backend, self.settings, st)
        judged = verdict_rules(
            st,
            planar,
            findings.evidence,
            pass_threshold=self.settings.pass_threshold,
            retry_threshold=self.settings.retry_threshold,
        )
        report = key_frames.best_frame_report(self.backend, st, findings)
        return Verdict(
            verdict=judged.verdict,
            confidence=judged.confidence,
            scores=judged.scores,
            reasons=judged.reasons,
            challenge_outcomes=judged.challenge_outcomes,
            total_face_count=judged.total_face_count,
            engine=self.name,
            versions=self.versions,
            embedding=report.embedding,
            age_gender=report.age_gender,
            icao=report.icao,
        )

    # -- key-frame embeddings, possibly computed elsewhere ---------------------------------
    def key_frames_pending(self, state: CaptureState) -> tuple[PendingKeyFrame, ...]:
        """Each key frame whose embedding the verdict will need and lacks."""
        st = _capture_data(state)
        if not key_frames.descriptors_needed(st, has_antispoof=self.backend.has_antispoof):
            return ()
        pending = (k for k in st.keys if k.embedding is None and k.jpeg)
        return tuple(PendingKeyFrame(k.t, k.jpeg, k.tracked_box, k.tracked_points) for k in pending)

    def embed_key_frame(
        self, jpeg: bytes, box: Box | None = None, points: Sequence[float] | None = None
    ) -> KeyEmbedding | None:
        """The embedding of the face in a key frame's crop; None when no face is found in it."""
        return key_frames.embed_key_frame(self.backend, self.settings, jpeg, box, points)

    def with_key_embeddings(self, state: CaptureState, found: Mapping[float, KeyEmbedding]) -> CaptureState:
        """A copy of ``state`` whose key frames carry the embeddings in ``found`` (by key-frame time).

        Only the key frames are copied (the rest is shared with ``state``): it is for ``decide``, which reads the
        state. A copy through JSON cost a verdict about a millisecond."""
        st = copy.copy(_capture_data(state))
        st.keys = [dataclasses.replace(key) for key in st.keys]
        key_frames.with_key_embeddings(st, found)
        return st

    # -- stills --------------------------------------------------------------------------
    def face_from_image(self, image: bytes) -> FaceImage:
        face = stills.single_face(self.backend, self.settings, image)
        return FaceImage(embedding=face.embedding, box=face.box, engine=self.name, versions=self.versions)

    def faces_in_image(self, image: bytes) -> list[FaceImage]:
        """Every face in a still image (largest first), for identify/collections."""
        return [
            FaceImage(face.embedding, face.box, self.name, self.versions)
            for face in stills.every_face(self.backend, self.settings, image)
        ]

    def compare(self, a: tuple[float, ...], b: tuple[float, ...]) -> Comparison:
        sim = stills.similarity(self.backend, a, b)
        return Comparison(
            similarity=sim,
            is_identical=sim >= self.match_threshold,
            threshold=self.match_threshold,
            engine=self.name,
            versions=self.versions,
        )

"""``python manage.py analyze PATH``: run the face engine over a recorded capture and print the result JSON.

Operators use it to see why a session was rejected: every component score,
each challenge's outcome, the failure reasons, age and gender.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.capture_replay import NoUsableFrame, capture_replay
from apps.core.engine import get_engine
from apps.face_engine.report import verdict_to_dict
from apps.face_engine.types import CHALLENGES, CapturePlan, ModelFilesMissing
from apps.face_engine.video import CaptureReadError, read_capture


class Command(BaseCommand):
    help = "Analyse a video (y4m, mp4, webm) or a folder of JPEG frames and print the liveness result as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="video file or folder of frames (name order)")
        parser.add_argument("--challenges", default="", help=f"comma-separated, in order; of {', '.join(CHALLENGES)}")
        parser.add_argument("--passive", action="store_true", help="passive mode: a ~3 s hold, no challenges")
        parser.add_argument(
            "--engine", choices=["dlib", "insightface", "mediapipe"], default=None, help="default: FACE_ENGINE"
        )
        parser.add_argument("--fps", type=float, default=15.0, help="frame rate of a folder of frames (default 15)")
        parser.add_argument("--allow-multiple-faces", action="store_true", help="track the dominant face instead")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = self._plan(options)
        try:
            engine = get_engine(options["engine"])
        except ModelFilesMissing as exc:
            raise CommandError(str(exc)) from exc
        try:
            replay = capture_replay(engine=engine, plan=plan, frames=read_capture(options["path"], fps=options["fps"]))
        except (CaptureReadError, NoUsableFrame) as exc:
            raise CommandError(str(exc)) from exc
        report = verdict_to_dict(replay.verdict)
        report.update(
            framesAnalysed=replay.frames_analysed, framesRejected=replay.frames_rejected, cpuSeconds=replay.cpu_seconds
        )
        self.stdout.write(json.dumps(report, indent=2))

    def _plan(self, options: dict[str, Any]) -> CapturePlan:
        names = tuple(n.strip() for n in options["challenges"].split(",") if n.strip())
        unknown = [n for n in names if n not in CHALLENGES]
        if unknown:
            raise CommandError(f"Unknown challenge(s) {', '.join(unknown)}; use {', '.join(CHALLENGES)}.")
        if options["passive"] and names:
            raise CommandError("Use either --passive or --challenges, not both.")
        if not options["passive"] and not names:
            raise CommandError("Give --challenges blink,turn_left,... or --passive.")
        if options["fps"] <= 0:
            raise CommandError("--fps must be positive.")
        return CapturePlan(
            mode="passive" if options["passive"] else "active",
            challenges=names,
            fail_on_multiple_faces=not options["allow_multiple_faces"],
        )

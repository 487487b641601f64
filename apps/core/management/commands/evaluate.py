"""``python manage.py evaluate DIR [--engine NAME]``: the engine's error rates on labelled captures.

Each clip of the data set runs through the engine as a live session would run
it (``apps.core.capture_replay``, shared with ``analyze``); the command prints
one row per clip while a progress bar runs, then APCER per attack type, BPCER
and ACER, and ends with one JSON line for machines. docs/evaluation.md has
the manifest format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.capture_replay import NoUsableFrame, capture_replay
from apps.core.engine import get_engine
from apps.core.evaluation import (
    TABLE_HEADER,
    ClipResult,
    ManifestError,
    clip_result,
    evaluation_summary,
    manifest_load,
    summary_lines,
    table_row,
)
from apps.face_engine.types import EngineName, ModelFilesMissing
from apps.face_engine.video import CaptureReadError, read_capture


class Command(BaseCommand):
    help = "Run the face engine over a labelled data set (DIR/manifest.json) and print APCER, BPCER and ACER."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", help="folder with manifest.json and one frame folder or video per clip")
        parser.add_argument("--engine", choices=get_args(EngineName), default=None, help="default: FACE_ENGINE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            clips = manifest_load(Path(options["dir"]))
        except ManifestError as exc:
            raise CommandError(str(exc)) from exc
        try:
            engine = get_engine(options["engine"])
        except ModelFilesMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(TABLE_HEADER)
        results: list[ClipResult] = []
        with tqdm(total=len(clips), unit="clip", disable=None, file=self.stderr) as bar:
            for clip in clips:
                try:
                    replay = capture_replay(engine=engine, plan=clip.plan, frames=read_capture(clip.path, fps=clip.fps))
                except (CaptureReadError, NoUsableFrame) as exc:
                    raise CommandError(f"clip {clip.name!r}: {exc}") from exc
                result = clip_result(clip=clip, verdict=replay.verdict, frames=replay.frames_analysed)
                results.append(result)
                bar.clear()
                self.stdout.write(table_row(result))
                bar.update(1)
        summary = evaluation_summary(results)
        for line in summary_lines(summary, results):
            self.stdout.write(line)
        self.stdout.write(json.dumps(summary, separators=(",", ":")))

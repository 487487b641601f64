"""``python manage.py evaluate DIR [--engine NAME]``: the engine's error rates on labelled captures.

Each clip of the data set runs through the engine as a live session would run
it (``apps.core.capture_replay``, shared with ``analyze``); the command prints
one row per clip while a progress bar runs, then APCER per attack type, BPCER
and ACER, and ends with one JSON line for machines. docs/evaluation.md has
the manifest format.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, get_args

import django
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core.capture_replay import NoUsableFrame, capture_replay
from apps.core.engine import get_engine
from apps.core.evaluation import (
    TABLE_HEADER,
    Clip,
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


def _clip_evaluate(clip: Clip, engine_name: EngineName | None) -> ClipResult | str:
    """One clip through the engine as a session runs it; an unreadable clip gives its error message."""
    engine = get_engine(engine_name)  # loaded once per process
    try:
        replay = capture_replay(engine=engine, plan=clip.plan, frames=read_capture(clip.path, fps=clip.fps))
    except (CaptureReadError, NoUsableFrame) as exc:
        return f"clip {clip.name!r}: {exc}"
    return clip_result(clip=clip, verdict=replay.verdict, frames=replay.frames_analysed)


def _results(clips: Sequence[Clip], engine_name: EngineName | None, jobs: int) -> Iterator[ClipResult | str]:
    """Each clip's result, in manifest order; ``jobs`` processes (spawned, each with its own engine) when > 1."""
    if jobs == 1:
        yield from (_clip_evaluate(clip, engine_name) for clip in clips)
        return
    # Spawned, not forked: a fork of a process with other threads (a test runner's, a logging handler's) can
    # inherit a lock held mid-call and hang; each child sets Django up and loads its own engine.
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup
    ) as pool:
        yield from pool.map(_clip_evaluate, clips, [engine_name] * len(clips))


class Command(BaseCommand):
    help = "Run the face engine over a labelled data set (DIR/manifest.json) and print APCER, BPCER and ACER."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", help="folder with manifest.json and one frame folder or video per clip")
        parser.add_argument("--engine", choices=get_args(EngineName), default=None, help="default: FACE_ENGINE")
        parser.add_argument("--jobs", type=int, default=1, help="processes analysing clips (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            clips = manifest_load(Path(options["dir"]))
        except ManifestError as exc:
            raise CommandError(str(exc)) from exc
        if options["jobs"] < 1:
            raise CommandError("--jobs must be at least 1")
        try:
            get_engine(options["engine"])  # missing model files fail here, before any clip
        except ModelFilesMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(TABLE_HEADER)
        results: list[ClipResult] = []
        with tqdm(total=len(clips), unit="clip", disable=None, file=self.stderr) as bar:
            for result in _results(clips, options["engine"], options["jobs"]):
                if isinstance(result, str):
                    raise CommandError(result)
                results.append(result)
                bar.clear()
                self.stdout.write(table_row(result))
                bar.update(1)
        summary = evaluation_summary(results)
        for line in summary_lines(summary, results):
            self.stdout.write(line)
        self.stdout.write(json.dumps(summary, separators=(",", ":")))

"""SVG charts drawn on the server with matplotlib: an attempt's signal timeline and the dashboard's daily rates.

The timeline reads an attempt's stored ``timeline`` generically: each measure series
the engine recorded is drawn in the panel its name suggests (pose, eyes, mouth, the
rest), then the planar check's residuals, then the per-frame quality the page was
told (``ok`` or the problem). Challenge prompts (when the page showed a challenge)
and answers (when the engine judged it, passed or not) are marked on every panel.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from csp.constants import NONE, UNSAFE_INLINE
from django.http import HttpResponse

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("head pose (ratio)", ("yaw", "pitch", "roll")),
    ("eye aperture", ("eye",)),
    ("mouth", ("mouth", "smile")),
)
QUALITY_CODES = ("ok", "holdStill", "centerFace", "comeCloser", "moveBack", "moreLight", "lessLight", "tooBlurry",
                 "multipleFaces", "noFace")  # fmt: skip
PASS_COLOUR, FAIL_COLOUR, PROMPT_COLOUR = "#1a7f37", "#c62828", "#5c6bc0"


def _figure(height: float) -> Figure:
    # Imported on first use: matplotlib takes over a second to import, and every process imports the admin.
    from matplotlib.figure import Figure

    return Figure(figsize=(10, height), layout="constrained")


def _svg(figure: Figure) -> bytes:
    import matplotlib

    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "liveproof"}):
        figure.savefig(out, format="svg")
    return out.getvalue()


def svg_response(svg: bytes) -> HttpResponse:
    """A chart as its own document: matplotlib styles each element inline, and nothing in it may run."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    response._csp_replace = {"style-src": [UNSAFE_INLINE], "script-src": [NONE]}  # type: ignore[attr-defined]
    return response


def _grouped(series: Mapping[str, Sequence[float]]) -> list[tuple[str, list[str]]]:
    """Panels of measure names: the known groups first, every other measure in "other measures"."""
    names = [n for n in series if n != "t"]
    groups: list[tuple[str, list[str]]] = []
    for title, keys in PANELS:
        members = [n for n in names if any(k in n.lower() for k in keys)]
        names = [n for n in names if n not in members]
        if members:
            groups.append((title, members))
    if names:
        groups.append(("other measures", names))
    return groups


def _prompts(frames: Sequence[Sequence[Any]]) -> list[tuple[float, str]]:
    """(time, challenge) each time the page was told a new challenge."""
    shown: list[tuple[float, str]] = []
    for frame in frames:
        challenge = frame[3] if len(frame) > 3 else None
        if challenge and (not shown or shown[-1][1] != challenge):
            shown.append((float(frame[0]), str(challenge)))
    return shown


def _mark(ax: Axes, timeline: Mapping[str, Any], *, labels: bool) -> None:
    for t, name in _prompts(timeline.get("frames") or []):
        ax.axvline(t, color=PROMPT_COLOUR, linestyle="--", linewidth=1)
        if labels:
            ax.annotate(f"prompt: {name}", (t, 1), xycoords=("data", "axes fraction"), fontsize=8,
                        color=PROMPT_COLOUR, rotation=90, va="top", ha="right")  # fmt: skip
    for outcome in timeline.get("outcomes") or []:
        colour = PASS_COLOUR if outcome.get("passed") else FAIL_COLOUR
        ax.axvline(float(outcome["t"]), color=colour, linewidth=1.5)
        if labels:
            text = f"{outcome['name']} {'passed' if outcome.get('passed') else 'failed'}"
            ax.annotate(text, (float(outcome["t"]), 0.02), xycoords=("data", "axes fraction"), fontsize=8,
                        color=colour, rotation=90, va="bottom", ha="left")  # fmt: skip


def _quality(ax: Axes, frames: Sequence[Sequence[Any]]) -> None:
    codes = [str((frame[2] or ["ok"])[0]) if len(frame) > 2 else "ok" for frame in frames]
    order = [c for c in QUALITY_CODES if c in codes] + sorted(set(codes) - set(QUALITY_CODES))
    for code in order:
        times = [float(f[0]) for f, c in zip(frames, codes, strict=True) if c == code]
        ax.scatter(times, [order.index(code)] * len(times), s=9, label=code,
                   color=PASS_COLOUR if code == "ok" else None)  # fmt: skip
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.set_ylim(-0.5, max(len(order) - 0.5, 0.5))
    ax.set_ylabel("quality (page feedback)", fontsize=9)


def timeline_svg(timeline: Mapping[str, Any], *, title: str) -> bytes:
    """The attempt's signals over time, one panel per group, as an SVG document."""
    series: Mapping[str, Sequence[float]] = timeline.get("series") or {}
    parallax: Mapping[str, Sequence[float]] = timeline.get("parallax") or {}
    frames = timeline.get("frames") or []
    groups = _grouped(series)
    panels = len(groups) + bool(parallax.get("t")) + bool(frames)
    figure = _figure(1.0 + 1.8 * max(panels, 1))
    axes = figure.subplots(max(panels, 1), 1, sharex=True, squeeze=False)[:, 0]
    figure.suptitle(title, fontsize=11)
    if not panels:
        axes[0].text(0.5, 0.5, "no frames were analysed in this attempt", ha="center", transform=axes[0].transAxes)
        return _svg(figure)
    index = 0
    for name, members in groups:
        for member in members:
            axes[index].plot(series["t"], series[member], linewidth=1.2, label=member.replace("_", " "))
        axes[index].set_ylabel(name, fontsize=9)
        axes[index].legend(fontsize=7, loc="upper right")
        index += 1
    if parallax.get("t"):
        ax = axes[index]
        ax.plot(parallax["t"], parallax["homography"], linewidth=1.2, label="parallax residual (homography)")
        ax.plot(parallax["t"], parallax["similarity"], linewidth=0.8, label="motion (similarity residual)")
        if timeline.get("parallaxThreshold"):
            ax.axhline(float(timeline["parallaxThreshold"]), color="#888", linestyle=":", label="parallax threshold")
        ax.set_ylabel("IODs", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        index += 1
    if frames:
        _quality(axes[index], frames)
    for i, ax in enumerate(axes):
        _mark(ax, timeline, labels=i == 0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds into the capture")
    return _svg(figure)


def rates_svg(days: Sequence[Mapping[str, Any]], *, outcomes: Sequence[str]) -> bytes:
    """Stacked bars: the share of each attempt outcome per day."""
    figure = _figure(3.2)
    ax = figure.subplots()
    labels = [str(day["day"]) for day in days]
    bottom = [0.0] * len(days)
    colours = {
        "pass": PASS_COLOUR,
        "fail": FAIL_COLOUR,
        "retry": "#f9a825",
        "cancelled": "#757575",
        "expired": "#bdbdbd",
        "abandoned": "#8d6e63",
    }
    for outcome in outcomes:
        values = [float(day["rates"].get(outcome, 0.0)) for day in days]
        ax.bar(labels, values, bottom=bottom, label=outcome, color=colours.get(outcome))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of attempts")
    ax.legend(fontsize=8, ncols=len(outcomes), loc="upper left")
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    return _svg(figure)

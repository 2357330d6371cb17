"""Draw one stored sample's skeleton so a person can look at it.

PNG: a grid of evenly spaced frames; GIF: every frame, animated. Edges are
MediaPipe's own connections (pose, hands, the face contours); a group missing
in a frame is simply not drawn there and named under the frame. Like
MediaPipe's drawing utilities, pose points with visibility below
``min_visibility`` are left out (they are guesses, often below the frame).

x is drawn as ``x * width / height`` and y as ``y`` with y pointing down, so
the picture has the source's aspect ratio; the dashed box is the video frame.
A sample of unknown frame size is drawn square and says so.

matplotlib is imported only here, with the Agg canvas (no display needed,
and pyplot's global state is never touched).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, Sample
from slr_pose.outputs import atomic_path

#: Output kinds by file extension.
KINDS = (".png", ".gif")
#: group -> (colour, line width, point size)
STYLE = {
    "pose": ("#505050", 1.6, 9.0),
    "left_hand": ("#1f77b4", 1.1, 5.0),
    "right_hand": ("#d62728", 1.1, 5.0),
    "face": ("#2ca02c", 0.6, 0.8),
}


def skeleton_edges(layout: Layout) -> dict[str, np.ndarray]:
    """``{group: (E, 2) int}``: MediaPipe connections between landmarks of ``layout``."""
    out = {}
    for group in layout.groups:
        kept = [(a, b) for a, b in mpn.named_connections(group) if a in layout and b in layout]
        out[group] = layout.index(n for e in kept for n in e).reshape(-1, 2)
    return out


def _drawable(sample: Sample, layout: Layout, min_visibility: float) -> np.ndarray:
    """``(T, V)`` bool: landmarks to draw."""
    ok = sample.valid(layout)
    if "pose" in layout.group_slices:
        pose = layout.group_slices["pose"]
        ok[:, pose] &= sample.confidence[:, pose] >= min_visibility
    return ok


def _limits(points: np.ndarray, aspect: float) -> tuple[float, float, float, float]:
    """``x0, x1, y0, y1``: the frame box, grown to hold every drawn point, plus a margin."""
    x0, x1, y0, y1 = 0.0, aspect, 0.0, 1.0
    if len(points):
        x0, y0 = min(x0, points[:, 0].min()), min(y0, points[:, 1].min())
        x1, y1 = max(x1, points[:, 0].max()), max(y1, points[:, 1].max())
    pad = 0.03 * max(x1 - x0, y1 - y0)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


class _Painter:
    """Draws frame ``t`` of a sample into a matplotlib axes."""

    def __init__(self, sample: Sample, layout: Layout, min_visibility: float) -> None:
        self.sample, self.layout = sample, layout
        self.aspect = sample.info.aspect
        self.xy = sample.xyz[..., :2] * np.array([self.aspect, 1.0], dtype=np.float32)  # (T, V, 2)
        self.ok = _drawable(sample, layout, min_visibility)
        self.edges = skeleton_edges(layout)
        self.limits = _limits(self.xy[self.ok], self.aspect)

    def missing(self, t: int) -> list[str]:
        return [g.replace("_", " ") for j, g in enumerate(self.layout.groups) if self.sample.missing[t, j]]

    def setup(self, ax) -> dict:
        """Empty artists for every group (filled by :meth:`show`), the frame box and limits."""
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Rectangle

        ax.clear()
        x0, x1, y0, y1 = self.limits
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)  # image coordinates: y grows downwards
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.add_patch(Rectangle((0, 0), self.aspect, 1.0, fill=False, linestyle="--", linewidth=0.8, edgecolor="0.6"))
        artists = {}
        for group in self.layout.group_slices:
            colour, width, size = STYLE[group]
            lines = ax.add_collection(LineCollection([], colors=colour, linewidths=width))
            points = ax.scatter(np.empty(0), np.empty(0), s=size, c=colour, linewidths=0)
            artists[group] = (lines, points)
        return artists

    def show(self, ax, artists: dict, t: int) -> None:
        """Move the artists to frame ``t``; missing landmarks get no point and no edge."""
        xy, ok = self.xy[t], self.ok[t]
        for group, sl in self.layout.group_slices.items():
            lines, points = artists[group]
            e = self.edges[group]
            e = e[ok[e[:, 0]] & ok[e[:, 1]]]
            lines.set_segments(xy[e])
            points.set_offsets(xy[sl][ok[sl]].reshape(-1, 2))
        when = self.sample.time[t]
        head = f"frame {t}" + (f"  {when:.2f} s" if math.isfinite(when) else "")
        gone = self.missing(t)
        ax.set_title(head + ("\nno " + ", ".join(gone) if gone else "\n"), fontsize=8)

    def draw(self, ax, t: int) -> None:
        self.show(ax, self.setup(ax), t)


def _caption(sample: Sample) -> str:
    info = sample.info
    parts = [info.id]
    parts += [f"{k} {v}" for k, v in (("label", info.label), ("signer", info.signer), ("language", info.language)) if v]
    parts.append(f"{info.width}x{info.height}" if info.width > 0 and info.height > 0 else "frame size unknown: drawn square")
    return ",  ".join(parts)


def _legend(fig, layout: Layout) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=STYLE[g][0], linewidth=2) for g in layout.groups]
    fig.legend(handles, [g.replace("_", " ") for g in layout.groups], loc="outside lower center", ncol=len(handles),
               fontsize=8, frameon=False)


def plot_sample(
    store: PoseStore | str | os.PathLike,
    sample_id: str,
    out: str | os.PathLike,
    *,
    frames: int = 8,
    columns: int = 4,
    fps: float | None = None,
    min_visibility: float = 0.5,
    panel_inches: float = 2.6,
    dpi: int = 100,
) -> Path:
    """Render one sample to ``out`` (``.png``: a grid of frames; ``.gif``: an animation).

    Args:
        store: a :class:`PoseStore` or the path of one.
        sample_id: the sample to draw.
        frames: PNG only, how many evenly spaced frames (all when the sample is shorter).
        columns: PNG only, frames per row.
        fps: GIF only, playback rate (default: the sample's, else 10).
        min_visibility: pose points below this visibility are not drawn.

    Raises:
        SlrPoseError: an unknown extension, no such store or sample.
    """
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in KINDS:
        raise SlrPoseError(f"cannot write {out.name!r}: the output must end in {' or '.join(KINDS)}")
    if frames < 1 or columns < 1:
        raise SlrPoseError(f"frames ({frames}) and columns ({columns}) must be at least 1")
    if not isinstance(store, PoseStore):
        store = PoseStore(store)
    sample = store.read(store.index_of(sample_id))
    painter = _Painter(sample, store.layout, min_visibility)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x0, x1, y0, y1 = painter.limits
    box = max((x1 - x0) / (y1 - y0), 0.8)  # panels no narrower than their titles
    if kind == ".png":
        picked = np.unique(np.linspace(0, len(sample.xyz) - 1, min(frames, len(sample.xyz))).round().astype(int))
        cols = min(columns, len(picked))
        rows = math.ceil(len(picked) / cols)
        fig = Figure(figsize=(cols * panel_inches * box, rows * (panel_inches + 0.45) + 0.7), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, t in zip(axes.flat, picked):
            painter.draw(ax, int(t))
        for ax in axes.flat[len(picked):]:
            ax.set_visible(False)
        fig.suptitle(_caption(sample), fontsize=9)
        _legend(fig, store.layout)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=dpi)
        return out

    from matplotlib.animation import FuncAnimation, PillowWriter

    rate = fps or (sample.info.fps if math.isfinite(sample.info.fps) and sample.info.fps > 0 else 10.0)
    fig = Figure(figsize=(2 * panel_inches * box, 2 * panel_inches + 0.9), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    fig.suptitle(_caption(sample), fontsize=9)
    _legend(fig, store.layout)
    artists = painter.setup(ax)
    painter.show(ax, artists, 0)
    fig.canvas.draw()
    fig.set_layout_engine("none")  # lay out once; every frame has the same furniture
    anim = FuncAnimation(fig, lambda t: painter.show(ax, artists, t), frames=len(sample.xyz), interval=1000 / rate)
    with atomic_path(out) as tmp:
        anim.save(tmp, writer=PillowWriter(fps=rate), dpi=dpi)
    return out

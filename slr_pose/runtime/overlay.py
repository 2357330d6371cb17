"""What ``live --show`` draws over each frame: the landmarks MediaPipe found, the current top-k, the last signs.

Drawing only (NumPy in, NumPy out): the window itself is the command's, so
this runs without a display.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.plot import STYLE, skeleton_edges
from slr_pose.keypoints.video import import_cv2
from slr_pose.runtime.spotting import Spotted

#: Pose points less visible than this are MediaPipe's guesses (often below the frame): not drawn, as in plot.py.
MIN_VISIBILITY = 0.5


def _bgr(colour: str) -> tuple[int, int, int]:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


class Overlay:
    """Draws onto frames of one layout's landmarks (the extractor's)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.edges = skeleton_edges(layout)
        self.cv2 = import_cv2()

    def draw(self, image: np.ndarray, xyz: np.ndarray, confidence: np.ndarray, missing: np.ndarray,
             top: Sequence[tuple[str, float]], recent: Sequence[Spotted]) -> np.ndarray:
        """A BGR copy of RGB ``image`` ``(H, W, 3)`` with the skeleton (``xyz`` ``(V, 3)`` in 0..1 of the frame,
        ``confidence`` ``(V,)``, ``missing`` ``(G,)``), the top classes of the current window and the latest signs."""
        cv2 = self.cv2
        out = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        h, w = out.shape[:2]
        pts = np.nan_to_num(xyz[:, :2] * (w, h), nan=-1.0).astype(np.int32)
        for j, group in enumerate(self.layout.groups):
            if missing[j]:
                continue
            colour, width, _ = STYLE[group]
            for a, b in self.edges[group]:
                if group == "pose" and min(confidence[a], confidence[b]) < MIN_VISIBILITY:
                    continue
                cv2.line(out, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), _bgr(colour),
                         max(1, round(width * 1.5)), cv2.LINE_AA)
        y = 28
        for label, p in top:
            bar = int(160 * p)
            cv2.rectangle(out, (10, y - 16), (10 + bar, y + 4), (60, 160, 60), -1)
            cv2.putText(out, f"{label} {100 * p:.0f}%", (14, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
            y += 26
        text = "  ".join(s.gloss for s in recent[-6:])
        if text:
            cv2.putText(out, text, (10, h - 16), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
        return out

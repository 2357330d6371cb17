"""Small readers of the real landmark sequences used by the graphs tests and benchmark.

- Kaggle asl-signs parquet (543 landmarks per frame: face 468, left hand 21,
  pose 33, right hand 21; NaN where not detected) -> a :class:`Sample` in
  ``holistic_layout("full")`` order (pose, left hand, right hand, face).
- MSL-150 ``keypoints_sample.npz`` (226 values per frame: pose 0-24 x (x, y, z,
  visibility), left hand 21 x 3, right hand 21 x 3; zeros = not detected) ->
  samples in ``holistic_layout("none")`` order (pose points 25-32 NaN).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import Sample, SampleInfo

FULL = holistic_layout("full")
NO_FACE = holistic_layout("none")
# Kaggle's landmark type -> first index in holistic_layout("full") order
_KAGGLE_OFFSET = {"pose": 0, "left_hand": 33, "right_hand": 54, "face": 75}


def kaggle_files(kaggle_dir: Path) -> list[Path]:
    return sorted(kaggle_dir.glob("train_landmark_files/*/*.parquet"))


def read_kaggle(path: Path, fps: float = 30.0) -> Sample:
    """One asl-signs parquet as a sample of ``FULL`` (width/height unknown: aspect 1)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["frame", "type", "landmark_index", "x", "y", "z"])
    frame = table["frame"].to_numpy()
    kind = table["type"].dictionary_encode().combine_chunks()
    names = kind.dictionary.to_pylist()
    offset = np.array([_KAGGLE_OFFSET[n] for n in names])[kind.indices.to_numpy()]
    column = offset + table["landmark_index"].to_numpy()
    frames, row = np.unique(frame, return_inverse=True)
    xyz = np.full((len(frames), FULL.num_landmarks, 3), np.nan, dtype=np.float32)
    xyz[row, column] = np.stack([table[c].to_numpy() for c in "xyz"], axis=-1)
    return _sample(f"{path.parent.name}/{path.stem}", xyz, FULL, fps, 0, 0)


def read_msl(npz: Path) -> list[Sample]:
    """The 86 MSL-150 sequences as samples of ``NO_FACE`` (1280x720, 30 fps)."""
    with np.load(npz) as z:
        keypoints, labels = z["keypoints"], z["label"]
    out = []
    for i, (k, label) in enumerate(zip(keypoints, labels)):
        t = len(k)
        xyz = np.full((t, NO_FACE.num_landmarks, 3), np.nan, dtype=np.float32)
        xyz[:, :25] = k[:, :100].reshape(t, 25, 4)[..., :3]
        xyz[:, 33:54] = k[:, 100:163].reshape(t, 21, 3)
        xyz[:, 54:75] = k[:, 163:226].reshape(t, 21, 3)
        for sl in (slice(0, 33), slice(33, 54), slice(54, 75)):
            gone = np.nan_to_num(xyz[:, sl], nan=0.0).__eq__(0).all(axis=(1, 2))
            xyz[gone, sl] = np.nan
        sample = _sample(f"msl_{i:03d}_{label}", xyz, NO_FACE, 30.0, 1280, 720, label=str(label))
        sample.confidence[:, :25] = np.where(np.isfinite(xyz[:, :25]).all(-1), k[:, 3:100:4], 0.0)  # pose visibility
        out.append(sample)
    return out


def _sample(sid: str, xyz: np.ndarray, layout, fps: float, width: int, height: int, label: str = "") -> Sample:
    t = len(xyz)
    found = np.isfinite(xyz).all(-1)
    missing = np.stack([~found[:, layout.group_slices[g]].any(-1) for g in layout.groups], axis=-1)
    info = SampleInfo(id=sid, length=t, fps=fps, width=width, height=height, label=label)
    return Sample(info, xyz, found.astype(np.float32), missing, (np.arange(t) / fps).astype(np.float32))

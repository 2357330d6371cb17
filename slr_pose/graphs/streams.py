"""Input streams of a model: which features of the landmarks become channels.

As in the multi-stream skeleton models (2s-AGCN, SL-GCN, pyskl), each stream
is a 2D or 3D vector per node and frame:

- ``joint``: the node's position in the body frame;
- ``bone``: node minus its parent (:attr:`Skeleton.parents`; zero at the centre);
- ``joint_motion``: joint at t+1 minus joint at t (zero at the last frame);
- ``bone_motion``: bone at t+1 minus bone at t;
- ``hand``: hand nodes in their hand's frame, wrist-centred and divided by the
  clip's median palm length (wrist to middle-finger MCP); zero on other nodes.

A value that needs a missing point is zero. Channels are stacked stream by
stream, ``dims`` per stream: ``(x, y[, z])`` of ``streams[0]``, then of
``streams[1]``...
"""

from __future__ import annotations

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.kernels import (
    BONE,
    BONE_MOTION,
    HAND,
    JOINT,
    JOINT_MOTION,
)

#: stream name -> kernel code
STREAMS: dict[str, int] = {
    "joint": JOINT,
    "bone": BONE,
    "joint_motion": JOINT_MOTION,
    "bone_motion": BONE_MOTION,
    "hand": HAND,
}


def check_streams(streams: object) -> tuple[str, ...]:
    """``streams`` as a tuple of known, distinct names; :class:`SlrPoseError` otherwise."""
    if isinstance(streams, str) or not isinstance(streams, (tuple, list)):
        raise SlrPoseError(f"streams must be a list of stream names, not {streams!r}")
    if not streams:
        raise SlrPoseError("streams is empty; name at least one of " + ", ".join(STREAMS))
    for s in streams:
        if not isinstance(s, str) or s not in STREAMS:
            raise SlrPoseError(f"unknown stream {s!r}; streams are {', '.join(STREAMS)}")
    if len(set(streams)) != len(streams):
        raise SlrPoseError(f"streams {tuple(streams)} name a stream twice")
    return tuple(streams)


def stream_codes(streams: tuple[str, ...]) -> np.ndarray:
    return np.array([STREAMS[s] for s in streams], dtype=np.int64)


def channel_slices(streams: tuple[str, ...], dims: int) -> dict[str, slice]:
    """``{stream: slice}`` into the channel axis, e.g. ``{"joint": slice(0, 3), "bone": slice(3, 6)}``."""
    return {s: slice(i * dims, (i + 1) * dims) for i, s in enumerate(streams)}

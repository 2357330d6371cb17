"""The copied landmark names and connections equal the installed MediaPipe's: the legacy solutions API
(mediapipe 0.10.21) and the Tasks API (0.10.21 and 1.x) each."""

import mediapipe as mp

from slr_pose.keypoints import mediapipe_names as mpn
from tests.conftest import needs_holistic


def _edges(s):
    return tuple(sorted(tuple(sorted(e)) for e in s))


@needs_holistic
def test_names_match_mediapipe():
    assert mpn.POSE_NAMES == tuple(l.name for l in mp.solutions.pose.PoseLandmark)
    assert mpn.HAND_NAMES == tuple(l.name for l in mp.solutions.hands.HandLandmark)
    assert len(mpn.POSE_NAMES) == 33 and len(mpn.HAND_NAMES) == 21


@needs_holistic
def test_connections_match_mediapipe():
    assert mpn.POSE_CONNECTIONS == _edges(mp.solutions.pose.POSE_CONNECTIONS)
    assert mpn.HAND_CONNECTIONS == _edges(mp.solutions.hands.HAND_CONNECTIONS)
    fm = mp.solutions.face_mesh_connections
    for part in mpn.FACE_CONTOUR_PARTS:
        assert getattr(mpn, "FACE_" + part) == _edges(getattr(fm, "FACEMESH_" + part)), part
    assert mpn.FACE_TESSELATION == _edges(fm.FACEMESH_TESSELATION)


def test_names_and_connections_match_the_tasks_api():
    """The same tables in the Tasks API; mediapipe 0.10.21's hand table there has one edge that differs from its own
    legacy table (and from 1.x's): (1, 5) for (0, 5)."""
    from importlib.metadata import version

    from mediapipe.tasks.python.vision import face_landmarker, hand_landmarker, pose_landmarker

    def edges(connections):
        return _edges((c.start, c.end) for c in connections)

    assert mpn.HAND_NAMES == tuple(l.name for l in hand_landmarker.HandLandmark)
    if hasattr(pose_landmarker, "PoseLandmark"):  # named in the Tasks API from 1.x on
        assert mpn.POSE_NAMES == tuple(l.name for l in pose_landmarker.PoseLandmark)
    assert mpn.POSE_CONNECTIONS == edges(pose_landmarker.PoseLandmarksConnections.POSE_LANDMARKS)
    hand = edges(hand_landmarker.HandLandmarksConnections.HAND_CONNECTIONS)
    if version("mediapipe") == "0.10.21":  # its Tasks table joins the index finger to the thumb's base, not the wrist
        hand = tuple(sorted((0, 5) if e == (1, 5) else e for e in hand))
    assert mpn.HAND_CONNECTIONS == hand
    fm = face_landmarker.FaceLandmarksConnections
    for part in mpn.FACE_CONTOUR_PARTS:
        assert getattr(mpn, "FACE_" + part) == edges(getattr(fm, "FACE_LANDMARKS_" + part)), part
    assert mpn.FACE_TESSELATION == edges(fm.FACE_LANDMARKS_TESSELATION)

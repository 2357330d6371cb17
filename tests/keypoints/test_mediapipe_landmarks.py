"""The copied landmark names and connections equal the installed MediaPipe's."""

import mediapipe as mp

from slr_pose.keypoints import mediapipe_names as mpn


def _edges(s):
    return tuple(sorted(tuple(sorted(e)) for e in s))


def test_names_match_mediapipe():
    assert mpn.POSE_NAMES == tuple(l.name for l in mp.solutions.pose.PoseLandmark)
    assert mpn.HAND_NAMES == tuple(l.name for l in mp.solutions.hands.HandLandmark)
    assert len(mpn.POSE_NAMES) == 33 and len(mpn.HAND_NAMES) == 21


def test_connections_match_mediapipe():
    assert mpn.POSE_CONNECTIONS == _edges(mp.solutions.pose.POSE_CONNECTIONS)
    assert mpn.HAND_CONNECTIONS == _edges(mp.solutions.hands.HAND_CONNECTIONS)
    fm = mp.solutions.face_mesh_connections
    for part in mpn.FACE_CONTOUR_PARTS:
        assert getattr(mpn, "FACE_" + part) == _edges(getattr(fm, "FACEMESH_" + part)), part
    assert mpn.FACE_TESSELATION == _edges(fm.FACEMESH_TESSELATION)

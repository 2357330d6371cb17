"""MediaPipe landmark names and connection lists, as plain data.

Copied from ``mediapipe.solutions`` (0.10.21) so that importing slr-pose does not
import MediaPipe; ``tests/keypoints/test_mediapipe_landmarks.py`` checks every
value against the installed MediaPipe.
"""

POSE_NAMES = (
    'NOSE',
    'LEFT_EYE_INNER',
    'LEFT_EYE',
    'LEFT_EYE_OUTER',
    'RIGHT_EYE_INNER',
    'RIGHT_EYE',
    'RIGHT_EYE_OUTER',
    'LEFT_EAR',
    'RIGHT_EAR',
    'MOUTH_LEFT',
    'MOUTH_RIGHT',
    'LEFT_SHOULDER',
    'RIGHT_SHOULDER',
    'LEFT_ELBOW',
    'RIGHT_ELBOW',
    'LEFT_WRIST',
    'RIGHT_WRIST',
    'LEFT_PINKY',
    'RIGHT_PINKY',
    'LEFT_INDEX',
    'RIGHT_INDEX',
    'LEFT_THUMB',
    'RIGHT_THUMB',
    'LEFT_HIP',
    'RIGHT_HIP',
    'LEFT_KNEE',
    'RIGHT_KNEE',
    'LEFT_ANKLE',
    'RIGHT_ANKLE',
    'LEFT_HEEL',
    'RIGHT_HEEL',
    'LEFT_FOOT_INDEX',
    'RIGHT_FOOT_INDEX',
)

HAND_NAMES = (
    'WRIST',
    'THUMB_CMC',
    'THUMB_MCP',
    'THUMB_IP',
    'THUMB_TIP',
    'INDEX_FINGER_MCP',
    'INDEX_FINGER_PIP',
    'INDEX_FINGER_DIP',
    'INDEX_FINGER_TIP',
    'MIDDLE_FINGER_MCP',
    'MIDDLE_FINGER_PIP',
    'MIDDLE_FINGER_DIP',
    'MIDDLE_FINGER_TIP',
    'RING_FINGER_MCP',
    'RING_FINGER_PIP',
    'RING_FINGER_DIP',
    'RING_FINGER_TIP',
    'PINKY_MCP',
    'PINKY_PIP',
    'PINKY_DIP',
    'PINKY_TIP',
)

NUM_FACE_MESH = 468

POSE_CONNECTIONS = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8),
    (9, 10), (11, 12), (11, 13), (11, 23), (12, 14), (12, 24), (13, 15), (14, 16),
    (15, 17), (15, 19), (15, 21), (16, 18), (16, 20), (16, 22), (17, 19), (18, 20),
    (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (27, 31), (28, 30),
    (28, 32), (29, 31), (30, 32),
)

HAND_CONNECTIONS = (
    (0, 1), (0, 5), (0, 17), (1, 2), (2, 3), (3, 4), (5, 6), (5, 9),
    (6, 7), (7, 8), (9, 10), (9, 13), (10, 11), (11, 12), (13, 14), (13, 17),
    (14, 15), (15, 16), (17, 18), (18, 19), (19, 20),
)

FACE_LIPS = (
    (0, 37), (0, 267), (13, 82), (13, 312), (14, 87), (14, 317), (17, 84), (17, 314),
    (37, 39), (39, 40), (40, 185), (61, 146), (61, 185), (78, 95), (78, 191), (80, 81),
    (80, 191), (81, 82), (84, 181), (87, 178), (88, 95), (88, 178), (91, 146), (91, 181),
    (267, 269), (269, 270), (270, 409), (291, 375), (291, 409), (308, 324), (308, 415), (310, 311),
    (310, 415), (311, 312), (314, 405), (317, 402), (318, 324), (318, 402), (321, 375), (321, 405),
)

FACE_LEFT_EYE = (
    (249, 263), (249, 390), (263, 466), (362, 382), (362, 398), (373, 374), (373, 390), (374, 380),
    (380, 381), (381, 382), (384, 385), (384, 398), (385, 386), (386, 387), (387, 388), (388, 466),
)

FACE_LEFT_EYEBROW = (
    (276, 283), (282, 283), (282, 295), (285, 295), (293, 300), (293, 334), (296, 334), (296, 336),
)

FACE_RIGHT_EYE = (
    (7, 33), (7, 163), (33, 246), (133, 155), (133, 173), (144, 145), (144, 163), (145, 153),
    (153, 154), (154, 155), (157, 158), (157, 173), (158, 159), (159, 160), (160, 161), (161, 246),
)

FACE_RIGHT_EYEBROW = (
    (46, 53), (52, 53), (52, 65), (55, 65), (63, 70), (63, 105), (66, 105), (66, 107),
)

FACE_FACE_OVAL = (
    (10, 109), (10, 338), (21, 54), (21, 162), (54, 103), (58, 132), (58, 172), (67, 103),
    (67, 109), (93, 132), (93, 234), (127, 162), (127, 234), (136, 150), (136, 172), (148, 152),
    (148, 176), (149, 150), (149, 176), (152, 377), (251, 284), (251, 389), (284, 332), (288, 361),
    (288, 397), (297, 332), (297, 338), (323, 361), (323, 454), (356, 389), (356, 454), (365, 379),
    (365, 397), (377, 400), (378, 379), (378, 400),
)

FACE_CONTOUR_PARTS = ("LIPS", "LEFT_EYE", "LEFT_EYEBROW", "RIGHT_EYE", "RIGHT_EYEBROW", "FACE_OVAL")

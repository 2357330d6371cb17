"""Left/right symmetry of MediaPipe's 468-point face mesh, as data.

:data:`FACE_MIRROR` pairs each face-mesh index with the index at its mirror
position: ``FACE_MIRROR[i] == j`` when point ``j`` of a face seen in a mirror
lies where point ``i`` was (``FACE_MIRROR[33] == 263``: the outer corners of
the two eyes). Points on the midline (nose bridge, lip centres, chin) pair
with themselves. The table is an involution.

It was made with :func:`derive_face_mirror` from the real faces of the Kaggle
asl-signs landmarks (967 frames of 21 signers); ``tests/graphs/normalisation/test_mirror.py``
derives it again from that data and checks it against MediaPipe's own
left/right contour lists and against pose-format's table, which was derived
independently from MediaPipe's canonical face model.
"""

from __future__ import annotations

import numpy as np

from slr_pose.errors import SlrPoseError

#: Mirror partner of each face-mesh index (468 entries).
FACE_MIRROR: tuple[int, ...] = (
    0, 1, 2, 248, 4, 5, 6, 249, 8, 9, 10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261,
    262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274, 275, 276, 277,
    278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288, 289, 290, 291, 292, 293,
    294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309,
    310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 323, 94, 324,
    325, 326, 327, 328, 329, 330, 331, 332, 333, 334, 335, 336, 337, 338, 339, 340,
    341, 342, 343, 344, 345, 346, 347, 348, 349, 350, 351, 352, 353, 354, 355, 356,
    357, 358, 359, 360, 361, 362, 363, 364, 365, 366, 367, 368, 369, 370, 371, 372,
    373, 374, 375, 376, 377, 378, 379, 151, 152, 380, 381, 382, 383, 384, 385, 386,
    387, 388, 389, 390, 164, 391, 392, 393, 168, 394, 395, 396, 397, 398, 399, 175,
    400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
    416, 417, 418, 195, 419, 197, 420, 199, 200, 421, 422, 423, 424, 425, 426, 427,
    428, 429, 430, 431, 432, 433, 434, 435, 436, 437, 438, 439, 440, 441, 442, 443,
    444, 445, 446, 447, 448, 449, 450, 451, 452, 453, 454, 455, 456, 457, 458, 459,
    460, 461, 462, 463, 464, 465, 466, 467, 3, 7, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
    42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
    58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73,
    74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
    90, 91, 92, 93, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106,
    107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
    123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138,
    139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 153, 154, 155, 156,
    157, 158, 159, 160, 161, 162, 163, 165, 166, 167, 169, 170, 171, 172, 173, 174,
    176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191,
    192, 193, 194, 196, 198, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
    212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227,
    228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243,
    244, 245, 246, 247,)


def derive_face_mirror(faces: np.ndarray, iterations: int = 8) -> np.ndarray:
    """Pair face-mesh points with their mirror images, from real faces.

    The faces are aligned (generalised Procrustes: centre, unit size,
    rotation) to a mean shape; the mean face reflected left-right is then
    matched to itself by alternating an optimal one-to-one assignment of
    points (Hungarian algorithm on a symmetric cost, which favours an
    involution) and the rotation that best lays the reflection onto the face
    (its symmetry plane need not face the camera).

    Args:
        faces: ``(N, 468, 3)`` face-mesh landmarks (x, y, z); frames with any
            non-finite value are skipped. Mostly frontal faces work best.
        iterations: assignment/rotation rounds.

    Returns:
        ``(468,)`` int64: the mirror partner of each point.
    """
    from scipy.optimize import linear_sum_assignment  # scikit-learn's dependency

    faces = np.asarray(faces, dtype=np.float64)
    if faces.ndim != 3 or faces.shape[1:] != (468, 3):
        raise SlrPoseError(f"faces must have shape (N, 468, 3), not {faces.shape}")
    faces = faces[np.isfinite(faces).all(axis=(1, 2))]
    if len(faces) == 0:
        raise SlrPoseError("no frame with a complete face mesh to derive the mirror pairing from")
    mean = _procrustes_mean(faces)
    reflected = mean * np.array([-1.0, 1.0, 1.0])
    rotation = np.eye(3)
    partner = np.arange(len(mean))
    for _ in range(iterations):
        moved = reflected @ rotation
        cost = ((mean[:, None, :] - moved[None, :, :]) ** 2).sum(-1)
        _, partner = linear_sum_assignment(cost + cost.T)
        rotation = _rotation_onto(reflected[partner], mean)
    return partner.astype(np.int64)


def _rotation_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The proper rotation ``R`` minimising ``|a @ R - b|`` (Kabsch)."""
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def _procrustes_mean(shapes: np.ndarray, rounds: int = 5) -> np.ndarray:
    """Mean of ``(N, P, 3)`` shapes after removing position, size and rotation."""
    x = shapes - shapes.mean(axis=1, keepdims=True)
    x /= np.sqrt((x**2).sum(axis=(1, 2)))[:, None, None]
    mean = x[0]
    for _ in range(rounds):
        aligned = np.stack([s @ _rotation_onto(s, mean) for s in x])
        mean = aligned.mean(axis=0)
        mean /= np.sqrt((mean**2).sum())
    return mean

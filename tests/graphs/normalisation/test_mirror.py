"""Left/right mirroring: the face-mesh pairing, layouts, samples and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.errors import LayoutError
from slr_pose.graphs.normalisation.face_mirror import FACE_MIRROR, derive_face_mirror
from slr_pose.graphs.normalisation.mirror import hand_activity, left_dominant, mirror_index, mirror_sample, partner_name
from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.graphs.subsets import SUBSETS, select
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.layout import Layout
from tests.graphs.real_sequences import FULL, NO_FACE

MIRROR = np.array(FACE_MIRROR)


def _mirror_edges(edges):
    return {tuple(sorted((int(MIRROR[a]), int(MIRROR[b])))) for a, b in edges}


def test_face_mirror_is_an_involution_that_swaps_mediapipe_parts():
    assert MIRROR.shape == (468,) and sorted(MIRROR) == list(range(468))
    np.testing.assert_array_equal(MIRROR[MIRROR], np.arange(468))
    assert _mirror_edges(mpn.FACE_LEFT_EYE) == {tuple(sorted(e)) for e in mpn.FACE_RIGHT_EYE}
    assert _mirror_edges(mpn.FACE_LEFT_EYEBROW) == {tuple(sorted(e)) for e in mpn.FACE_RIGHT_EYEBROW}
    for part in (mpn.FACE_LIPS, mpn.FACE_FACE_OVAL):
        assert _mirror_edges(part) == {tuple(sorted(e)) for e in part}
    # the mesh's own triangulation is symmetric under the pairing (but for 6 of its 1322 edges)
    tess = {tuple(sorted(e)) for e in mpn.FACE_TESSELATION}
    assert len(_mirror_edges(tess) & tess) >= len(tess) - 6
    # mouth corners and outer eye corners swap; lip centres stay
    assert MIRROR[61] == 291 and MIRROR[33] == 263 and MIRROR[0] == 0 and MIRROR[17] == 17


@pytest.mark.realdata
def test_face_mirror_is_derived_again_from_real_faces(kaggle_samples):
    faces = np.concatenate([s.xyz[:, 75:] for s in kaggle_samples])
    faces = faces[np.isfinite(faces).all(axis=(1, 2))]
    assert len(faces) > 500
    np.testing.assert_array_equal(derive_face_mirror(faces), MIRROR)
    # mirrored faces land on themselves: a real face, flipped and re-paired, fits its own shape
    face = faces[0] - faces[0].mean(0)
    flipped = (face * [-1, 1, 1])[MIRROR]
    err_paired = np.linalg.norm(flipped[:, :2] - face[:, :2], axis=1).mean()
    err_unpaired = np.linalg.norm((face * [-1, 1, 1])[:, :2] - face[:, :2], axis=1).mean()
    assert err_paired < 0.25 * err_unpaired


def test_face_mirror_matches_pose_formats_canonical_model_table():
    holistic = pytest.importorskip("pose_format.utils.holistic", exc_type=ImportError)  # it needs mediapipe<0.10.30
    np.testing.assert_array_equal(np.array(holistic.FLIPPED_FACE_POINTS[:468]), MIRROR)


def test_partner_names():
    assert partner_name("pose/LEFT_EYE_INNER") == "pose/RIGHT_EYE_INNER"
    assert partner_name("pose/MOUTH_LEFT") == "pose/MOUTH_RIGHT"
    assert partner_name("pose/NOSE") == "pose/NOSE"
    assert partner_name("left_hand/THUMB_TIP") == "right_hand/THUMB_TIP"
    assert partner_name("face/33") == "face/263"


@pytest.mark.parametrize("subset", list(SUBSETS))
def test_every_subset_can_be_mirrored(subset):
    layout, _ = select(FULL, subset)
    perm = mirror_index(layout)
    np.testing.assert_array_equal(perm[perm], np.arange(len(perm)))
    for i, j in enumerate(perm):
        assert layout.names[j] == partner_name(layout.names[i])


def test_an_asymmetric_layout_cannot_be_mirrored():
    lopsided = Layout("lopsided", ("pose/NOSE", "pose/LEFT_WRIST"))
    with pytest.raises(LayoutError, match="has pose/LEFT_WRIST but not its mirror pose/RIGHT_WRIST"):
        mirror_index(lopsided)


def test_mirroring_a_sample_twice_gives_it_back(msl_samples):
    s = msl_samples[3]
    m = mirror_sample(s, NO_FACE)
    np.testing.assert_array_equal(m.missing[:, [1, 2]], s.missing[:, [2, 1]])
    i, j = NO_FACE.names.index("pose/LEFT_WRIST"), NO_FACE.names.index("pose/RIGHT_WRIST")
    np.testing.assert_allclose(m.xyz[:, i, 0], 1 - s.xyz[:, j, 0])
    back = mirror_sample(m, NO_FACE)
    np.testing.assert_allclose(back.xyz, s.xyz, atol=1e-6)
    np.testing.assert_array_equal(back.missing, s.missing)


def _pipeline_mirror_equals_image_mirror(layout, samples, subset):
    plain = Preprocessor(layout, subset=subset, streams=("joint", "bone", "joint_motion"), hand_frame=True)
    flipped = Preprocessor(layout, subset=subset, streams=("joint", "bone", "joint_motion"), hand_frame=True, mirror=True)
    for s in samples:
        want = plain(mirror_sample(s, layout))
        got = flipped(s)
        assert got.mirrored and not want.mirrored
        np.testing.assert_allclose(got.x, want.x, atol=2e-5, err_msg=s.info.id)
        np.testing.assert_array_equal(got.landmark_mask, want.landmark_mask)


def test_pipeline_mirror_equals_flipping_the_video_msl(msl_samples):
    _pipeline_mirror_equals_image_mirror(NO_FACE, msl_samples[::4], "upper_body_hands")


@pytest.mark.realdata
def test_pipeline_mirror_equals_flipping_the_video_kaggle_with_face(kaggle_samples):
    _pipeline_mirror_equals_image_mirror(FULL, kaggle_samples[::3], "upper_body_hands_face")


@pytest.mark.realdata
def test_auto_mirroring_makes_left_dominant_signers_right_dominant(kaggle_samples):
    pre = Preprocessor(FULL, streams=("joint",), mirror="auto")
    left = [i for i, n in enumerate(pre.layout.names) if n.startswith("left_hand/")]
    right = [i for i, n in enumerate(pre.layout.names) if n.startswith("right_hand/")]
    seen = {True: 0, False: 0}
    for s in kaggle_samples:
        only_left = s.missing[:, 2].all() and not s.missing[:, 1].all()
        only_right = s.missing[:, 1].all() and not s.missing[:, 2].all()
        if not (only_left or only_right):
            continue
        l_score, r_score = hand_activity(s, FULL)
        assert (l_score if only_right else r_score) == (0.0, 0)  # a hand never found does not sign
        assert left_dominant(s, FULL) == only_left
        out = pre(s)
        assert out.mirrored == only_left
        # after mirroring, the one signing hand is always the right one
        assert out.landmark_mask[:, right].any() and not out.landmark_mask[:, left].any()
        seen[only_left] += 1
    assert seen[True] >= 5 and seen[False] >= 5

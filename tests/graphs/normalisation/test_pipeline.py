"""The Preprocessor contract, its options, and bad input."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

from slr_pose.errors import LayoutError, SlrPoseError, StoreError
from slr_pose.graphs.batch import collate
from slr_pose.graphs.normalisation.pipeline import Augment, PreprocessConfig, Preprocessor
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import Sample, SampleInfo
from tests.graphs.real_sequences import FULL, NO_FACE


def test_contract(msl_samples):
    pre = Preprocessor(layout=NO_FACE, subset="upper_body_hands", length=64, streams=("joint", "bone"))
    assert pre.num_nodes == 57 and pre.num_channels == 6 and pre.skeleton.num_nodes == 57
    assert pre.layout.name == "upper_body_hands" and pre.store_layout is NO_FACE
    out = pre(msl_samples[0])
    assert out.x.shape == (6, 64, 57) and out.x.dtype == np.float32 and np.isfinite(out.x).all()
    assert out.frame_mask.shape == (64,) and out.frame_mask.dtype == bool and out.frame_mask[:30].all()
    assert out.source_index.dtype == np.float32 and out.landmark_mask.shape == (64, 57)
    assert out.body == "shoulders" and not out.mirrored
    # the skeleton's adjacency is what a GCN multiplies with this x
    assert pre.skeleton.adjacency("spatial").shape == (3, 57, 57)


def test_same_output_after_pickling(msl_samples):
    pre = Preprocessor(NO_FACE, augment=Augment(mirror=0.5))
    clone = pickle.loads(pickle.dumps(pre))
    s = msl_samples[1]
    np.testing.assert_array_equal(clone(s, rng=np.random.default_rng(3)).x, pre(s, rng=np.random.default_rng(3)).x)


def test_config_round_trip_and_rebinding(msl_samples):
    pre = Preprocessor(FULL, length=None, fps=25.0, streams=("joint", "joint_motion"), augment=Augment(rotation=5))
    values = pre.config.to_dict()
    assert values["streams"] == ["joint", "joint_motion"] and values["augment"]["rotation"] == 5.0
    assert PreprocessConfig.from_dict(values) == pre.config
    rebound = pre.with_layout(NO_FACE)
    assert rebound.config == pre.config and rebound.layout.names == pre.layout.names
    assert rebound(msl_samples[0]).x.shape == (6, 25, 57)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"length": 0}, "length must be a positive number of frames or None, not 0"),
        ({"length": 2.5}, "length must be a positive number of frames or None, not 2.5"),
        ({"fps": 0}, "fps must be a positive number or None, not 0"),
        ({"streams": "joint"}, "streams must be a list of stream names, not 'joint'"),
        ({"streams": ()}, "streams is empty"),
        ({"streams": ("joint", "velocity")}, "unknown stream 'velocity'"),
        ({"streams": ("bone", "bone")}, "name a stream twice"),
        ({"max_gap": -1}, "max_gap must be a whole number of frames >= 0, not -1"),
        ({"idle_speed": -0.1}, "idle_speed must be a number >= 0"),
        ({"fit": "crop"}, "fit 'crop' is not one of pad, resample"),
        ({"dims": 4}, "dims must be 2 or 3, not 4"),
        ({"mirror": "left"}, "mirror must be false, true or 'auto', not 'left'"),
        ({"augment": "yes"}, "augment must be an Augment or None"),
        ({"augment": {"rotate": 5}}, "unknown augment option 'rotate'"),
        ({"backend": "cuda"}, "backend 'cuda' is not one of numba, numpy"),
        ({"trim_idle": "no"}, "trim_idle must be true or false"),
        ({"lenght": 64}, "unknown preprocessing option 'lenght'"),
        ({"subset": "legs"}, "unknown landmark subset 'legs'"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(SlrPoseError, match=message):
        Preprocessor(NO_FACE, **options)


def test_a_subset_the_store_lacks():
    with pytest.raises(LayoutError, match="subset 'upper_body_hands_face' needs landmarks the data lacks"):
        Preprocessor(NO_FACE, subset="upper_body_hands_face")


def _sample(xyz, layout=NO_FACE, fps=30.0, **info):
    t = len(xyz)
    found = np.isfinite(xyz).all(-1)
    missing = np.zeros((t, len(layout.groups)), bool)
    for k, g in enumerate(layout.groups):
        missing[:, k] = ~found[:, layout.group_slices[g]].any(-1)
    return Sample(SampleInfo("bad", t, fps, **info), xyz, found.astype(np.float32), missing, np.arange(t, dtype=np.float32) / 30)


def test_an_empty_sample_is_an_error():
    with pytest.raises(StoreError, match="sample 'bad' has no frames"):
        Preprocessor(NO_FACE)(_sample(np.zeros((0, 75, 3), np.float32)))


def test_arrays_that_do_not_fit_the_layout():
    s = _sample(np.zeros((4, 75, 3), np.float32))
    with pytest.raises(StoreError, match=r"xyz has shape \(4, 75, 3\), layout 'holistic' needs \(4, 543, 3\)"):
        Preprocessor(FULL)(s)


def test_a_single_frame(msl_samples):
    s = msl_samples[0]
    one = replace(s, xyz=s.xyz[:1], confidence=s.confidence[:1], missing=s.missing[:1], time=s.time[:1])
    out = Preprocessor(NO_FACE, streams=("joint", "joint_motion"))(one)
    assert out.length == 1 and out.x.shape == (6, 64, 57)
    assert out.x[:3, 0].any() and not out.x[3:].any()  # no motion from one frame
    stretched = Preprocessor(NO_FACE, streams=("joint",), fit="resample")(one)
    assert stretched.length == 64 and np.array_equal(stretched.x[:, 5], stretched.x[:, 0])


def test_all_landmarks_missing_gives_a_masked_result():
    s = _sample(np.full((12, 75, 3), np.nan, np.float32))
    assert s.missing.all()
    out = Preprocessor(NO_FACE, streams=("joint", "bone", "joint_motion"), hand_frame=True)(s)
    assert out.body == "image" and not out.x.any() and not out.landmark_mask.any()
    assert out.length == 12  # the frames are real, only empty


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_nan_and_inf_where_a_landmark_is_claimed_found(msl_samples, backend):
    s = next(s for s in msl_samples if not s.missing[3:9][:, [0, 2]].any())  # pose and right hand found
    xyz, conf = s.xyz.copy(), s.confidence.copy()
    xyz[3, 15] = np.nan  # missing says the pose was found, the value says otherwise
    xyz[4, 60, 1] = np.inf
    xyz[5, 61] = -np.inf
    xyz[6, 12, 0] = 3e38  # finite, but far beyond any image
    conf[7, 13] = np.nan  # a found point with a NaN confidence: as good as missing, at any min_confidence
    conf[8, 62] = np.nan
    bad = [(3, "pose/LEFT_WRIST"), (4, "right_hand/INDEX_FINGER_PIP"), (5, "right_hand/INDEX_FINGER_DIP"),
           (6, "pose/RIGHT_SHOULDER"), (7, "pose/LEFT_ELBOW"), (8, "right_hand/INDEX_FINGER_TIP")]
    for min_confidence in (0.0, 0.5):
        pre = Preprocessor(NO_FACE, length=None, trim_idle=False, max_gap=0, min_confidence=min_confidence, backend=backend)
        out, base = pre(replace(s, xyz=xyz, confidence=conf)), pre(s)
        assert np.isfinite(out.x).all()
        expect = {(t, pre.layout.names.index(n)) for t, n in bad}
        assert all(base.landmark_mask[t, j] for t, j in expect)
        lost = {(int(t), int(j)) for t, j in zip(*np.nonzero(base.landmark_mask & ~out.landmark_mask))}
        assert lost == expect and not (out.landmark_mask & ~base.landmark_mask).any()
        assert not any(out.x[:, t, j].any() for t, j in expect)


def test_frame_rate_from_times_or_a_clear_error(msl_samples):
    s = msl_samples[0]
    no_fps = replace(s, info=replace(s.info, fps=float("nan")))
    pre = Preprocessor(NO_FACE, length=None, fps=15.0)
    np.testing.assert_allclose(pre(no_fps).x, pre(s).x, atol=1e-5)  # 30 fps from the frame times
    frozen = replace(no_fps, time=np.zeros_like(s.time))
    with pytest.raises(SlrPoseError, match="sample 'msl_000_ambulancia' has no frame rate"):
        pre(frozen)
    Preprocessor(NO_FACE, length=None)(frozen)  # not needed without fps


def test_collate_pads_variable_lengths(msl_samples):
    pre = Preprocessor(NO_FACE, length=None, fps=15.0)
    items = [pre(s) for s in msl_samples[:3]]
    short = pre(replace(msl_samples[3], xyz=msl_samples[3].xyz[:10], confidence=msl_samples[3].confidence[:10],
                        missing=msl_samples[3].missing[:10], time=msl_samples[3].time[:10]))  # fmt: skip
    batch = collate(items + [short])
    n_short = short.x.shape[1]
    assert batch.x.shape == (4, 6, 15, 57) and batch.lengths.tolist() == [15, 15, 15, n_short]
    np.testing.assert_array_equal(batch.x[3, :, :n_short], short.x)
    assert not batch.x[3, :, n_short:].any() and not batch.frame_mask[3, n_short:].any()
    np.testing.assert_array_equal(batch.observed_mask[3, :n_short], short.observed_mask)
    assert batch.observed_mask.any() and not batch.observed_mask[3, n_short:].any()
    assert (batch.source_index[3, n_short:] == -1).all()
    other = Preprocessor(NO_FACE, streams=("joint",))(msl_samples[0])
    with pytest.raises(SlrPoseError, match="cannot batch"):
        collate([items[0], other])
    with pytest.raises(SlrPoseError, match="empty batch"):
        collate([])


def test_contour_and_full_face_stores_give_the_same_face_subset(kaggle_samples):
    # the same clip stored with the whole mesh and with contours only
    contour = holistic_layout("contour")
    s = kaggle_samples[4]
    keep = FULL.index(contour.names)
    small = replace(s, xyz=s.xyz[:, keep], confidence=s.confidence[:, keep])
    a = Preprocessor(FULL, subset="upper_body_hands_face")(s)
    b = Preprocessor(contour, subset="upper_body_hands_face")(small)
    np.testing.assert_array_equal(a.x, b.x)


def test_samples_read_back_from_a_pose_store(tmp_path, msl_samples):
    from slr_pose.keypoints.store import PoseStore, StoreWriter

    path = tmp_path / "msl.h5"
    provenance = {"extractor": {"backend": "msl150-npz", "version": "1", "settings": {}}}
    with StoreWriter(path, NO_FACE, provenance) as writer:
        for s in msl_samples[:4]:
            writer.add(s)
    store = PoseStore(path)
    pre = Preprocessor(store.layout, streams=("joint", "bone", "joint_motion"), augment=Augment())
    for i, s in enumerate(msl_samples[:4]):
        stored = store.read(store.index_of(s.info.id))
        a, b = pre(stored, rng=np.random.default_rng(i)), pre(s, rng=np.random.default_rng(i))
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.source_index, b.source_index)

"""Skeleton pictures of stored samples (real MSL-150 and Kaggle landmarks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError, StoreError
from slr_pose.keypoints import mediapipe_names as mpn
from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.plot import STYLE, _Painter, plot_sample, skeleton_edges
from slr_pose.keypoints.store import PoseStore

MSL_KEYPOINTS = Path(__file__).resolve().parents[2] / "data" / "msl150" / "keypoints_sample.npz"
LAYOUT = holistic_layout("contour")


@pytest.fixture(scope="module")
def msl_store(tmp_path_factory) -> PoseStore:
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    cands = array_candidates([MSL_KEYPOINTS], ColumnSpec.parse("msl150"), LAYOUT, geometry=Geometry(30.0, 1280, 720))
    import_samples(path, LAYOUT, provenance("numpy", {"spec": "msl150"}), cands)
    return PoseStore(path)


def _axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def test_edges_are_mediapipe_connections():
    edges = skeleton_edges(LAYOUT)
    assert len(edges["pose"]) == len(mpn.POSE_CONNECTIONS) == 35
    assert len(edges["left_hand"]) == len(edges["right_hand"]) == len(mpn.HAND_CONNECTIONS) == 21
    contour = sum(len(getattr(mpn, "FACE_" + p)) for p in mpn.FACE_CONTOUR_PARTS)
    assert len(edges["face"]) == contour == 124
    names = LAYOUT.names
    assert (names[edges["pose"][0, 0]], names[edges["pose"][0, 1]]) == ("pose/NOSE", "pose/LEFT_EYE_INNER")
    assert "face" not in skeleton_edges(holistic_layout("none"))


def test_missing_groups_are_not_drawn_and_aspect_is_kept(msl_store):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    i = int(np.argmax([(r[:, 100:163] == 0).all(1).any() and (r[:, 100:163] != 0).any() for r in kp]))
    lh_zero = (kp[i, :, 100:163] == 0).all(1)
    sample = msl_store.read(i)
    painter = _Painter(sample, msl_store.layout, min_visibility=0.5)
    ax = _axes()
    blue = STYLE["left_hand"][0]

    def left_hand_lines(t: int) -> int:
        painter.draw(ax, t)
        from matplotlib.colors import to_rgba

        return sum(len(c.get_segments()) for c in ax.collections
                   if hasattr(c, "get_segments") and np.allclose(c.get_colors()[0], to_rgba(blue)))

    gone, there = int(np.argmax(lh_zero)), int(np.argmin(lh_zero))
    assert left_hand_lines(gone) == 0
    assert "no left hand" in ax.get_title()
    assert left_hand_lines(there) == 21
    # the frame box is 1280 / 720 wide for 1 high: x is a fraction of the width
    box = next(p for p in ax.patches)
    assert box.get_width() == pytest.approx(1280 / 720) and box.get_height() == 1.0
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert y0 > y1  # y points down, as in the image
    assert x0 <= 0 and x1 >= 1280 / 720
    # every drawn point sits where the stored landmark is, x scaled by the aspect
    nose = msl_store.layout.index(["pose/NOSE"])[0]
    np.testing.assert_allclose(painter.xy[there, nose], sample.xyz[there, nose, :2] * [1280 / 720, 1], rtol=1e-6)


def test_png_grid(msl_store, tmp_path):
    from PIL import Image

    out = plot_sample(msl_store, "doctor_2", tmp_path / "d.png", frames=6, columns=3)
    with Image.open(out) as im:
        assert im.format == "PNG"
        w, h = im.size
        rgb = np.asarray(im.convert("RGB"))
    assert w > h  # two rows of three landscape (16:9) panels
    red = np.all(np.abs(rgb.astype(int) - [0xD6, 0x27, 0x28]) < 30, axis=-1)
    assert red.sum() > 200  # the right hand is drawn


@pytest.mark.slow
def test_gif_animates_every_frame(msl_store, tmp_path):
    from PIL import Image

    out = plot_sample(msl_store, "hoy_2", tmp_path / "h.gif", fps=10)
    with Image.open(out) as im:
        assert im.format == "GIF"
        assert im.n_frames == msl_store.read(msl_store.index_of("hoy_2")).info.length == 30
        assert im.info["duration"] == 100  # ms per frame at 10 fps


@pytest.mark.realdata
def test_kaggle_sample_of_unknown_size_is_drawn_square(kaggle_dir, tmp_path):
    path = tmp_path / "k.h5"
    import_samples(path, LAYOUT, provenance("kaggle", {}), kaggle_candidates(kaggle_dir, LAYOUT, limit=1))
    store = PoseStore(path)
    painter = _Painter(store.read(0), store.layout, 0.5)
    ax = _axes()
    painter.draw(ax, 0)
    box = ax.patches[0]
    assert (box.get_width(), box.get_height()) == (1.0, 1.0)
    out = plot_sample(path, store.ids[0], tmp_path / "k.png", frames=4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors(msl_store, tmp_path):
    with pytest.raises(SlrPoseError, match=r"cannot write 'x.jpg': the output must end in .png or .gif"):
        plot_sample(msl_store, "doctor_2", tmp_path / "x.jpg")
    with pytest.raises(StoreError, match="no sample 'nobody'"):
        plot_sample(msl_store, "nobody", tmp_path / "x.png")
    with pytest.raises(StoreError, match="no pose store at"):
        plot_sample(tmp_path / "none.h5", "doctor_2", tmp_path / "x.png")
    assert not list(tmp_path.iterdir())

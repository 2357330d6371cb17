"""``slr-pose inspect``: text and JSON summaries, pictures, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli

MSL_KEYPOINTS = Path(__file__).resolve().parents[2] / "data" / "msl150" / "keypoints_sample.npz"


def invoke(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


@pytest.fixture(scope="module")
def msl(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("msl") / "msl.h5"
    r = invoke("import", "numpy", MSL_KEYPOINTS, "--spec", "msl150", "--language", "mfs", "--split", "train",
               "--fps", "30", "--width", "1280", "--height", "720", "-o", store)
    assert r.exit_code == 0, r.output
    return store


@pytest.fixture(scope="module")
def asl(tmp_path_factory, kaggle_dir) -> Path:
    store = tmp_path_factory.mktemp("asl") / "asl.h5"
    assert invoke("import", "kaggle", kaggle_dir, "-o", store).exit_code == 0
    return store


def test_text_summary(msl):
    kp = np.load(MSL_KEYPOINTS)["keypoints"]
    r = invoke("inspect", msl, "--top", "3")
    assert r.exit_code == 0, r.output
    lh = 100 * (kp[..., 100:163] != 0).any(-1).mean()
    rh = 100 * (kp[..., 163:] != 0).any(-1).mean()
    lines = r.output.splitlines()
    assert lines[:22] == [
        f"store       {msl}",
        "layout      holistic-face-contour: 203 landmarks (pose, left_hand, right_hand, face)",
        "samples     86",
        "labels      5 distinct",
        "              dolor  20",
        "              hoy    20",
        "              yo     20",
        "              ... 2 more labels",
        "signers     none recorded",
        "languages   1 distinct",
        "              mfs  86",
        "splits      1 distinct",
        "              train  86",
        "frames      2580 in all; per sample min 30, median 30, max 30; 86.0 s",
        "fps         30",
        "frame size  1280x720 (86)",
        "detected    share of frames in which each group was found",
        "              pose        94.6%",
        f"              left hand   {lh:.1f}%",
        f"              right hand  {rh:.1f}%",
        "              face         0.0%",
        "              any hand    94.6%",
    ]
    assert lines[22:25] == [
        "extractor   import/numpy, version 1",
        "settings    face=contour, spec=pose[0:25]:xyzv,left_hand:xyz,right_hand:xyz, trim=False, zero_is_missing=True",
        f"read with   numpy {np.__version__}",
    ]
    assert lines[25] == "slr-pose    0.1.0" and lines[26].startswith("created     20") and lines[27].startswith("modified    20")


def test_json_summary(msl):
    r = invoke("inspect", msl, "--json")
    assert r.exit_code == 0
    s = json.loads(r.output)
    assert list(s) == ["path", "layout", "samples", "pending", "labels", "signers", "languages", "splits", "frames",
                       "fps", "frame_sizes", "detection", "provenance"]
    assert s["samples"] == 86 and s["labels"]["distinct"] == 5 and len(s["labels"]["top"]) == 5
    assert s["detection"]["face"] == 0.0 and s["fps"]["median"] == 30.0
    assert s["frames"]["seconds"] == pytest.approx(86.0)
    assert s["provenance"]["extractor"]["backend"] == "import/numpy"


@pytest.mark.realdata
def test_kaggle_summary_signers(asl):
    r = invoke("inspect", asl, "--top", "2")
    lines = r.output.splitlines()
    i = lines.index("signers     21 distinct")
    assert lines[i + 3] == "              ... 19 more signers"
    assert "fps         unknown for all 42 samples" in lines
    assert "frame size  unknown for all 42 samples" in lines
    assert "              face       100.0%" in lines


def test_plot_png(msl, tmp_path):
    r = invoke("inspect", msl, "--plot", "yo_2", "-o", tmp_path / "yo.png", "--frames", "4")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"wrote {tmp_path / 'yo.png'}"]
    assert (tmp_path / "yo.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args,line",
    [
        (["--plot", "nobody", "-o", "x.png"], "Error: no sample 'nobody' in {store}"),
        (["--plot", "yo_2", "-o", "x.jpg"], "Error: cannot write 'x.jpg': the output must end in .png or .gif"),
        (["--plot", "yo_2"], "Error: --plot needs -o OUT.png or -o OUT.gif"),
        (["-o", "x.png"], "Error: -o names the picture of --plot SAMPLE_ID; give --plot too"),
    ],
)
def test_errors_are_one_line(msl, args, line):
    r = invoke("inspect", msl, *args)
    assert r.exit_code == 1
    assert r.output.splitlines() == [line.format(store=msl)]


def test_no_such_store(tmp_path):
    r = invoke("inspect", tmp_path / "none.h5")
    assert r.exit_code == 1 and r.output.splitlines() == [f"Error: no pose store at {tmp_path / 'none.h5'}"]
    (tmp_path / "text.h5").write_text("not hdf5")
    r = invoke("inspect", tmp_path / "text.h5")
    assert r.exit_code == 1 and r.output.startswith(f"Error: {tmp_path / 'text.h5'} is not a readable HDF5 file")

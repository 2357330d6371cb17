"""Decoding real clips: frame counts, times, decimation, downscaling, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.keypoints.video import VideoError, VideoFrames
from tests.conftest import ASL_VIDEO, MSL_VIDEOS

# frames decoded from each bundled clip (checked with OpenCV and ffprobe)
SOURCE_FRAMES = {"ambulancia_001": 66, "doctor_001": 62, "dolor_001": 61, "hoy_001": 64, "yo_001": 55}


def test_every_frame_of_the_msl_clips():
    for path in MSL_VIDEOS:
        frames = VideoFrames(path)
        got = list(frames)
        assert len(got) == SOURCE_FRAMES[path.stem] == frames.decoded == frames.frame_count
        assert (frames.width, frames.height) == (1280, 720)
        assert got[0].image.shape == (720, 1280, 3) and got[0].image.dtype == np.uint8
        assert [f.index for f in got] == list(range(len(got)))
        times = np.array([f.time for f in got])
        assert times[0] == 0.0
        np.testing.assert_allclose(np.diff(times), 1 / 30, atol=2e-3)  # ~29.97 fps, ms-rounded stamps
        assert frames.fps == pytest.approx(29.97, abs=0.01)


def test_frames_are_rgb_not_bgr():
    import cv2

    cap = cv2.VideoCapture(str(ASL_VIDEO))
    ok, bgr = cap.read()
    cap.release()
    first = next(iter(VideoFrames(ASL_VIDEO)))
    np.testing.assert_array_equal(first.image, bgr[:, :, ::-1])
    assert not np.array_equal(first.image, bgr)  # a colour image: the channel order matters


def test_decimation_keeps_the_first_frame_of_each_interval():
    frames = VideoFrames(ASL_VIDEO, fps=10)
    got = list(frames)
    assert frames.decoded == 58 and frames.fps == 10.0
    # 29.92 fps source: every third frame starts a new 0.1 s interval
    assert [f.index for f in got] == list(range(0, 58, 3))
    assert len(got) == frames.expected_frames() == 20
    assert np.all(np.diff([f.time for f in got]) > 0.09)
    # a target at or above the source rate keeps everything
    assert len(list(VideoFrames(ASL_VIDEO, fps=60))) == 58
    assert VideoFrames(ASL_VIDEO, fps=60).fps == pytest.approx(29.92, abs=0.01)


def test_downscaling_keeps_aspect_and_reports_source_size():
    frames = VideoFrames(ASL_VIDEO, max_side=320)
    first = next(iter(frames))
    assert first.image.shape == (320, 240, 3)  # 540x720 portrait -> 240x320
    assert (frames.width, frames.height) == (540, 720)
    msl = VideoFrames(MSL_VIDEOS[0], max_side=320)
    assert next(iter(msl)).image.shape == (180, 320, 3)
    big = VideoFrames(ASL_VIDEO, max_side=4000)  # never upscaled
    assert next(iter(big)).image.shape == (720, 540, 3)


def test_truncated_video_is_refused(tmp_path):
    data = ASL_VIDEO.read_bytes()  # moov atom first: a cut file still opens
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut.mp4 is truncated or damaged: decoded \d+ of 58 frames"):
        list(VideoFrames(cut))
    msl = MSL_VIDEOS[1].read_bytes()  # moov atom last: a cut file does not open at all
    (tmp_path / "cut2.mp4").write_bytes(msl[: len(msl) // 2])
    with pytest.raises(VideoError, match="cut2.mp4 is not a readable video"):
        VideoFrames(tmp_path / "cut2.mp4")


def test_zero_frames_non_video_and_missing(tmp_path):
    header_only = tmp_path / "empty.mp4"
    header_only.write_bytes(ASL_VIDEO.read_bytes()[:1555])  # ftyp + moov, no frame data
    with pytest.raises(VideoError, match="empty.mp4 has no decodable frames"):
        list(VideoFrames(header_only))
    (tmp_path / "notes.mp4").write_text("not a video\n")
    with pytest.raises(VideoError, match="notes.mp4 is not a readable video"):
        VideoFrames(tmp_path / "notes.mp4")
    with pytest.raises(VideoError, match="absent.mp4 does not exist"):
        VideoFrames(tmp_path / "absent.mp4")


def test_bad_arguments():
    with pytest.raises(VideoError, match="target fps 0 is not a positive number"):
        VideoFrames(ASL_VIDEO, fps=0)
    with pytest.raises(VideoError, match="max side 8 is too small"):
        VideoFrames(ASL_VIDEO, max_side=8)


def test_prefetching_gives_the_same_frames_and_stops_early():
    import threading

    plain = list(VideoFrames(ASL_VIDEO, fps=10, max_side=160))
    ahead = list(VideoFrames(ASL_VIDEO, fps=10, max_side=160, prefetch=True))
    assert [f.index for f in ahead] == [f.index for f in plain]
    for a, b in zip(ahead, plain):
        np.testing.assert_array_equal(a.image, b.image)
    frames = iter(VideoFrames(MSL_VIDEOS[0], prefetch=True))
    next(frames)
    frames.close()  # leaving early joins the decoding thread
    assert not any(t.name == "video-prefetch" for t in threading.enumerate())


def test_prefetching_reports_a_truncated_video(tmp_path):
    data = ASL_VIDEO.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="truncated"):
        list(VideoFrames(tmp_path / "cut.mp4", prefetch=True))


def write_frame_folder(folder, count: int = 12):
    """The first ``count`` frames of the ASL clip as PNG files img1.png, img2.png, ... (PHOENIX style)."""
    import cv2

    folder.mkdir()
    cap = cv2.VideoCapture(str(ASL_VIDEO))
    for i in range(1, count + 1):
        cv2.imwrite(str(folder / f"img{i}.png"), cv2.resize(cap.read()[1], (120, 160)))
    cap.release()
    return folder


def test_folder_of_frames(tmp_path):
    import cv2

    folder = write_frame_folder(tmp_path / "sentence")
    (folder / "notes.txt").write_text("ignored")
    frames = VideoFrames(folder)
    got = list(frames)
    assert len(got) == frames.decoded == frames.frame_count == 12 and frames.fps == 25.0
    assert (frames.width, frames.height) == (120, 160)
    np.testing.assert_allclose([f.time for f in got], np.arange(12) / 25)
    # natural order: img10 after img9, not after img1
    tenth = cv2.cvtColor(cv2.imread(str(folder / "img10.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(got[9].image, tenth)
    assert [f.index for f in VideoFrames(folder, fps=10, source_fps=50)] == [0, 5, 10]
    (folder / "img13.png").write_bytes(b"not an image")
    with pytest.raises(VideoError, match="img13.png is not a readable image"):
        list(VideoFrames(folder))
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="empty is a folder without frame images"):
        VideoFrames(tmp_path / "empty")

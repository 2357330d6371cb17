"""The ``.task`` model files of the ``tasks`` backend: where MediaPipe publishes them, checking, a local cache.

No mediapipe wheel ships ``.task`` files. :data:`MODELS` names each one the
backend can use with its official MediaPipe URL; :func:`verify_model` checks a
file (a zip with the landmarker's members, its sha256); :func:`download_model`
fetches one into the cache (``~/.cache/slr-pose/models``, or
``$SLR_POSE_MODELS``) through a temporary file renamed into place only once it
verifies, so a cut or garbled download leaves nothing behind.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from slr_pose.keypoints.backends.base import BackendError
from slr_pose.keypoints.backends.tasks import TASK_MEMBERS, check_task_file
from slr_pose.keypoints.inputs import file_sha256

_BASE = "https://storage.googleapis.com/mediapipe-models"


@dataclass(frozen=True)
class TaskModel:
    """One published ``.task`` file.

    Attributes:
        name: short name used by ``slr-pose models`` (``hand``, ``pose-full``, ...).
        kind: the landmarker it is (a key of :data:`~.tasks.TASK_MEMBERS`), i.e. the extract option it goes to.
        file: its file name.
        url: MediaPipe's official download URL.
    """

    name: str
    kind: str
    file: str
    url: str

    @property
    def option(self) -> str:
        return f"--{self.kind}-model"


MODELS = {m.name: m for m in (
    TaskModel("holistic", "holistic", "holistic_landmarker.task",
              f"{_BASE}/holistic_landmarker/holistic_landmarker/float16/latest/holistic_landmarker.task"),
    TaskModel("hand", "hand", "hand_landmarker.task",
              f"{_BASE}/hand_landmarker/hand_landmarker/float16/latest/hand_landmarker.task"),
    TaskModel("pose-lite", "pose", "pose_landmarker_lite.task",
              f"{_BASE}/pose_landmarker/pose_landmarker_lite/float16/latest/pose_landmarker_lite.task"),
    TaskModel("pose-full", "pose", "pose_landmarker_full.task",
              f"{_BASE}/pose_landmarker/pose_landmarker_full/float16/latest/pose_landmarker_full.task"),
    TaskModel("pose-heavy", "pose", "pose_landmarker_heavy.task",
              f"{_BASE}/pose_landmarker/pose_landmarker_heavy/float16/latest/pose_landmarker_heavy.task"),
    TaskModel("face", "face", "face_landmarker.task",
              f"{_BASE}/face_landmarker/face_landmarker/float16/latest/face_landmarker.task"),
)}  # fmt: skip
#: seconds without data before a download is given up
DOWNLOAD_TIMEOUT = 60.0


def model(name: str) -> TaskModel:
    """The entry of :data:`MODELS` called ``name``, or a one-line error listing the names."""
    if name not in MODELS:
        raise BackendError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$SLR_POSE_MODELS``, else ``~/.cache/slr-pose/models`` (``$XDG_CACHE_HOME`` honoured)."""
    if path is not None:
        return Path(path)
    if os.environ.get("SLR_POSE_MODELS"):
        return Path(os.environ["SLR_POSE_MODELS"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "slr-pose" / "models"


def cached_model(name: str, cache: str | os.PathLike | None = None) -> Path | None:
    """Where model ``name`` lies in the cache, or None when it is not there."""
    p = cache_dir(cache) / model(name).file
    return p if p.is_file() else None


def guess_kind(path: str | os.PathLike) -> str:
    """The landmarker kind of a ``.task`` file from its members (holistic before the separate ones)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return "hand"  # check_task_file then says what is wrong with it
    for kind in ("holistic", "hand", "pose", "face"):
        if all(m in names for m in TASK_MEMBERS[kind]):
            return kind
    return "hand"


def verify_model(path: str | os.PathLike, kind: str | None = None, sha256: str | None = None) -> tuple[str, str]:
    """Check a ``.task`` file; ``(kind, sha256)``.

    Args:
        path: the file.
        kind: the landmarker it must be (None: whichever its members say).
        sha256: the hex digest it must have (None: not compared).

    Raises:
        BackendError: missing, not a zip, lacking the members of ``kind``, or another digest.
    """
    kind = kind or guess_kind(path)
    check_task_file(path, kind)
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256.lower():
        raise BackendError(f"{path} has sha256 {digest}, not the expected {sha256.lower()}")
    return kind, digest


def download_model(name: str, cache: str | os.PathLike | None = None, url: str | None = None,
                   sha256: str | None = None) -> Path:
    """Fetch model ``name`` into the cache and return its path (an existing valid file is kept).

    Args:
        name: a key of :data:`MODELS`.
        cache: the cache folder (see :func:`cache_dir`); created when absent.
        url: where to fetch it from instead of MediaPipe's URL (a mirror, a ``file://`` URL).
        sha256: the digest the file must have.

    Raises:
        BackendError: one line for an unreachable URL, an HTTP error, or a file that
            does not verify; nothing is left in the cache then.
    """
    m = model(name)
    folder = cache_dir(cache)
    target = folder / m.file
    if target.is_file():
        verify_model(target, m.kind, sha256)
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BackendError(f"cannot create the model cache {folder} ({e.strerror or e})") from None
    source = url or m.url
    fd, tmp = tempfile.mkstemp(prefix=f".{m.file}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(source, timeout=DOWNLOAD_TIMEOUT) as response:
                    expected = response.headers.get("Content-Length")
                    shutil.copyfileobj(response, out, 1 << 20)
            except urllib.error.HTTPError as e:
                raise BackendError(f"cannot download {m.file} from {source}: HTTP {e.code} {e.reason}") from None
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                why = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
                raise BackendError(f"cannot download {m.file} from {source} ({why})") from None
            out.flush()
            os.fsync(out.fileno())
            got = out.tell()
        if expected is not None and expected.isdigit() and got != int(expected):
            raise BackendError(f"download of {m.file} from {source} was cut short ({got} of {expected} bytes)")
        try:
            verify_model(tmp, m.kind, sha256)
        except BackendError as e:
            raise BackendError(f"download of {m.file} from {source} is not a usable model: "
                               f"{str(e).replace(tmp, 'it')}") from None
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target

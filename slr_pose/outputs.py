"""Where commands write: one policy for every file and folder slr-pose creates.

* A pose store, a run directory, a folder, or a file of another kind than the
  one a command writes is **never** overwritten, not even with ``--force``: a
  mistyped ``-o poses.h5`` must not turn a store into an ARPA file.
* A file of the command's own kind is replaced only when asked (``--force``);
  otherwise the command stops with one line naming the file.
* Every file is written **atomically**: to a temporary file beside it, flushed
  to disk, then renamed over the target. A process killed at any moment, or a
  disk that fills up, leaves the old complete file or the new complete one.

Kinds are recognised by content, not by name: :func:`kind_of` reads the first
bytes of an existing path.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from slr_pose.errors import SlrPoseError

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: What each kind of output is called in messages, and what an existing file
#: must be for the command to replace it with ``--force``.
KINDS = {
    "arpa": "an ARPA language model",
    "onnx": "an ONNX model",
    "text": "a text file",  # CSV tables, Markdown, JSON, CTM/STM
    "png": "a PNG image",
    "gif": "a GIF animation",
}


def kind_of(path: str | os.PathLike) -> str:
    """What ``path`` holds, in a few words: ``"a pose store"``, ``"a run directory"``, one of :data:`KINDS`' values..."""
    path = Path(path)
    if path.is_dir():
        return "a run directory" if is_run_dir(path) else "a folder"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as e:
        return f"an unreadable file ({e.strerror})"
    if not head:
        return "an empty file"
    if head.startswith(HDF5_MAGIC):
        return {"slr-pose-store": "a pose store", "slr-pose-frame-cache": "a frame cache"}.get(_hdf5_format(path), "an HDF5 file")
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (.npz, .pt or .task)"
    if head.startswith(b"\x89PNG"):
        return KINDS["png"]
    if head.startswith(b"GIF8"):
        return KINDS["gif"]
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
        except (OSError, EOFError):
            return "a gzip file"
        return KINDS["arpa"] if _is_arpa(head) else "a gzip file"
    if _is_arpa(head):
        return KINDS["arpa"]
    if head[:1] == b"\x08" and path.suffix == ".onnx":  # ModelProto starts with ir_version (field 1, varint)
        return KINDS["onnx"]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not merely a character cut by the 4 kB window
            return "a binary file"
    return KINDS["text"]


def _is_arpa(head: bytes) -> bool:
    return head.lstrip().startswith(b"\\data\\")


def _hdf5_format(path: Path) -> str:
    """The ``format`` attribute of an HDF5 file ("" if none); a damaged file counts as a pose store."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            return fmt if isinstance(fmt, str) else ""
    except Exception:  # noqa: BLE001 - a damaged HDF5 file is still no file to overwrite
        return "slr-pose-store"


def is_run_dir(path: str | os.PathLike) -> bool:
    """A training run (or a few-shot study of runs) lives here."""
    path = Path(path)
    return any((path / name).exists() for name in ("config.yaml", "checkpoints", "fewshot.json", "study.json"))


def check_output(path: str | os.PathLike, kind: str, *, force: bool = False) -> Path:
    """``path`` as a Path, once writing ``kind`` there is allowed by the policy above.

    Args:
        kind: one of :data:`KINDS`.
        force: replace an existing file of the same kind.

    Raises:
        SlrPoseError: the folder is missing, the path holds something else, or
            a file of this kind exists and ``force`` is false.
    """
    path = Path(path)
    want = KINDS[kind]
    if path.exists() or path.is_symlink():
        found = kind_of(path)
        if found != want and found != "an empty file":
            raise SlrPoseError(f"{path} holds {found}, not {want}: it is never overwritten; choose another output name")
        if not force:
            raise SlrPoseError(f"{path} exists: add --force to replace it")
    elif not path.parent.is_dir():
        raise SlrPoseError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


def check_store_output(path: str | os.PathLike, kind: str = "a pose store") -> Path:
    """``path`` as a Path, if it is a file of ``kind`` to add to (a pose store, a frame cache) or a free name."""
    path = Path(path)
    if path.exists():
        found = kind_of(path)
        if found != kind:
            raise SlrPoseError(f"{path} holds {found}, not {kind}: it is never overwritten; choose another output name")
    elif not path.parent.is_dir():
        raise SlrPoseError(f"output folder {path.parent} does not exist")
    return path


def check_output_dir(path: str | os.PathLike, *, what: str = "run") -> Path:
    """``path`` as a Path, if it is a free name, an empty folder or already a run directory.

    A folder with other content is refused: writing a run into it would mix
    its files with the user's.
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise SlrPoseError(f"{path} holds {kind_of(path)}, not a {what} directory: choose another output folder")
        if not is_run_dir(path) and any(path.iterdir()):
            raise SlrPoseError(f"{path} is a folder with other files, not a {what} directory: choose a new or empty folder")
    elif not path.parent.is_dir():
        raise SlrPoseError(f"cannot create {path}: folder {path.parent} does not exist")
    return path


# --------------------------------------------------------------------------- atomic writes


def _temp_name(path: Path, pid: int) -> Path:
    # the suffix stays last: libraries that pick a format by extension (matplotlib) still do
    return path.with_name(f".{path.stem}.{pid}.tmp{path.suffix}")


_TEMP = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)\.tmp(?P<suffix>\.[^.]*)?$")


def _remove_stale_temps(path: Path) -> None:
    """Temporary files of writers killed before they could rename (their process is gone)."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for p in entries:
        m = _TEMP.match(p.name)
        if not m or m["stem"] != path.stem or (m["suffix"] or "") != path.suffix:
            continue
        pid = int(m["pid"])
        if pid == os.getpid() or _alive(pid):
            continue
        p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def no_space(e: OSError) -> bool:
    """The write failed because the disk (or the process's file-size limit) is full."""
    text = str(e)
    return e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "No space left" in text or "File too large" in text


def failed_write_reason(e: OSError) -> str:
    if no_space(e):
        return "no space left on the device"
    return " ".join((e.strerror or str(e)).split())


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path`` in one rename.

    On any failure the temporary file is removed and ``path`` is untouched; an
    ``OSError`` (a full disk included) becomes one :class:`SlrPoseError` line.
    """
    path = Path(path)
    _remove_stale_temps(path)
    tmp = _temp_name(path, os.getpid())
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    except OSError as e:
        raise SlrPoseError(f"cannot write {path} ({failed_write_reason(e)}); it is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# --------------------------------------------------------------------------- journaled files


class JournalDir:
    """The journal folder beside a journaled file (a pose store, a frame cache) and its lock: one writer at a time.

    Made (if needed) and locked on creation; :meth:`release` unlocks it, and
    :meth:`remove` deletes the folder when nothing is left in it but the
    given bookkeeping files, so a refused or finished write leaves no trace.
    """

    def __init__(self, target: Path, error: type[SlrPoseError] = SlrPoseError) -> None:
        self.path = target.with_name(target.name + ".journal")
        self.made = not self.path.exists()
        try:
            self.path.mkdir(exist_ok=True)
            self._lock = open(self.path / "lock", "a+")
        except OSError as e:
            raise error(f"cannot write beside {target} ({failed_write_reason(e)})") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._lock.close()
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise error(f"{target} is being written by another process") from None
            raise

    @property
    def locked(self) -> bool:
        return not self._lock.closed

    def release(self) -> None:
        if self.locked:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def replay(self, read_entry, error: type[Exception], committed: dict[str, str]) -> list[Path]:
        """The journaled entries a kill left uncommitted, in order, after a restart.

        ``read_entry(path) -> (sample id, sha256)`` reads one entry and raises
        ``error`` for one cut short or damaged, which is deleted (it was never
        finished). An entry whose id is in ``committed`` was committed just
        before a kill could delete it, and is deleted now. The others' ids and
        hashes are added to ``committed``.
        """
        out = []
        for p in sorted(self.path.glob("*.npz")):
            try:
                sample_id, sha = read_entry(p)
            except error:
                p.unlink()
                continue
            if sample_id in committed:
                p.unlink()
                continue
            committed[sample_id] = sha
            out.append(p)
        return out

    def remove(self, *bookkeeping: str) -> None:
        for name in ("lock", *bookkeeping):
            (self.path / name).unlink(missing_ok=True)
        try:
            self.path.rmdir()
        except OSError:
            pass  # something else left there: keep it rather than guess


@contextmanager
def replacing_copy(path: Path, create: Callable[[Path], None], extra_bytes: int) -> Iterator[Path]:
    """A copy of ``path`` (or a new file that ``create`` makes) to write to; on success it replaces ``path``.

    ``extra_bytes`` (an upper bound of what the block adds) are claimed on the
    disk before the block runs: HDF5 cannot recover from a write that fails for
    lack of space (it may crash the process while closing the file), so a full
    disk is one clean ``OSError`` here instead, and HDF5 truncates the file to
    its real end when it closes it. On any failure the copy is removed and
    ``path`` is untouched; ``OSError`` propagates for the caller to phrase.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.exists():
            shutil.copyfile(path, tmp)
        else:
            create(tmp)
        reserve_space(tmp, extra_bytes)
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def reserve_space(path: Path, extra: int) -> None:
    """Allocate ``extra`` bytes past the end of ``path`` (a file system that cannot reserve is left as it is)."""
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size + extra)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
    finally:
        os.close(fd)

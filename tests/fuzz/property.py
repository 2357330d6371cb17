"""The fuzz property itself: a reader returns, or raises one SlrPoseError on one line, within a time limit."""

from __future__ import annotations

import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from slr_pose.errors import SlrPoseError

LIMIT_S = 30.0


class Hang(BaseException):
    """The time limit; a BaseException so that no reader's ``except Exception`` swallows it."""


def _alarm(signum, frame):
    raise Hang


def clean(read):
    """``read()``'s result, or None when it raised an SlrPoseError on one line; anything else fails."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        return read()
    except SlrPoseError as e:
        message = str(e)
        assert message.strip() and "\n" not in message and "\r" not in message, f"not one line: {message!r}"
        return None
    except Hang:
        raise AssertionError(f"still reading after {LIMIT_S:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def scratch():
    with tempfile.TemporaryDirectory(prefix="slr-fuzz-") as tmp:
        yield Path(tmp)


def put(path: Path, content: bytes | None) -> Path:
    """Write ``content`` at ``path``; None makes a folder there instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path

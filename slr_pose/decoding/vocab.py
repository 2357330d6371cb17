"""The gloss vocabulary of a CTC model: id 0 is the blank, glosses are 1..K.

A vocabulary maps gloss strings to the integer ids of a CTC head's output
columns and back. It is saved as JSON (``{"blank": "<blank>", "glosses": [...]}``)
beside a model so that decoding, language models and scoring agree on ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from slr_pose.decoding.stm import read_utf8
from slr_pose.errors import SlrPoseError
from slr_pose.outputs import write_text

#: How the blank is written when a vocabulary is shown or saved.
BLANK = "<blank>"


class Vocabulary:
    """Glosses of a CTC head, in output-column order after the blank.

    Args:
        glosses: the K glosses; gloss ``glosses[i]`` gets id ``i + 1``.
        blank: the name shown for id 0.

    Raises:
        SlrPoseError: on an empty, duplicated or whitespace-containing gloss,
            or a gloss equal to the blank's name.
    """

    def __init__(self, glosses: Iterable[str], blank: str = BLANK) -> None:
        self.blank = blank
        self.glosses: tuple[str, ...] = tuple(glosses)
        index: dict[str, int] = {}
        for i, g in enumerate(self.glosses, start=1):
            if not isinstance(g, str) or not g or g.split() != [g]:
                raise SlrPoseError(f"bad gloss {g!r} at vocabulary id {i}: glosses are non-empty words without spaces")
            if g == blank:
                raise SlrPoseError(f"gloss {g!r} at vocabulary id {i} is the blank's name")
            if g in index:
                raise SlrPoseError(f"gloss {g!r} appears twice in the vocabulary (ids {index[g]} and {i})")
            index[g] = i
        self._index = index

    # -- mapping ---------------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of CTC classes C = K + 1 (blank included)."""
        return len(self.glosses) + 1

    def __contains__(self, gloss: object) -> bool:
        return gloss in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and (self.glosses, self.blank) == (other.glosses, other.blank)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.glosses)} glosses + blank)"

    def id(self, gloss: str) -> int:
        """The id of one gloss; raises :class:`SlrPoseError` for a gloss not in the vocabulary."""
        try:
            return self._index[gloss]
        except KeyError:
            raise SlrPoseError(f"gloss {gloss!r} is not in the vocabulary ({len(self.glosses)} glosses)") from None

    def encode(self, glosses: Sequence[str] | str, skip_unknown: bool = False) -> np.ndarray:
        """Gloss ids (int64, shape ``(n,)``) of a sequence or a space-separated string.

        Args:
            skip_unknown: drop glosses not in the vocabulary instead of raising.
        """
        if isinstance(glosses, str):
            glosses = glosses.split()
        if skip_unknown:
            ids = [self._index[g] for g in glosses if g in self._index]
        else:
            ids = [self.id(g) for g in glosses]
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Glosses of ids; the blank (0) is skipped, an id outside 0..K raises."""
        out = []
        for i in ids:
            i = int(i)
            if i == 0:
                continue
            if not 0 < i <= len(self.glosses):
                raise SlrPoseError(f"token id {i} is outside the vocabulary (ids 1..{len(self.glosses)}, 0 = blank)")
            out.append(self.glosses[i - 1])
        return out

    def token(self, i: int) -> str:
        """The name of one id, the blank included."""
        return self.blank if int(i) == 0 else self.decode([i])[0]

    # -- building and storage --------------------------------------------------------------
    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]], blank: str = BLANK) -> "Vocabulary":
        """The sorted set of glosses seen in gloss sequences."""
        seen: set[str] = set()
        for seq in sequences:
            seen.update(seq)
        return cls(sorted(seen), blank=blank)

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON."""
        data = {"format": "slr-pose-vocabulary", "version": 1, "blank": self.blank, "glosses": list(self.glosses)}
        write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        """Read a vocabulary saved by :meth:`save`, or a text / TSV file with one gloss per line.

        A TSV file takes its first column and skips a header line whose first
        field is ``gloss`` (the format of PHOENIX ``gloss_vocab.tsv``).
        """
        path = Path(path)
        text = read_utf8(path, "vocabulary")
        blank = BLANK
        if path.suffix == ".json":
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as e:
                raise SlrPoseError(f"{path} is not a vocabulary JSON file ({e})") from None
            lines, blank = (data.get("glosses"), data.get("blank", BLANK)) if isinstance(data, dict) else (None, None)
            if not isinstance(lines, list) or not isinstance(blank, str):
                raise SlrPoseError(f"{path} is not a vocabulary JSON file (it needs a list of glosses and a blank name)")
        else:
            lines = [ln.split("\t")[0].strip() for ln in text.splitlines() if ln.strip()]
            if lines and lines[0].lower() == "gloss":
                lines = lines[1:]
        try:
            return cls(lines, blank=blank)
        except SlrPoseError as e:
            raise SlrPoseError(f"{path}: {e}") from None

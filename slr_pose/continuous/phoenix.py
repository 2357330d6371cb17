"""RWTH-PHOENIX-Weather 2014 and 2014-T annotations: gloss sequences for continuous samples.

PHOENIX ships frames and annotations, no landmarks. slr-pose reads the
annotations into :class:`PhoenixRecord` rows, writes an extraction manifest
for ``slr-pose extract`` and, once the frames have been extracted, attaches
each sentence's glosses to its sample (writing a new store).

Annotation formats read (the split comes from the file name)::

    # tables as shipped by CSLR code bases (CorrNet, VAC), comma-separated
    train.csv  fileid,signer,num_frames,gloss                     (2014)
    train.csv  fileid,signer,num_frames,gloss,translation_de      (2014-T)

    # the corpus as distributed by RWTH, '|'-separated, in annotations/manual/
    train.corpus.csv                  id|folder|signer|annotation                    (2014)
    PHOENIX-2014-T.train.corpus.csv   name|video|start|end|speaker|orth|translation  (2014-T)

The official scoring references (``phoenix2014-groundtruth-dev.stm``) are
read by :func:`slr_pose.decoding.stm.read_stm`.

Conventions kept by slr-pose:

* ``glosses`` is the annotation split on whitespace, unchanged (``__ON__``,
  ``loc-NORD`` and the like stay: scoring scripts decide what to drop), so it
  equals the tokens of the official STM reference.
* PHOENIX calls its validation split ``dev``; records keep ``dev``, stores get
  ``val``, the name the training layer uses (:data:`STORE_SPLITS`).
* The 2014-T translation becomes the sample's ``transcript`` (the German text
  of the spoken interpretation: weak supervision, as in KRSL-OnlineSchool).
* Frames live in ``features/fullFrame-210x260px/<split>/<id>/1/`` (2014) and
  ``features/fullFrame-210x260px/<split>/<id>/`` (2014-T; its corpus file says
  ``<id>/1/*.png`` but the release has no ``1`` folder); PHOENIX runs at 25 fps.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store.derive import (
    check_new_store,
    derived_provenance,
    new_store,
    open_source,
)
from slr_pose.outputs import atomic_path

SPLITS = ("train", "dev", "test")
#: PHOENIX split -> split written to stores and manifests.
STORE_SPLITS = {"train": "train", "dev": "val", "test": "test"}
#: ISO 639-3 code of German Sign Language (Deutsche Gebärdensprache).
LANGUAGE = "gsg"
FPS = 25.0
#: Manifest path template: ``{split}`` (PHOENIX name), ``{id}``, ``{folder}``, ``{signer}``.
DEFAULT_PATTERN = "features/fullFrame-210x260px/{split}/{folder}"

#: Where the annotation file of ``split`` may sit below a corpus or annotation folder, in order of preference.
_FILE_NAMES = ("{split}.csv", "{split}.corpus.csv", "PHOENIX-2014-T.{split}.corpus.csv")
_FOLDERS = (".", "annotations/manual", "phoenix-2014-multisigner/annotations/manual", "PHOENIX-2014-T/annotations/manual")
_SPLIT_IN_NAME = re.compile(r"(?:^|[.\-_])(train|dev|test)(?=[.\-_]|$)")


@dataclass(frozen=True)
class PhoenixRecord:
    """One annotated sentence.

    Attributes:
        frames: frame count as annotated, -1 when the file does not say.
        transcript: the German translation (2014-T), else empty.
        folder: the frame folder below ``features/fullFrame-210x260px/<split>/``.
        variant: ``"2014"`` or ``"2014T"``.
    """

    id: str
    signer: str
    split: str
    glosses: tuple[str, ...]
    frames: int = -1
    transcript: str = ""
    folder: str = ""
    variant: str = "2014"

    @property
    def gloss_text(self) -> str:
        return " ".join(self.glosses)


# --------------------------------------------------------------------------- reading


def split_of(path: Path) -> str:
    """``train``/``dev``/``test`` from a file name such as ``PHOENIX-2014-T.dev.corpus.csv``."""
    found = _SPLIT_IN_NAME.findall(path.name)
    if len(set(found)) != 1:
        raise SlrPoseError(f"cannot tell the split (train, dev or test) from the file name {path.name}")
    return found[0]


def read_annotations(path: str | os.PathLike, split: str | None = None) -> list[PhoenixRecord]:
    """Records of one annotation file in any of the formats in the module docs.

    Args:
        split: the PHOENIX split of every row; by default taken from the file name.

    Raises:
        SlrPoseError: an unreadable file, an unknown header, a row without an id
            or glosses, or an id given twice.
    """
    path = Path(path)
    split = split or split_of(path)
    if split not in SPLITS:
        raise SlrPoseError(f"PHOENIX split {split!r} is not one of {', '.join(SPLITS)}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
            fh.seek(0)
            rows = list(csv.DictReader(fh, delimiter="|" if "|" in first else ","))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"cannot read PHOENIX annotations {path} ({e})") from None
    header = set(first.strip().replace("|", ",").split(","))
    make = _row_reader(header, path)
    records, seen = [], set()
    for line, row in enumerate(rows, start=2):
        rec = make(row, split)
        if not rec.id or not rec.glosses:
            raise SlrPoseError(f"{path} line {line}: a sentence needs an id and at least one gloss")
        if rec.id in seen:
            raise SlrPoseError(f"{path} line {line}: sentence {rec.id!r} is listed twice")
        seen.add(rec.id)
        records.append(rec)
    return records


def _row_reader(header: set[str], path: Path) -> Callable[[dict, str], PhoenixRecord]:
    def text(row: dict, key: str) -> str:
        return (row.get(key) or "").strip()

    if {"fileid", "signer", "gloss"} <= header:
        variant = "2014T" if "translation_de" in header else "2014"

        def table(row: dict, split: str) -> PhoenixRecord:
            sid = text(row, "fileid")
            frames = text(row, "num_frames")
            return PhoenixRecord(
                sid, text(row, "signer"), split, tuple(text(row, "gloss").split()),
                _int(frames, path, "num_frames") if frames else -1, text(row, "translation_de"),
                _default_folder(sid, variant), variant,
            )

        return table
    if {"id", "folder", "signer", "annotation"} <= header:
        return lambda row, split: PhoenixRecord(
            text(row, "id"), text(row, "signer"), split, tuple(text(row, "annotation").split()),
            folder=_strip_glob(text(row, "folder")), variant="2014",
        )
    if {"name", "video", "speaker", "orth"} <= header:
        return lambda row, split: PhoenixRecord(
            text(row, "name"), text(row, "speaker"), split, tuple(text(row, "orth").split()),
            transcript=text(row, "translation"), folder=text(row, "name"), variant="2014T",
        )
    raise SlrPoseError(
        f"{path} is not a PHOENIX annotation file: expected columns fileid,signer,num_frames,gloss "
        "or id|folder|signer|annotation or name|video|start|end|speaker|orth|translation"
    )


def _int(value: str | None, path: Path, column: str) -> int:
    """A count from a table cell (None where the row is too short)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if n < 0:
        raise SlrPoseError(f"{path}: {column} {value!r} is not a whole number >= 0")
    return n


def _default_folder(sample_id: str, variant: str) -> str:
    return sample_id if variant == "2014T" else f"{sample_id}/1"


def _strip_glob(folder: str) -> str:
    """``"<id>/1/*.png"`` -> ``"<id>/1"``."""
    parts = folder.split("/")
    return "/".join(p for p in parts if "*" not in p)


def find_annotation_files(root: str | os.PathLike) -> dict[str, Path]:
    """``{split: file}`` for every split found below a corpus or annotation folder."""
    root = Path(root)
    found: dict[str, Path] = {}
    for split in SPLITS:
        for folder in _FOLDERS:
            hits = [root / folder / n.format(split=split) for n in _FILE_NAMES]
            hits = [h for h in hits if h.is_file()]
            if hits:
                found[split] = hits[0]
                break
    return found


def load_corpus(source: str | os.PathLike, splits: Sequence[str] = SPLITS) -> list[PhoenixRecord]:
    """Records of a corpus: an annotation file, or a folder holding one per split.

    A folder may be the annotation folder itself (``train.csv``, ``dev.csv``,
    ``test.csv``), ``annotations/manual`` of the corpus, or the corpus root.

    Raises:
        SlrPoseError: no such path, an unknown split, or no annotation file found.
    """
    source = Path(source)
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise SlrPoseError(f"PHOENIX split {bad[0]!r} is not one of {', '.join(SPLITS)}")
    if source.is_file():
        records = read_annotations(source)
        return [r for r in records if r.split in splits]
    if not source.is_dir():
        raise SlrPoseError(f"no such file or folder: {source}")
    files = find_annotation_files(source)
    if not any(s in files for s in splits):
        raise SlrPoseError(
            f"no PHOENIX annotation files under {source} "
            "(looked for train.csv, train.corpus.csv, PHOENIX-2014-T.train.corpus.csv and the like)"
        )
    records: list[PhoenixRecord] = []
    for s in splits:
        if s in files:
            records += read_annotations(files[s], s)
    ids: set[str] = set()
    for r in records:
        if r.id in ids:
            raise SlrPoseError(f"sentence {r.id!r} is in more than one split of {source}")
        ids.add(r.id)
    return records


def read_gloss_vocab(path: str | os.PathLike) -> dict[str, int]:
    """``{gloss: count}`` of a ``gloss_vocab.tsv`` (gloss, index, train_count).

    In the files shipped by CSLR code bases the ``train_count`` column counts
    train, dev and test together, whatever its name says.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SlrPoseError(f"cannot read gloss vocabulary {path} ({e})") from None
    if rows and not {"gloss", "train_count"} <= set(rows[0]):
        raise SlrPoseError(f"{path} needs the tab-separated columns gloss, index, train_count")
    counts: dict[str, int] = {}
    for line, r in enumerate(rows, start=2):
        if not r["gloss"] or r["gloss"] in counts:
            raise SlrPoseError(f"{path} line {line}: gloss {r['gloss']!r} is empty or listed twice")
        counts[r["gloss"]] = _int(r["train_count"], path, "train_count")
    return counts


# --------------------------------------------------------------------------- extraction manifest

MANIFEST_FIELDS = ("path", "id", "signer", "split", "glosses", "transcript", "language")


def write_manifest(
    records: Iterable[PhoenixRecord],
    out: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    pattern: str = DEFAULT_PATTERN,
    language: str = LANGUAGE,
) -> int:
    """Write an extraction manifest (columns :data:`MANIFEST_FIELDS`); returns its row count.

    Args:
        root: the corpus root the pattern is relative to; paths are written
            absolute. Without it the pattern is written as is, to be resolved
            against the manifest's folder.
        pattern: path of a sentence's frames or video, with ``{split}``,
            ``{id}``, ``{folder}`` and ``{signer}`` filled in, e.g.
            ``videos/{split}/{id}.mp4`` for a corpus converted to video.
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise SlrPoseError(f"folder {out.parent} does not exist")
    base = Path(root).resolve() if root is not None else None
    rows = []
    for r in records:
        try:
            rel = pattern.format(split=r.split, id=r.id, folder=r.folder, signer=r.signer)
        except (KeyError, IndexError, ValueError) as e:
            raise SlrPoseError(f"path pattern {pattern!r} is not valid ({e}); use {{split}}, {{id}}, {{folder}}, {{signer}}") from None
        path = (base / rel).as_posix() if base is not None else rel
        rows.append((path, r.id, r.signer, STORE_SPLITS[r.split], r.gloss_text, r.transcript, language))
    with atomic_path(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MANIFEST_FIELDS)
        writer.writerows(rows)
    return len(rows)


# --------------------------------------------------------------------------- attaching to a store


@dataclass
class AttachReport:
    """What :func:`attach_records` did. Ids in store order (records: corpus order)."""

    attached: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # samples with no record (left out unless kept)
    absent: list[str] = field(default_factory=list)  # records with no sample
    length_mismatch: list[str] = field(default_factory=list)  # attached, stored frames != annotated frames


def match_record(sample_id: str, by_id: dict[str, PhoenixRecord]) -> PhoenixRecord | None:
    """The record of a stored sample: its id, else the one path component of it that is a PHOENIX id.

    ``train/01April_2010_Thursday_heute_default-0/1`` (a sample extracted from a
    frame folder) matches record ``01April_2010_Thursday_heute_default-0``.
    """
    if sample_id in by_id:
        return by_id[sample_id]
    hits = {p for p in sample_id.split("/") if p in by_id}
    return by_id[hits.pop()] if len(hits) == 1 else None


def attach_records(
    store: str | os.PathLike,
    records: Sequence[PhoenixRecord],
    out: str | os.PathLike,
    *,
    language: str = LANGUAGE,
    keep_unmatched: bool = False,
    progress: Callable[[str], None] | None = None,
) -> AttachReport:
    """Copy ``store`` to a new store ``out`` with each sample's glosses, signer, split and transcript.

    The landmarks are copied unchanged; ``glosses``, ``transcript``, ``signer``,
    ``split`` (``dev`` stored as ``val``) and ``language`` come from the record.

    Args:
        keep_unmatched: also copy samples that match no record (unlabelled).

    Raises:
        SlrPoseError: ``out`` exists, or no stored sample matches any record.
    """
    out = check_new_store(out, store)
    source = open_source(store)
    by_id = {r.id: r for r in records}
    report = AttachReport()
    plan = []
    for i, sid in enumerate(source.ids):
        rec = match_record(sid, by_id)
        if rec is None:
            report.unmatched.append(sid)
        plan.append((i, rec))
    if not any(rec is not None for _, rec in plan):
        raise SlrPoseError(f"no sample of {store} has a PHOENIX sentence id (first sample: {source.ids[0]!r})")
    settings = {"annotations": sorted({r.variant for r in records}), "language": language, "records": len(records)}
    prov = derived_provenance(source, "phoenix-glosses", settings)
    used: set[str] = set()
    with new_store(out, source.layout, prov) as writer:
        for i, rec in plan:
            if rec is None and not keep_unmatched:
                continue
            sample = source.read(i)
            if rec is not None:
                used.add(rec.id)
                sample = replace(
                    sample,
                    info=replace(
                        sample.info, glosses=rec.gloss_text, transcript=rec.transcript, signer=rec.signer,
                        split=STORE_SPLITS[rec.split], language=language,
                    ),
                )
                report.attached.append(sample.info.id)
                if rec.frames >= 0 and rec.frames != sample.info.length:
                    report.length_mismatch.append(sample.info.id)
            writer.add(sample)
            if progress is not None:
                progress(sample.info.id)
    report.absent = [r.id for r in records if r.id not in used]
    return report

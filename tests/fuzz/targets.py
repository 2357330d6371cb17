"""Fuzz targets: every reader of user files (pose stores aside), fed damaged real files.

The property, for any input: the reader returns data that passes its own
checks, or raises one :class:`~slr_pose.errors.SlrPoseError` whose message is
a single line. Any other exception, or a reader still running after
:data:`~tests.fuzz.property.LIMIT_S` seconds, fails.

Each target is a hypothesis strategy of damage (see :mod:`tests.fuzz.mutations`)
and a plain ``check_<name>(case)`` that applies it to a real seed file (see
:mod:`tests.fuzz.seeds`), calls the reader and asserts the property;
:data:`TARGETS` lists them for ``test_readers.py`` and ``benchmarks/fuzz.py``.
"""

from __future__ import annotations

import io
import json
import math
from functools import cache

import numpy as np
from hypothesis import strategies as st

from tests.fuzz import seeds
from tests.fuzz.property import clean, put, scratch
from tests.fuzz.stores import STORE_CASES, check_store
from tests.fuzz.mutations import (
    BINARY_DAMAGE,
    ODD_NUMBERS,
    ODD_TEXT,
    TEXT_DAMAGE,
    apply_arrays,
    apply_damage,
    apply_tree,
    array_edits,
    nested,
    tree_edits,
    weighted,
)

def is_token(g) -> bool:
    """A gloss or field: a non-empty string without whitespace."""
    return isinstance(g, str) and g.split() == [g]


# --------------------------------------------------------------------------- landmarks


@cache
def layout():
    from slr_pose.keypoints.layout import holistic_layout

    return holistic_layout("contour")


def load_all(candidates, limit: int = 3) -> None:
    """Load (and hash) the first candidates; a sample loaded must keep the store's contract."""
    assert len({c.id for c in candidates}) == len(candidates)
    for cand in candidates[:limit]:
        assert isinstance(cand.id, str) and cand.id
        sample = clean(cand.load)
        if sample is not None:
            assert_sample(sample, cand.digest())


def assert_sample(sample, digest: str) -> None:
    lay = layout()
    sample.check(lay)
    assert sample.info.length == len(sample.xyz) and sample.info.sha256 == digest
    present = np.isfinite(sample.xyz).all(-1)
    assert (present | np.isnan(sample.xyz).all(-1)).all(), "a landmark with some of x, y, z missing"
    conf = sample.confidence
    assert np.isfinite(conf).all() and (conf >= 0).all() and (conf <= 1).all() and (conf[~present] == 0).all()
    for g, where in enumerate(lay.group_slices.values()):
        np.testing.assert_array_equal(sample.missing[:, g], ~present[:, where].any(1))
    assert np.isfinite(sample.time).all() or np.isnan(sample.time).all()
    fps = sample.info.fps
    assert math.isnan(fps) or (math.isfinite(fps) and fps > 0)


def column_specs():
    """Spec strings: built from the grammar with odd pieces, presets with text spliced in, and any text."""
    from slr_pose.keypoints.importers.arrays import PRESETS

    group = st.sampled_from(["pose", "left_hand", "right_hand", "face", "Pose", "lefthand", "", "skip"])
    number = st.one_of(st.integers(-2, 500).map(str), st.sampled_from(["²", "٣", "", " 3", "99999999999999999999", "a"]))
    rng = st.one_of(st.just(""), number.map("[{}]".format), st.tuples(number, number).map(lambda t: f"[{t[0]}:{t[1]}]"))
    block = st.one_of(st.tuples(group, rng, st.text("xyzv_q", max_size=5)).map(lambda t: f"{t[0]}{t[1]}:{t[2]}"),
                      number.map("skip:{}".format))  # fmt: skip
    return st.one_of(
        st.lists(block, min_size=1, max_size=4).map(",".join),
        st.tuples(st.sampled_from([*PRESETS, *PRESETS.values()]), st.integers(0, 80), ODD_TEXT).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
        ),
        st.text(max_size=30),
    )


def check_column_spec(text: str) -> None:
    from slr_pose.keypoints.importers.arrays import ColumnSpec

    spec = clean(lambda: ColumnSpec.parse(text))
    if spec is not None:
        assert spec.width > 0 and len(set(spec.names)) == len(spec.names) > 0
        assert ColumnSpec.parse(str(spec)) == spec


@cache
def spec():
    from slr_pose.keypoints.importers.arrays import ColumnSpec

    return ColumnSpec.parse("msl150")


def array_options():
    from slr_pose.keypoints.importers.arrays import ArrayOptions

    key = st.one_of(st.none(), st.sampled_from(["keypoints", "label", "sample_id", "nope"]))
    fmt = st.one_of(st.sampled_from(["{stem}_{index}", "{label}_{id}", "{id[0]}", "{id.real}", "{label.x}", "{index:s}",
                                     "{", "}", "{0}", "{nope}", ""]), st.text(max_size=8))  # fmt: skip
    return st.one_of(
        st.just(ArrayOptions()),
        st.builds(ArrayOptions, zero_is_missing=st.booleans(), trim=st.booleans(), array_key=key, label_key=key,
                  id_key=key, id_format=st.one_of(st.none(), fmt)),  # fmt: skip
    )


def check_npy(damage) -> None:
    from slr_pose.keypoints.importers.arrays import array_candidates

    with scratch() as tmp:
        path = put(tmp / "sample.npy", apply_damage(seeds.npy_file(), damage))
        load_all(clean(lambda: array_candidates([path], spec(), layout())) or [])


NPZ_CASES = st.tuples(
    st.one_of(st.tuples(st.just("file"), BINARY_DAMAGE), st.tuples(st.just("arrays"), array_edits(["keypoints", "label", "sample_id"]))),
    array_options(),
)


def check_npz(case) -> None:
    from slr_pose.keypoints.importers.arrays import array_candidates

    (kind, damage), options = case
    if kind == "file":
        content = apply_damage(seeds.npz_file(), damage)
    else:
        content = seeds.npz_bytes(apply_arrays(seeds.msl_arrays(), damage))
    with scratch() as tmp:
        path = put(tmp / "signs.npz", content)
        load_all(clean(lambda: array_candidates([path], spec(), layout(), options=options)) or [])


PARQUET_COLUMNS = ["frame", "row_id", "type", "landmark_index", "x", "y", "z"]
TABLE_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("drop"), st.sampled_from(PARQUET_COLUMNS)),
        st.tuples(st.just("fill"), st.sampled_from(PARQUET_COLUMNS), st.integers(0, 1700), st.integers(0, 40),
                  st.one_of(st.none(), ODD_NUMBERS, ODD_TEXT, st.integers(-(2**70), 2**70))),
        st.tuples(st.just("cast"), st.sampled_from(PARQUET_COLUMNS),
                  st.sampled_from(["string", "float32", "int8", "int64", "bool", "null", "dictionary"])),
        st.tuples(st.just("rows"), st.integers(0, 1700), st.integers(0, 1700)),
    ),
    min_size=1,
    max_size=3,
)  # fmt: skip


def edited_table(edits) -> bytes:
    """The seed table after column edits, written as parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = seeds.parquet_table()
    for kind, *arg in edits:
        if kind == "rows":
            table = table.slice(min(arg), abs(arg[1] - arg[0]))
            continue
        if arg[0] not in table.column_names:
            continue
        i = table.column_names.index(arg[0])
        col = table.column(i)
        if kind == "drop":
            table = table.remove_column(i)
            continue
        if kind == "fill":
            values = col.to_pylist()
            values[arg[1] : arg[1] + arg[2]] = [arg[3]] * len(values[arg[1] : arg[1] + arg[2]])
            try:
                col = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                col = pa.array([None if v is None else str(v) for v in values])
        else:
            try:
                col = pc.dictionary_encode(col) if arg[1] == "dictionary" else col.cast(arg[1])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                continue
        table = table.set_column(i, arg[0], col)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


PARQUET_CASES = st.one_of(st.tuples(st.just("file"), BINARY_DAMAGE), st.tuples(st.just("table"), TABLE_EDITS))


def check_parquet(case) -> None:
    from slr_pose.keypoints.importers.kaggle import read_parquet

    kind, damage = case
    content = apply_damage(seeds.parquet_file(), damage) if kind == "file" else edited_table(damage)
    with scratch() as tmp:
        path = put(tmp / "sequence.parquet", content)
        read = clean(lambda: read_parquet(path))
    if read is not None:
        frames, xyz = read
        assert frames.dtype == np.int64 and frames.ndim == 1 and (np.diff(frames) > 0).all()
        assert xyz.dtype == np.float32 and xyz.shape == (len(frames), 543, 3)


def check_kaggle_index(damage) -> None:
    from slr_pose.keypoints.importers.kaggle import kaggle_candidates

    with scratch() as tmp:
        put(tmp / "train.csv", apply_damage(seeds.kaggle_index(), damage, ","))
        for name in seeds.KAGGLE_FILES:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).symlink_to(seeds.KAGGLE / name)
        load_all(clean(lambda: kaggle_candidates(tmp, layout())) or [])


POSE_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("fps"), st.floats(width=32)),
        st.tuples(st.just("size"), st.integers(0, 65535), st.integers(0, 65535)),
        st.tuples(st.just("keep"), st.sets(st.sampled_from(["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS",
                                                            "RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS"]), min_size=1)),
        st.tuples(st.just("rename"), st.integers(0, 4), st.text(max_size=20)),
        st.tuples(st.just("point"), st.integers(0, 4), st.integers(0, 600), st.text(max_size=8)),
        st.tuples(st.just("frames"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(st.just("people"), st.integers(0, 3)),
        st.tuples(st.just("value"), st.integers(0, 10**5), st.floats(width=32)),
        st.tuples(st.just("confidence"), st.integers(0, 10**4), st.floats(width=32)),
    ),
    min_size=1,
    max_size=3,
)  # fmt: skip


def edited_pose(edits) -> bytes:
    """The seed .pose after header and body edits, written by pose-format."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody

    pose = Pose.read(seeds.pose_file())
    for kind, *arg in edits:
        if kind == "keep":
            pose = pose.get_components([c.name for c in pose.header.components if c.name in arg[0]] or [pose.header.components[0].name])
    header, body = pose.header, pose.body
    fps, data, conf = body.fps, np.ma.getdata(body.data).copy(), np.asarray(body.confidence).copy()
    for kind, *arg in edits:
        comp = header.components[arg[0] % len(header.components)] if kind in ("rename", "point") else None
        if kind == "fps":
            fps = arg[0]
        elif kind == "size":
            header.dimensions.width, header.dimensions.height = arg
        elif kind == "rename":
            comp.name = arg[1]
        elif kind == "point" and comp.points:
            comp.points[arg[1] % len(comp.points)] = arg[2]
        elif kind == "frames":
            data, conf = data[min(arg) : max(arg)], conf[min(arg) : max(arg)]
        elif kind == "people":
            data, conf = np.repeat(data, arg[0], axis=1), np.repeat(conf, arg[0], axis=1)
        elif kind == "value" and data.size:
            data.flat[arg[0] % data.size] = arg[1]
        elif kind == "confidence" and conf.size:
            conf.flat[arg[0] % conf.size] = arg[1]
    buf = io.BytesIO()
    Pose(header, NumPyPoseBody(fps, data, conf)).write(buf)
    return buf.getvalue()


POSE_CASES = st.one_of(st.tuples(st.just("file"), BINARY_DAMAGE), st.tuples(st.just("pose"), POSE_EDITS))


def check_pose(case) -> None:
    from slr_pose.keypoints.importers.pose_format import pose_candidates

    kind, damage = case
    content = apply_damage(seeds.pose_file(), damage) if kind == "file" else edited_pose(damage)
    with scratch() as tmp:
        path = put(tmp / "clip.pose", content)
        load_all(clean(lambda: pose_candidates([path], layout())) or [])


# --------------------------------------------------------------------------- decoding files


ARPA_CASES = st.tuples(TEXT_DAMAGE, st.sampled_from(["plain", "gzip", "named .gz"]))


def check_arpa(case) -> None:
    from slr_pose.decoding.lm import NGramLM

    damage, packing = case
    content = apply_damage(seeds.arpa_file(), damage)
    if packing == "gzip" and content is not None:
        content = seeds.gzipped(content)
    with scratch() as tmp:
        path = put(tmp / ("lm.arpa" if packing == "plain" else "lm.arpa.gz"), content)
        lm = clean(lambda: NGramLM.load(path))
    if lm is None:
        return
    assert lm.order == len(lm.entries) - 1 >= 1
    for k in range(1, lm.order + 1):
        for gram, (lp, bo) in lm.entries[k].items():
            assert len(gram) == k and all((w,) in lm.entries[1] for w in gram), gram
            assert not math.isnan(lp + bo) and max(lp, bo) < math.inf, (gram, lp, bo)
    assert not math.isnan(lm.sentence_log_prob(list(lm.words[:4])))


def check_stm(damage) -> None:
    from slr_pose.decoding.stm import read_stm

    with scratch() as tmp:
        segments = clean(lambda: read_stm(put(tmp / "ref.stm", apply_damage(seeds.stm_file(), damage)))) or []
    for s in segments:
        assert all(is_token(f) for f in (s.id, s.channel, s.speaker, *s.glosses))
        assert math.isfinite(s.start) and s.start <= s.end and not math.isnan(s.end)


def check_ctm(damage) -> None:
    from slr_pose.decoding.stm import read_ctm

    with scratch() as tmp:
        words = clean(lambda: read_ctm(put(tmp / "hyp.ctm", apply_damage(seeds.ctm_file(), damage)))) or []
    for w in words:
        assert all(is_token(f) for f in (w.id, w.channel, w.gloss))
        assert math.isfinite(w.start) and math.isfinite(w.duration) and w.duration >= 0
        assert w.confidence is None or math.isfinite(w.confidence)


CORPUS_NAMES = ["train.csv", "dev.csv", "test.corpus.csv", "PHOENIX-2014-T.train.corpus.csv"]


def _sep(name: str) -> str:
    return "|" if "corpus" in name else ","


CORPUS_CASES = st.tuples(st.sampled_from(CORPUS_NAMES), TEXT_DAMAGE, st.sampled_from([".csv", ".stm", ".txt"]))


def check_corpus(case) -> None:
    from slr_pose.decoding.corpus import read_corpus_csv, read_gloss_sequences

    name, damage, suffix = case
    with scratch() as tmp:
        path = put(tmp / f"corpus{suffix}", apply_damage(seeds.corpus_files()[name], damage, _sep(name)))
        sequences = clean(lambda: read_gloss_sequences(path)) or []
        entries = clean(lambda: read_corpus_csv(path)) or []
    assert all(is_token(g) for seq in sequences for g in seq)
    for e in entries:
        assert isinstance(e.id, str) and all(is_token(g) for g in e.glosses)
        assert e.signer is None or isinstance(e.signer, str)
        assert e.num_frames is None or (isinstance(e.num_frames, int) and e.num_frames >= 0)


TIMED_CASES = st.tuples(st.sampled_from(["gloss", "text"]), TEXT_DAMAGE, st.sampled_from(["s", "ms"]))


def check_timed_table(case) -> None:
    from slr_pose.continuous.segments import read_timed_table

    column, damage, unit = case
    with scratch() as tmp:
        path = put(tmp / f"{column}.csv", apply_damage(seeds.timed_tables()[column], damage, ","))
        rows = clean(lambda: read_timed_table(path, column, unit)) or []
    for r in rows:
        assert math.isfinite(r.start) and math.isfinite(r.end) and 0 <= r.start < r.end
        assert r.video and r.video == r.video.strip() and r.value and (column != "gloss" or is_token(r.value))


PHOENIX_CASES = st.tuples(st.sampled_from(CORPUS_NAMES), TEXT_DAMAGE)


def check_phoenix(case) -> None:
    from slr_pose.continuous.phoenix import SPLITS, load_corpus, read_annotations

    name, damage = case
    with scratch() as tmp:
        path = put(tmp / name, apply_damage(seeds.corpus_files()[name], damage, _sep(name)))
        records = clean(lambda: read_annotations(path)) or []
        records += clean(lambda: load_corpus(tmp)) or []
    for r in records:
        assert isinstance(r.id, str) and r.id and r.id == r.id.strip()
        assert r.glosses and all(is_token(g) for g in r.glosses) and r.split in SPLITS
        assert isinstance(r.frames, int) and r.frames >= -1


def check_gloss_vocab(damage) -> None:
    from slr_pose.decoding.vocab import Vocabulary
    from slr_pose.continuous.phoenix import read_gloss_vocab

    with scratch() as tmp:
        path = put(tmp / "gloss_vocab.tsv", apply_damage(seeds.gloss_vocab(), damage, "\t"))
        counts = clean(lambda: read_gloss_vocab(path)) or {}
        vocab = clean(lambda: Vocabulary.load(path))
    assert all(isinstance(g, str) and g and isinstance(n, int) and n >= 0 for g, n in counts.items())
    assert vocab is None or all(is_token(g) for g in vocab.glosses)


VOCABULARY_CASES = st.one_of(
    TEXT_DAMAGE.map(lambda d: ("file", d)),
    tree_edits(["glosses", "glosses.0", "blank", "format", "version"]).map(lambda e: ("json", e)),
)


def check_vocabulary(case) -> None:
    from slr_pose.decoding.vocab import Vocabulary

    kind, damage = case
    if kind == "file":
        content = apply_damage(seeds.vocabulary_json(), damage)
    else:
        content = json.dumps(apply_tree(json.loads(seeds.vocabulary_json()), damage)).encode()
    with scratch() as tmp:
        vocab = clean(lambda: Vocabulary.load(put(tmp / "vocab.json", content)))
    if vocab is not None:
        assert isinstance(vocab.blank, str) and all(is_token(g) for g in vocab.glosses)
        assert len(set(vocab.glosses)) == len(vocab.glosses) and vocab.blank not in vocab.glosses


# --------------------------------------------------------------------------- extraction and training files


def check_manifest(damage) -> None:
    from slr_pose.keypoints.inputs import collect_inputs, read_manifest

    with scratch() as tmp:
        path = put(tmp / "videos.csv", apply_damage(seeds.manifest(), damage, ","))
        (tmp / "videos").symlink_to(seeds.BUNDLED / "msl150" / "videos")
        read = clean(lambda: read_manifest(path))
        collected = clean(lambda: collect_inputs([path]))
        for items, problems in [r for r in (read, collected) if r is not None]:
            for v in items:
                assert isinstance(v.id, str) and v.id and "\n" not in v.id and v.path.exists()
                assert v.start >= -1 and v.end >= -1 and (v.start < 0 or v.end < 0 or v.start <= v.end)
                assert math.isfinite(v.fps) and v.fps >= 0
            for p in problems:
                assert p.reason and "\n" not in p.reason and "\r" not in p.reason, p.reason


def check_config_yaml(damage) -> None:
    from slr_pose.training.config import config_from_dict, load_config

    with scratch() as tmp:
        config = clean(lambda: load_config(put(tmp / "config.yaml", apply_damage(seeds.config_file(), damage))))
    if config is not None:
        assert config_from_dict(config.to_dict()) == config


def config_paths() -> list[str]:
    """Dotted keys of a config: every section and field, the store entries, preprocess and augment options."""
    from dataclasses import fields

    from slr_pose.graphs.normalisation.augment import Augment
    from slr_pose.graphs.normalisation.pipeline import PreprocessConfig
    from slr_pose.training.config import Config

    def walk(d: dict, prefix: str):
        for k, v in d.items():
            yield prefix + k
            if isinstance(v, dict):
                yield from walk(v, f"{prefix}{k}.")

    store = ["data.stores.0", "data.stores.0.path", "data.stores.0.language", "data.stores.1"]
    options = [f"data.preprocess.{f.name}" for f in fields(PreprocessConfig)] + [f"augment.{f.name}" for f in fields(Augment)]
    return sorted(set(walk(Config().to_dict(), ""))) + store + options


CONFIG_PATHS = config_paths()
OVERRIDES = st.lists(
    weighted(
        (4, st.tuples(st.sampled_from(CONFIG_PATHS), st.one_of(ODD_TEXT, nested().map(json.dumps))).map("=".join)),
        (1, ODD_TEXT),
    ),
    max_size=2,
)


def check_config_dict(case) -> None:
    import yaml

    from slr_pose.training.config import apply_overrides, config_from_dict

    edits, overrides = case
    values = apply_tree(yaml.safe_load(seeds.config_file()), edits)
    config = clean(lambda: config_from_dict(apply_overrides(values, overrides) if isinstance(values, dict) else values))
    if config is not None:
        assert config_from_dict(config.to_dict()) == config


CHECKPOINT_PATHS = [
    "model", "meta", "epoch", "meta.task", "meta.labels", "meta.labels.mfs", "meta.labels.mfs.0", "meta.num_channels",
    "meta.landmarks", "meta.landmarks.0", "meta.preprocess", "meta.preprocess.subset", "meta.preprocess.streams",
    "meta.grouping", "meta.config", "meta.config.model", "meta.config.model.name", "meta.config.data.groups",
    "meta.config.data.preprocess.subset", "meta.extractors",
]  # fmt: skip
TENSORS = st.tuples(st.integers(0, 400), st.lists(st.integers(0, 3), max_size=3))
CHECKPOINT_CASES = st.one_of(
    st.tuples(st.just("file"), BINARY_DAMAGE),
    # not the tree's own paths: nearly all of them are weights, which TENSORS edits
    st.tuples(st.just("state"), tree_edits(CHECKPOINT_PATHS, own=False), st.lists(TENSORS, max_size=2)),
)


def checkpoint_bytes(edits, tensors) -> bytes:
    """The seed checkpoint after edits to its metadata and weights, saved by torch."""
    import torch

    state = apply_tree(seeds.checkpoint_state(), edits)
    model = state.get("model") if isinstance(state, dict) else None
    if isinstance(model, dict) and model:
        names = list(model)
        for index, shape in tensors:
            model[names[index % len(names)]] = torch.zeros(shape)
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


@cache
def fresh_model():
    from slr_pose.inference.runs import load_run

    return load_run(seeds.run_dir()).model


def check_checkpoint(case) -> None:
    import torch

    from slr_pose.training.labels import Grouping
    from slr_pose.training.modeling import load_encoder_init
    from slr_pose.inference.runs import load_run

    kind, *damage = case
    content = apply_damage(seeds.checkpoint(), damage[0]) if kind == "file" else checkpoint_bytes(*damage)
    with scratch() as tmp:
        path = put(tmp / "run" / "checkpoints" / "best.pt", content)
        run = clean(lambda: load_run(tmp / "run"))
        if run is not None:
            assert isinstance(run.model, torch.nn.Module) and not run.model.training and run.task in ("islr", "cslr")
            grouping = clean(lambda: run.grouping)
            assert grouping is None or isinstance(grouping, Grouping)
        model = fresh_model()
        copied = clean(lambda: load_encoder_init(model, path))
        assert copied is None or copied == len(model.encoder.state_dict())


DECODING_CASES = st.one_of(
    TEXT_DAMAGE.map(lambda d: ("file", d)),
    tree_edits(["beam_width", "lm_weight", "insertion_bonus", "chosen_on"]).map(lambda e: ("json", e)),
)


def check_decoding_settings(case) -> None:
    from slr_pose.training.cslr_decoding import DecoderSettings

    kind, damage = case
    if kind == "file":
        content = apply_damage(seeds.decoding_json(), damage)
    else:
        content = json.dumps(apply_tree(json.loads(seeds.decoding_json()), damage)).encode()
    with scratch() as tmp:
        put(tmp / "decoding.json", content)
        settings = clean(lambda: DecoderSettings.of_run(tmp))
    if settings is not None:
        assert isinstance(settings.beam_width, int) and settings.beam_width >= 1
        assert math.isfinite(settings.lm_weight) and settings.lm_weight >= 0 and math.isfinite(settings.insertion_bonus)
        assert isinstance(settings.chosen_on, str)


def check_grouping(damage) -> None:
    from slr_pose.training.labels import Grouping

    with scratch() as tmp:
        grouping = clean(lambda: Grouping.load(put(tmp / "groups.csv", apply_damage(seeds.grouping_table(), damage, ","))))
    for (language, gloss), group in (grouping.table.items() if grouping else ()):
        assert isinstance(language, str) and gloss and isinstance(gloss, str) and group and isinstance(group, str)


SCORES_CASES = st.one_of(
    st.tuples(st.just("file"), BINARY_DAMAGE),
    st.tuples(st.just("arrays"), array_edits(["ids", "split", "language", "scores", "classes"])),
    st.tuples(st.just("classes"), nested()),
)


def check_scores(case) -> None:
    from slr_pose.evaluation.fusion import file_stream
    from slr_pose.training.labels import LabelSpace

    kind, damage = case
    arrays = seeds.scores_arrays()
    if kind == "file":
        content = apply_damage(seeds.npz_bytes(arrays), damage)
    elif kind == "arrays":
        content = seeds.npz_bytes(apply_arrays(arrays, damage))
    else:
        content = seeds.npz_bytes({**arrays, "classes": np.array(json.dumps(damage))})
    labels = LabelSpace.from_json(seeds.SCORE_CLASSES)
    with scratch() as tmp:
        stream = clean(lambda: file_stream(put(tmp / "rgb.npz", content), labels))
    if stream is not None:
        m = len(stream.ids)
        assert stream.split.shape == stream.language.shape == stream.target.shape == (m,)
        assert stream.log_probs.shape[0] == m and stream.log_probs.shape[1] >= max(labels.sizes.values())
        assert not np.isnan(stream.log_probs).any()
        for i, lang in enumerate(stream.language):
            n = labels.sizes[labels.languages[lang]]
            assert np.isfinite(stream.log_probs[i, :n]).any()


#: name -> (strategy of cases, check); the readers each one covers are named in its check.
TARGETS = {
    "column_spec": (column_specs(), check_column_spec),
    "npy": (BINARY_DAMAGE, check_npy),
    "npz": (NPZ_CASES, check_npz),
    "kaggle_parquet": (PARQUET_CASES, check_parquet),
    "kaggle_index": (TEXT_DAMAGE, check_kaggle_index),
    "pose_format": (POSE_CASES, check_pose),
    "arpa": (ARPA_CASES, check_arpa),
    "stm": (TEXT_DAMAGE, check_stm),
    "ctm": (TEXT_DAMAGE, check_ctm),
    "corpus": (CORPUS_CASES, check_corpus),
    "timed_table": (TIMED_CASES, check_timed_table),
    "phoenix": (PHOENIX_CASES, check_phoenix),
    "gloss_vocab": (TEXT_DAMAGE, check_gloss_vocab),
    "vocabulary": (VOCABULARY_CASES, check_vocabulary),
    "manifest": (TEXT_DAMAGE, check_manifest),
    "config_yaml": (TEXT_DAMAGE, check_config_yaml),
    "config_dict": (st.tuples(tree_edits(CONFIG_PATHS), OVERRIDES), check_config_dict),
    "checkpoint": (CHECKPOINT_CASES, check_checkpoint),
    "decoding_settings": (DECODING_CASES, check_decoding_settings),
    "grouping": (TEXT_DAMAGE, check_grouping),
    "fusion_scores": (SCORES_CASES, check_scores),
    "pose_store": (STORE_CASES, check_store),
}

#: Targets whose seeds come from ``../shared/data``.
NEEDS_SHARED = {"kaggle_parquet", "kaggle_index", "arpa", "stm", "ctm", "corpus", "timed_table", "phoenix",
                "gloss_vocab", "vocabulary"}  # fmt: skip

"""Isolated signs end to end through ``slr-pose``: train, evaluate, predict, vssign, fewshot, export, fuse.

One tiny run co-trained on two real sign languages (MSL-150 "mfs" and the
Kaggle asl-signs sequences "ase", two heads) is shared by the tests of this
module; a few smaller single-language runs serve grouping, fusion and
transfer. The runs are too short to be accurate: the assertions check that
what each command reports agrees with what can be recomputed from its files.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result

from slr_pose.cli.main import cli
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.training.config import load_config
from slr_pose.training.data import collate
from slr_pose.evaluation.samples import run_samples
from slr_pose.training.islr import ISLRTask
from slr_pose.inference.runs import load_run
from tests.conftest import MSL_VIDEOS
from tests.training.test_trainer import write_config

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.usefixtures("one_torch_thread")]
MSL_CLASSES = ["ambulancia", "doctor", "dolor", "hoy", "yo"]
JOINT = {"subset": "upper_body_hands", "length": 24, "streams": ["joint"]}


def run(*args) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def ok(*args) -> str:
    r = run(*args)
    assert r.exit_code == 0, r.output
    return r.output


def one_line_error(*args) -> str:
    """The message of a command that must fail with one line and no traceback."""
    r = run(*args)
    assert r.exit_code != 0, r.output
    assert r.output.startswith("Error: ") and r.output.count("\n") == 1, r.output
    return r.output[len("Error: "):].rstrip("\n")


def derive(src: Path, out: Path, change) -> Path:
    """A copy of a real store with ``change(info) -> info`` applied to every sample."""
    store = PoseStore(src)
    with StoreWriter(out, store.layout, store.provenance) as w:
        for i in range(len(store)):
            s = store.read(i)
            w.add(replace(s, info=change(s.info)))
    return out


def train_run(tmp: Path, name: str, stores: list[dict], **sections) -> Path:
    out = ok("train", write_config(tmp, stores, name=f"{name}.yaml", **sections), "-o", tmp / name, "--no-progress")
    assert f"run saved in {tmp / name}" in out
    return tmp / name


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("islr")


@pytest.fixture(scope="module")
def cotrained(work, msl_store, asl_store) -> tuple[Path, str]:
    """MSL-150 (mfs, 5 signs) and asl-signs (ase, 2 signs) in one model with two heads, 3 epochs."""
    path = write_config(work, [{"path": str(msl_store)}, {"path": str(asl_store)}], name="co.yaml",
                        train={"epochs": 3})
    out = ok("train", path, "-o", work / "co", "--no-progress")
    return work / "co", out


@pytest.fixture(scope="module")
def streams(work, msl_store) -> dict[str, Path]:
    """Two MSL-150 runs on one split, one per stream (joint, bone)."""
    return {s: train_run(work, s, [{"path": str(msl_store)}], data={"preprocess": {**JOINT, "streams": [s]}},
                         train={"epochs": 3})
            for s in ("joint", "bone")}


def confusion_csv(path: Path) -> tuple[list[str], np.ndarray]:
    rows = list(csv.reader(path.open()))
    return rows[0][1:], np.array([[int(v) for v in r[1:]] for r in rows[1:]])


# --------------------------------------------------------------------------- train / evaluate


def test_cotraining_two_languages_with_two_heads(cotrained, msl_store, asl_store):
    run_dir, out = cotrained
    assert json.loads((run_dir / "labels.json").read_text()) == {"ase": ["hello", "thankyou"], "mfs": MSL_CLASSES}
    state = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=False)["model"]
    assert state["head.heads.ase.weight"].shape[0] == 2 and state["head.heads.mfs.weight"].shape[0] == 5
    # random split stratified by language/label: round(0.2 * n) test samples per class
    expected = {lang: sum(round(0.2 * n) for n in Counter(PoseStore(p).column("label").tolist()).values())
                for lang, p in (("mfs", msl_store), ("ase", asl_store))}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {lang: m["samples"] for lang, m in summary["test"]["languages"].items()} == expected
    t = summary["test"]
    assert out.splitlines()[-3:] == [
        f"test: top-1 {100 * t['top1']:.1f}%  top-5 {100 * t['top5']:.1f}%  per-class {100 * t['per_class_top1']:.1f}%  "
        f"({t['samples']} samples)",
        *(f"  {lang}: top-1 {100 * m['top1']:.1f}%  top-5 {100 * m['top5']:.1f}%  per-class "
          f"{100 * m['per_class_top1']:.1f}% over {m['samples']} (chance {100 * m['chance']:.1f}%)"
          for lang, m in t["languages"].items()),
    ]


def test_threads_is_not_part_of_the_run(cotrained, work):
    """--threads sets torch's CPU threads; a finished run resumed with another count is accepted as the same run."""
    run_dir, _ = cotrained
    try:
        out = ok("train", work / "co.yaml", "-o", run_dir, "--threads", "2", "--no-progress")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert f"run saved in {run_dir}" in out
    r = run("train", work / "co.yaml", "-o", run_dir, "--threads", "0")
    assert r.exit_code == 2 and "--threads" in r.output


def test_evaluate_json_agrees_with_its_confusion_matrix(cotrained, msl_store, tmp_path):
    run_dir, _ = cotrained
    m = json.loads(ok("evaluate", run_dir, msl_store, "--json", "-o", tmp_path))
    assert m["samples"] == 86 and list(m["languages"]) == ["mfs"]
    names, c = confusion_csv(tmp_path / "confusion_mfs.csv")
    assert names == MSL_CLASSES and c.sum() == 86
    assert (tmp_path / "confusion_mfs.png").stat().st_size > 1000
    lang = m["languages"]["mfs"]
    assert lang["top1"] == pytest.approx(np.trace(c) / 86) == pytest.approx(m["top1"])
    assert lang["per_class_top1"] == pytest.approx(np.mean(np.diag(c) / c.sum(1)))
    assert lang["top5"] == 1.0 and lang["chance"] == 0.2  # 5 classes: the true one is always in the top 5
    # the test split of the run's own store is the one training held out, per language
    test = json.loads(ok("evaluate", run_dir, msl_store, "--split", "test", "--json", "-o", tmp_path / "t"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert test["languages"]["mfs"] == pytest.approx(summary["test"]["languages"]["mfs"])


def test_evaluate_text_lists_per_class_and_per_language_top5(cotrained, asl_store, tmp_path):
    run_dir, _ = cotrained
    m = json.loads(ok("evaluate", run_dir, asl_store, "--json", "-o", tmp_path))
    a = m["languages"]["ase"]
    assert a["samples"] == 42 and a["top5"] == 1.0
    lines = ok("evaluate", run_dir, asl_store, "-o", tmp_path).splitlines()
    assert lines == [
        f"all: top-1 {100 * m['top1']:.1f}%  top-5 100.0%  per-class {100 * m['per_class_top1']:.1f}%  (42 samples)",
        f"  ase: top-1 {100 * a['top1']:.1f}%  top-5 100.0%  per-class {100 * a['per_class_top1']:.1f}% over 42 "
        "(chance 50.0%)",
        f"confusion matrices in {tmp_path}",
    ]


# --------------------------------------------------------------------------- predict


def test_predict_a_video_extracts_it_with_mediapipe(cotrained):
    run_dir, _ = cotrained
    video = next(v for v in MSL_VIDEOS if v.name == "doctor_001.mp4")
    p = json.loads(ok("predict", run_dir, video, "--language", "mfs", "--json"))
    assert p["language"] == "mfs" and p["frames"] == 62  # every decoded frame of the clip
    probs = [t["probability"] for t in p["top"]]
    assert sorted(t["label"] for t in p["top"]) == MSL_CLASSES
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-5)
    assert "choose one with --language" in one_line_error("predict", run_dir, video)


def test_predict_a_stored_sample_matches_the_evaluation_pipeline(cotrained, msl_store):
    run_dir, _ = cotrained
    p = json.loads(ok("predict", run_dir, msl_store, "--id", "doctor_7", "--language", "mfs", "-k", "2", "--json"))
    assert len(p["top"]) == 2
    run = load_run(run_dir)
    samples, _, pre, _ = run_samples(run, msl_store)
    m = samples.ids.tolist().index("doctor_7")
    out = pre[0](samples.stores[0].read(int(samples.index[m])))
    batch = collate([(out, {"language": 1, "index": m})])
    with torch.no_grad():
        probs = torch.softmax(run.model(batch["x"], batch["language"], batch["frame_mask"]).logits[0, :5], 0)
    best = torch.argsort(probs, descending=True)[:2]
    assert [t["label"] for t in p["top"]] == [MSL_CLASSES[int(i)] for i in best]
    assert [t["probability"] for t in p["top"]] == pytest.approx(probs[best].tolist(), abs=1e-5)


# --------------------------------------------------------------------------- VSSigns


def test_vssign_suggest_writes_an_editable_table_from_the_confusions(cotrained, msl_store, tmp_path):
    run_dir, _ = cotrained
    table = tmp_path / "vssigns.csv"
    out = ok("vssign", "suggest", run_dir, msl_store, "--split", "all", "--threshold", "0.05", "-o", table)
    ok("evaluate", run_dir, msl_store, "-o", tmp_path)
    names, c = confusion_csv(tmp_path / "confusion_mfs.csv")
    rates = c / c.sum(1, keepdims=True)
    sym = (rates + rates.T) / 2
    pairs = {(names[i], names[j]) for i in range(5) for j in range(i + 1, 5) if sym[i, j] >= 0.05}
    assert pairs, "a 3-epoch model confuses some signs"
    assert f"{len(pairs)} candidate pair(s); grouping table written to {table}" in out
    rows = list(csv.DictReader(table.open()))
    assert list(rows[0]) == ["language", "gloss", "group", "confusion"]
    assert {r["gloss"] for r in rows} == {g for pair in pairs for g in pair}
    for r in rows:
        i = names.index(r["gloss"])
        strongest = max(sym[i, j] for j in range(5) if tuple(sorted((names[i], names[j]))) in pairs)
        assert float(r["confusion"]) == pytest.approx(strongest, abs=5e-4) and r["gloss"] in r["group"].split("|")
    # an expert keeps one pair: grouped accuracy of the ungrouped model merges those two classes
    a, b = sorted(pairs)[0]
    edited = tmp_path / "edited.csv"
    edited.write_text(f"language,gloss,group\nmfs,{a},{a}+{b}\nmfs,{b},{a}+{b}\n")
    m = json.loads(ok("evaluate", run_dir, msl_store, "--groups", edited, "--json", "-o", tmp_path))
    i, j = names.index(a), names.index(b)
    assert m["grouped"]["top1"] == pytest.approx((np.trace(c) + c[i, j] + c[j, i]) / 86)
    assert m["grouped"]["vssign_samples"] == c[i].sum() + c[j].sum()


def test_a_run_trained_on_groups_evaluates_with_its_own_grouping(work, msl_store, tmp_path):
    table = tmp_path / "groups.csv"
    table.write_text("gloss,group\ndoctor,doctor|dolor\ndolor,doctor|dolor\n")
    grouped = train_run(tmp_path, "grouped", [{"path": str(msl_store)}], data={"groups": str(table)},
                        train={"epochs": 2})
    table.write_text("gloss,group\nhoy,hoy|yo\nyo,hoy|yo\n")  # edited after training: the run keeps its own
    labels = PoseStore(msl_store).column("label").tolist()
    m = json.loads(ok("evaluate", grouped, msl_store, "--json", "-o", tmp_path))
    assert m["samples"] == 86 and m["languages"]["mfs"]["classes"] == 4
    assert m["grouped"]["vssign_samples"] == labels.count("doctor") + labels.count("dolor")
    assert m["grouped"]["top1"] == pytest.approx(m["top1"])  # its classes already are the groups
    names, c = confusion_csv(tmp_path / "confusion_mfs.csv")
    assert names == ["ambulancia", "doctor|dolor", "hoy", "yo"] and c[1].sum() == m["grouped"]["vssign_samples"]
    test = json.loads(ok("evaluate", grouped, msl_store, "--split", "test", "--json", "-o", tmp_path / "t"))
    summary = json.loads((grouped / "summary.json").read_text())
    assert test["top1"] == pytest.approx(summary["test"]["top1"]) and test["samples"] == summary["test"]["samples"]


# --------------------------------------------------------------------------- transfer


def test_model_init_copies_the_encoder_of_a_run(cotrained, msl_store, tmp_path):
    run_dir, _ = cotrained
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}]), [f"model.init={run_dir}"])
    task = ISLRTask(cfg)
    source = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=False)["model"]
    own = task.model.state_dict()
    encoder = [k for k in own if k.startswith("encoder.")]
    assert encoder and all(torch.equal(own[k], source[k]) for k in encoder)
    assert list(task.model.head.heads) == ["mfs"] and not torch.equal(own["head.heads.mfs.weight"],
                                                                       source["head.heads.mfs.weight"])
    bad = write_config(tmp_path, [{"path": str(msl_store)}], name="joint.yaml", data={"preprocess": JOINT})
    message = one_line_error("train", bad, "-o", tmp_path / "r", "--set", f"model.init={run_dir}")
    assert message.startswith(f"the encoder in {run_dir} does not fit this model")


def test_fewshot_one_shot_with_the_label_map_baseline(streams, asl_store, tmp_path):
    source = streams["joint"]
    target = write_config(tmp_path, [{"path": str(asl_store)}], data={"preprocess": JOINT}, train={"epochs": 3})
    out = ok("fewshot", target, "--source", source, "--shots", "1", "-o", tmp_path / "fs")
    rows = json.loads((tmp_path / "fs" / "fewshot.json").read_text())
    assert [(r["shots"], r["method"]) for r in rows] == [
        (1, m) for m in ("label_map", "probe_lr", "probe_knn", "scratch", "frozen", "finetune")]
    assert {r["samples"] for r in rows} == {8}  # the ase test split: 4 hello + 4 thankyou
    for r in rows:
        assert r["top1"] * 8 == pytest.approx(round(r["top1"] * 8))
        assert f"k=1   {r['method']:<10} top-1 {100 * r['top1']:5.1f}% over 8 test samples" in out
    assert (tmp_path / "fs" / "fewshot.md").read_text() in out
    src = torch.load(source / "checkpoints" / "best.pt", weights_only=False)["model"]

    def encoder_equal(method: str) -> bool:
        state = torch.load(tmp_path / "fs" / f"k1-{method}" / "checkpoints" / "best.pt", weights_only=False)["model"]
        return all(torch.equal(v, src[k]) for k, v in state.items() if k.startswith("encoder."))

    assert encoder_equal("frozen") and not encoder_equal("finetune") and not encoder_equal("scratch")
    assert json.loads((tmp_path / "fs" / "k1-frozen" / "labels.json").read_text()) == {"ase": ["hello", "thankyou"]}


def test_probes_on_the_frozen_encoder_separate_the_signs_it_was_trained_on(streams, msl_store, tmp_path):
    from slr_pose.evaluation.fewshot import probe_baseline

    # the source's own store and split: its pooled features must separate the 5 signs (chance 20%)
    cfg = load_config(write_config(tmp_path, [{"path": str(msl_store)}], data={"preprocess": JOINT}))
    for kind in ("lr", "knn"):
        r = probe_baseline(streams["joint"], cfg, kind)
        assert r["samples"] == 17 and r["train_samples"] == 52 and r["features"] > 16
        assert r["top1"] >= 0.7, (kind, r)
    one = load_config(write_config(tmp_path, [{"path": str(msl_store)}], name="k1.yaml",
                                   data={"preprocess": JOINT, "shots": 1}))
    assert probe_baseline(streams["joint"], one, "knn")["train_samples"] == 5
    with pytest.raises(SlrPoseError, match="unknown probe"):
        probe_baseline(streams["joint"], cfg, "svm")


# --------------------------------------------------------------------------- export and fusion


def test_export_runs_in_onnxruntime_like_torch(cotrained, msl_store, asl_store, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    run_dir, _ = cotrained
    out = ok("export", run_dir, "-o", tmp_path / "co.onnx")
    assert out.startswith(f"wrote {tmp_path / 'co.onnx'} (onnxruntime matches torch within")
    sidecar = json.loads((tmp_path / "co.onnx.json").read_text())
    assert sidecar["languages"] == ["ase", "mfs"] and sidecar["classes"]["mfs"] == MSL_CLASSES
    run = load_run(run_dir)
    items = []
    for store, lang in ((msl_store, 1), (asl_store, 0)):
        samples, _, pre, _ = run_samples(run, store)
        items += [(pre[0](samples.stores[0].read(i)), {"language": lang, "index": i}) for i in (0, 5, 11)]
    batch = collate(items)
    with torch.no_grad():
        expected = run.model(batch["x"], batch["language"], batch["frame_mask"]).logits.numpy()
    session = ort.InferenceSession(str(tmp_path / "co.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"x": batch["x"].numpy(), "language": batch["language"].numpy(),
                                         "frame_mask": batch["frame_mask"].numpy()})
    np.testing.assert_allclose(logits[:3, :5], expected[:3, :5], atol=1e-4)  # mfs rows, 5 classes
    np.testing.assert_allclose(logits[3:, :2], expected[3:, :2], atol=1e-4)  # ase rows, 2 classes
    assert (logits[3:, 2:] < -1e3).all()  # ase has no third class


def test_fuse_joint_and_bone_streams(streams, msl_store, tmp_path):
    table = tmp_path / "ablation.md"
    out = ok("fuse", streams["joint"], streams["bone"], "--store", msl_store, "-o", table)
    result = json.loads(table.with_suffix(".json").read_text())
    assert [r["streams"] for r in result["rows"]] == ["joint", "bone", "joint+bone", "joint+bone (searched weights)"]
    per_class = Counter(PoseStore(msl_store).column("label").tolist()).values()
    assert result["test_samples"] == sum(round(0.2 * n) for n in per_class)
    for r, name in zip(result["rows"], ("joint", "bone")):
        single = json.loads(ok("evaluate", streams[name], msl_store, "--split", "test", "--json",
                               "-o", tmp_path / name))
        assert r["test_top1"] == pytest.approx(single["top1"])
    assert table.read_text() in out


# --------------------------------------------------------------------------- bad input


def test_evaluate_bad_input_is_one_line(cotrained, streams, msl_store, asl_store, work, tmp_path):
    run_dir, _ = cotrained
    gracias = derive(msl_store, tmp_path / "gracias.h5",
                     lambda info: replace(info, label="gracias") if info.id == "doctor_7" else info)
    assert one_line_error("evaluate", run_dir, gracias) == "1 label(s) are not classes of the model: mfs/gracias"
    # a store without a split column has no test split; the run's own split has no val when trained without one
    message = one_line_error("evaluate", run_dir, gracias, "--split", "test")
    assert message == f"store {gracias} has no samples in split 'test'"
    no_val = train_run(tmp_path, "noval", [{"path": str(msl_store)}],
                       data={"split": {"mode": "random", "val_fraction": 0}}, train={"epochs": 1})
    message = one_line_error("evaluate", no_val, msl_store, "--split", "val")
    assert message == f"store {msl_store} has no samples in split 'val'"
    # classes: a one-language model and a store of another language
    message = one_line_error("evaluate", streams["joint"], asl_store)
    assert message == "language 'ase' has no head in this model (it knows mfs)"
    typo = run("evaluate", run_dir, msl_store, "--split", "tset")
    assert typo.exit_code == 2 and "'tset' is not one of 'all', 'train', 'val', 'test'" in typo.output
    unnamed = derive(msl_store, tmp_path / "unnamed.h5", lambda info: replace(info, language=""))
    message = one_line_error("evaluate", run_dir, unnamed)
    assert message == f"store {unnamed} has samples without a language; name it with --language"
    assert json.loads(ok("evaluate", run_dir, unnamed, "--language", "mfs", "--json", "-o", tmp_path))["samples"] == 86


def test_checkpoint_that_does_not_fit_the_store_is_one_line(msl_store, tmp_path):
    from slr_pose.keypoints.importers import import_samples, provenance
    from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
    from slr_pose.keypoints.layout import holistic_layout
    from tests.conftest import MSL_KEYPOINTS

    face = train_run(tmp_path, "face", [{"path": str(msl_store)}],
                     data={"preprocess": {**JOINT, "subset": "upper_body_hands_face"}}, train={"epochs": 1})
    no_face = tmp_path / "noface.h5"
    spec, layout = ColumnSpec.parse("msl150"), holistic_layout("none")
    import_samples(no_face, layout, provenance("numpy", {}),
                   array_candidates([MSL_KEYPOINTS], spec, layout, language="mfs"))
    message = one_line_error("evaluate", face, no_face)
    assert "upper_body_hands_face" in message and "landmarks" in message
    assert one_line_error("predict", face, no_face, "--id", "doctor_7") == message
    # weights that are not this run's layout: another run's checkpoint copied in
    broken = tmp_path / "broken"
    (broken / "checkpoints").mkdir(parents=True)
    state = torch.load(face / "checkpoints" / "best.pt", weights_only=False)
    state["meta"]["labels"] = {"mfs": MSL_CLASSES + ["gracias"]}
    torch.save(state, broken / "checkpoints" / "best.pt")
    assert one_line_error("evaluate", broken, msl_store).startswith(f"the weights in {broken} do not fit model")
    # landmarks recorded in an order this version's subset does not give
    state["meta"]["labels"] = {"mfs": MSL_CLASSES}
    names = state["meta"]["landmarks"]
    names[0], names[1] = names[1], names[0]
    torch.save(state, broken / "checkpoints" / "best.pt")
    assert one_line_error("evaluate", broken, msl_store) == (
        f"layout 'holistic-face-contour' does not give the {len(names)} landmarks this model was trained on "
        "(subset 'upper_body_hands_face': the same landmarks in another order); a run from another slr-pose version?")


def test_training_on_a_store_without_language_or_label_is_one_line(msl_store, tmp_path):
    unnamed = derive(msl_store, tmp_path / "unnamed.h5", lambda info: replace(info, language=""))
    cfg = write_config(tmp_path, [{"path": str(unnamed)}], name="a.yaml")
    assert one_line_error("train", cfg, "-o", tmp_path / "a") == (
        f"store {unnamed} has samples without a language; set data.stores[0].language")
    unlabelled = derive(msl_store, tmp_path / "unlabelled.h5",
                        lambda info: replace(info, label="") if info.id == "hoy_2" else info)
    cfg = write_config(tmp_path, [{"path": str(unlabelled)}], name="b.yaml")
    assert one_line_error("train", cfg, "-o", tmp_path / "b") == (
        f"store {unlabelled} has samples without a label; isolated-sign training needs one per sample")

"""Continuous recognition end to end on sentences stitched from the real MSL-150 keypoints:
training drives WER down, evaluation (three decoders, CTM/STM), prediction over windows, the gloss head."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from slr_pose.cli import main
from slr_pose.decoding import NGramLM, Vocabulary, beam_search, score_ctm, wer
from slr_pose.errors import SlrPoseError
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.continuous.stitch import StitchSpec, stitch_store
from slr_pose.keypoints.store import PoseStore
from slr_pose.training.config import load_config
from slr_pose.training.cslr import CSLRTask
from slr_pose.training.cslr_decoding import DecoderSettings, windowed_log_probs
from slr_pose.training.data import collate
from slr_pose.evaluation.islr import evaluate_run
from slr_pose.inference.runs import load_run
from slr_pose.inference.prediction import predict
from slr_pose.training.runtime import seed_everything
from slr_pose.training.trainer import train
from tests.conftest import REPO
from slr_pose.decoding.lm_tables import BoundLM

CONFIG = REPO / "configs" / "cslr_stitched_msl.yaml"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def stitched(msl_store, tmp_path_factory) -> Path:
    """120 stitched sentences of 2-5 real MSL-150 signs; train, val and test from disjoint samples."""
    out = tmp_path_factory.mktemp("cslr") / "msl-stitched.h5"
    stitch_store(msl_store, out, StitchSpec(sentences=120, min_glosses=2, max_glosses=5, seed=0, val_fraction=0.15))
    return out


def config_for(store: Path, *overrides: str):
    """The shipped config on ``store``."""
    return load_config(CONFIG, [f"data.stores=[{{path: '{store}', language: mfs}}]", *overrides])


@pytest.fixture(scope="module")
def trained(stitched, tmp_path_factory, one_torch_thread):
    """A run of the shipped config (20 epochs, about 40 s) and the test WER of its untrained model."""
    cfg = config_for(stitched)
    seed_everything(cfg.train.seed)  # as train() does: the same initial weights
    task = CSLRTask(cfg)
    loader = torch.utils.data.DataLoader(task.test_set, batch_size=8, collate_fn=collate)
    untrained = task.evaluate(task.model, loader)
    run = tmp_path_factory.mktemp("cslr-run") / "run"
    result = train(cfg, run, progress=False, log=lambda *a: None)
    return run, result, untrained


def run_cli(*args):
    return CliRunner().invoke(main.cli, [str(a) for a in args])


def test_stitched_store_has_disjoint_train_val_test(stitched):
    store = PoseStore(stitched)
    splits = store.column("split").tolist()
    assert {s: splits.count(s) for s in set(splits)} == {"train": 73, "val": 19, "test": 28}
    sources = {s: set() for s in ("train", "val", "test")}
    for i in range(len(store)):
        sources[splits[i]] |= set(json.loads(store.info(i).meta)["sources"])
    assert not sources["train"] & sources["val"] and not sources["train"] & sources["test"]


@pytest.mark.slow
def test_training_drives_wer_far_below_the_untrained_model(trained, stitched):
    run, result, untrained = trained
    assert untrained["wer"] >= 0.9  # an untrained CTC model outputs (almost) nothing
    assert result.test["wer"] <= 0.5 * untrained["wer"] and result.test["wer"] <= 0.3, result.test
    store = PoseStore(stitched)
    tests = [store.info(i) for i in range(len(store)) if store.info(i).split == "test"]
    assert result.test["samples"] == len(tests) == 28
    assert result.test["ref_words"] == sum(len(info.gloss_list) for info in tests)
    # validation picked the epoch and the decoder weights
    assert all("val_neg_wer" in row for row in result.history)
    assert 1 <= result.best_epoch <= 20
    decoding = json.loads((run / "decoding.json").read_text())
    assert decoding["chosen_on"] == "val (19 samples)" and len(decoding["grid"]) == 20
    best = min(row["wer"] for row in decoding["grid"])
    chosen = next(r for r in decoding["grid"] if (r["lm_weight"], r["insertion_bonus"]) ==
                  (decoding["lm_weight"], decoding["insertion_bonus"]))
    assert chosen["wer"] == best
    lm = NGramLM.load(run / "lm_mfs.arpa")
    assert lm.order == 3


@pytest.mark.slow
def test_evaluate_reports_three_decoders_and_writes_scorable_files(trained, stitched, tmp_path):
    run, result, _ = trained
    ev = evaluate_run(run, stitched, split="test", out_dir=tmp_path / "ev")
    assert ev["greedy"] == {**result.test, "neg_wer": ev["greedy"]["neg_wer"]}  # the run's own test result
    for name in ("greedy", "beam", "beam_lm"):
        m = ev[name]
        assert m["samples"] == 28 and m["ref_words"] == result.test["ref_words"]
        assert m["wer"] == pytest.approx((m["sub"] + m["del"] + m["ins"]) / m["ref_words"])
        assert m["wer"] <= 0.3
        # the CTM of each decoder, scored against the STM as sclite scores it, gives the same counts
        scored = score_ctm(tmp_path / "ev" / "reference.stm", tmp_path / "ev" / f"{name}.ctm").result
        assert (scored.sub, scored.dele, scored.ins, scored.n_ref) == (m["sub"], m["del"], m["ins"], m["ref_words"])
    assert ev["decoding"]["chosen_on"] == "val (19 samples)"
    ctm = (tmp_path / "ev" / "beam_lm.ctm").read_text().splitlines()
    assert all(re.fullmatch(r"test/\d{5} 1 \d+\.\d{3} \d+\.\d{3} \w+", line) for line in ctm)


@pytest.mark.slow
def test_evaluate_cli_prints_one_line_per_decoder(trained, stitched, tmp_path):
    run, result, _ = trained
    r = run_cli("evaluate", run, stitched, "--split", "test", "-o", tmp_path)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == f"test: 28 samples, {result.test['ref_words']} reference glosses"
    def line(label: str, rest: str = "") -> str:
        return re.escape(f"  {label:<10} ") + r"WER \d+\.\d% \(S \d+, D \d+, I \d+ / \d+ glosses\)" + rest

    assert re.fullmatch(line("greedy"), lines[1])
    assert re.fullmatch(line("beam", r"  \(width 10\)"), lines[2])
    assert re.fullmatch(line("beam + LM", r"  \(width 10, LM weight [\d.]+, insertion bonus [\d.-]+: "
                                          r"chosen on val \(19 samples\)\)"), lines[3])
    assert lines[4] == f"CTM hypotheses (greedy.ctm, beam.ctm, beam_lm.ctm) and reference.stm in {tmp_path}"
    assert "confusion" not in r.output
    # width 1 without the LM is greedy decoding; a given LM and weights are used and said
    uniform = tmp_path / "uniform.arpa"
    NGramLM.train([["yo"], ["hoy"], ["doctor"], ["dolor"], ["ambulancia"]], order=1).save(uniform)
    r = run_cli("evaluate", run, stitched, "--split", "test", "--beam", 1, "--lm", uniform, "--lm-weight", 2,
                "--insertion-bonus", 1, "--json", "-o", tmp_path / "b1")
    assert r.exit_code == 0, r.output
    ev = json.loads(r.output)
    assert ev["beam"]["wer"] == ev["greedy"]["wer"]
    assert ev["decoding"] == {"beam_width": 1, "lm_weight": 2.0, "insertion_bonus": 1.0, "chosen_on": "given",
                              "lm": str(uniform)}
    r = run_cli("evaluate", run, stitched, "--lm", tmp_path / "absent.arpa")
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.slow
def test_predict_a_stored_sentence_gives_timed_glosses(trained, stitched):
    run, _, _ = trained
    store = PoseStore(stitched)
    sid = store.ids[-1]
    info = store.info(len(store) - 1)
    r = run_cli("predict", run, stitched, "--id", sid)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines and all(re.fullmatch(r"\d+\.\d\d \d+\.\d\d \w+", line) for line in lines), r.output
    glosses = [line.split()[2] for line in lines]
    assert wer([info.gloss_list], [glosses]).wer <= 50
    p = predict(run, stitched, sample_id=sid)
    starts = [a for _, a, _ in p.glosses]
    assert starts == sorted(starts) and all(a <= b for _, a, b in p.glosses)
    assert p.glosses[-1][2] <= info.length / 25.0 + 1e-6  # the MSL-150 arrays carry no frame rate: 25 fps assumed
    r = run_cli("predict", run, stitched, "--id", sid, "--json")
    assert [g["gloss"] for g in json.loads(r.output)["glosses"]] == glosses


@pytest.fixture(scope="module")
def long_sentence(msl_store, tmp_path_factory) -> tuple[Path, str]:
    """A stored stitched sentence of 14-16 real signs (about 450 frames)."""
    out = tmp_path_factory.mktemp("long") / "long.h5"
    stitch_store(msl_store, out, StitchSpec(sentences=4, min_glosses=14, max_glosses=16, seed=1))
    store = PoseStore(out)
    return out, store.ids[int(np.argmax(store.column("length")))]


@pytest.mark.slow
def test_windowed_prediction_on_a_long_sentence(trained, long_sentence):
    run, _, _ = trained
    path, sid = long_sentence
    loaded = load_run(run)
    store = PoseStore(path)
    sample = store.read(store.index_of(sid))
    out = loaded.preprocessor(store.layout)(sample)
    x, mask, lang = torch.from_numpy(out.x)[None], torch.from_numpy(out.frame_mask)[None], torch.tensor([0])
    assert out.length > 400
    with torch.no_grad():
        whole = loaded.model(x, lang, mask).log_probs[0].numpy()
    # a window covering the input is one call: exactly the whole-sequence posteriors and decoding
    covered = np.concatenate(list(windowed_log_probs(loaded.model, x, mask, lang, 1024, 64)))
    np.testing.assert_array_equal(covered, whole)
    settings = DecoderSettings.of_run(run)
    lm = BoundLM(NGramLM.load(run / "lm_mfs.arpa"), Vocabulary(loaded.meta["labels"]["mfs"]))
    best = beam_search(whole, beam_width=settings.beam_width, lm=lm, lm_weight=settings.lm_weight,
                       insertion_bonus=settings.insertion_bonus)[0]
    vocab = loaded.meta["labels"]["mfs"]
    p = predict(run, path, sample_id=sid, window=1024, lookahead=64)
    assert [g for g, _, _ in p.glosses] == [vocab[t - 1] for t in best.tokens]
    # windows of 96 frames (64 kept, 16 of context either side): the same number of steps, near-identical posteriors
    chunks = list(windowed_log_probs(loaded.model, x, mask, lang, 96, 16))
    assert len(chunks) == -(-out.length // 64)
    windowed = np.concatenate(chunks)
    assert windowed.shape == whole.shape
    assert (windowed.argmax(1) == whole.argmax(1)).mean() >= 0.9
    small = predict(run, path, sample_id=sid, window=96, lookahead=16)
    whole_glosses = [g for g, _, _ in p.glosses]
    assert wer([whole_glosses], [[g for g, _, _ in small.glosses]]).wer <= 20
    assert wer([sample.info.gloss_list], [whole_glosses]).wer <= 50
    starts = [a for _, a, _ in small.glosses]
    assert starts == sorted(starts)
    r = run_cli("predict", run, path, "--id", sid, "--window", 40, "--lookahead", 20)
    assert r.exit_code == 1 and r.output.count("\n") == 1
    assert "need 2 <= lookahead and 2 x lookahead + 2 <= window" in r.output


# --------------------------------------------------------------------------- the gloss head


def test_gloss_spans_follow_the_preprocessed_frames(stitched):
    cfg = config_for(stitched, "model.gloss_head=true")
    task = CSLRTask(cfg)
    store = PoseStore(stitched)
    for i in range(6):
        out, item = task.train_set[i]
        m = int(task.train_set.indices[i])
        stored = parse_spans(store.info(int(task.samples.index[m])).gloss_spans)
        assert len(item["spans"]) == len(item["tokens"]) == len(stored)
        src = out.source_index
        for (a, b), (sa, sb) in zip(item["spans"], stored):
            if b > a:  # inside the clip: every frame of the span was sampled from the stored span
                assert (src[a:b] >= sa).all() and (src[a:b] < sb).all()
                assert a == 0 or src[a - 1] < sa
        starts = [a for a, b in item["spans"] if b > a]
        assert starts == sorted(starts) and len(starts) >= len(stored) - 1  # cropping removes at most an end


def test_gloss_head_loss_term_is_present_and_trains_the_head(stitched):
    cfg = config_for(stitched, "model.gloss_head=true", "train.gloss_weight=0.5")
    seed_everything(0)
    task = CSLRTask(cfg)
    batch = collate([task.train_set[i] for i in range(4)])
    assert batch["spans"].shape[:2] == batch["span_glosses"].shape and (batch["span_glosses"] > 0).sum() >= 8
    task.model.train()
    loss, logs = task.loss(task.model, batch, step_seed=0)
    assert logs["gloss_loss"] > 0.5  # untrained: about ln(5)
    assert loss.item() == pytest.approx(logs["ctc_loss"].item() + 0.5 * logs["gloss_loss"].item(), rel=1e-5)
    loss.backward()
    head = [p.grad for p in task.model.gloss_head.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in head)
    # without the head: CTC alone, no spans in the batch
    plain = CSLRTask(config_for(stitched))
    assert plain.model.gloss_head is None and "spans" not in collate([plain.train_set[0]])
    assert plain.loss(plain.model, collate([plain.train_set[i] for i in range(2)]), 0)[1] == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"beam_width": 8,', "is not readable decoder settings"),  # was a JSONDecodeError
        ("[1]", "holds no JSON object"),  # was a TypeError
        ('{"lm_weight": "high"}', "LM weight must be a number >= 0, got 'high'"),  # was a TypeError in math.isfinite
    ],
)
def test_damaged_decoder_settings_are_one_clear_error(tmp_path, text, message):
    (tmp_path / "decoding.json").write_text(text)
    with pytest.raises(SlrPoseError, match=message):
        DecoderSettings.of_run(tmp_path)

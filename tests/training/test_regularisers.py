"""The training regularisers (weight EMA, class-balanced order, late dropout, AWP) and test-time mirroring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from slr_pose.cli.main import cli
from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.islr import evaluate_run, score_run, store_scores
from slr_pose.inference.runs import load_run
from slr_pose.training import trainer as trainer_module
from slr_pose.training.config import ConfigError, config_from_dict, load_config
from slr_pose.training.regularisers import AWP, balanced_order, late, make_ema
from slr_pose.training.trainer import train
from tests.training.test_trainer import quiet, write_config


def test_balanced_order_draws_every_class_equally_and_depends_only_on_seed_and_epoch():
    keys = np.array(["a"] * 900 + ["b"] * 100, dtype=object)
    order = balanced_order(keys, seed=3, epoch=0)
    assert len(order) == 1000 and order.min() >= 0 and order.max() < 1000
    share_b = float(np.mean(keys[order] == "b"))
    assert 0.44 < share_b < 0.56  # 10% of the samples, half of the draws (binomial sd 1.6%)
    np.testing.assert_array_equal(order, balanced_order(keys, seed=3, epoch=0))
    assert not np.array_equal(order, balanced_order(keys, seed=3, epoch=1))
    assert not np.array_equal(order, balanced_order(keys, seed=4, epoch=0))


def test_ema_follows_the_ramped_decay_and_copies_integer_buffers():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = make_ema(model, 0.5)
    assert make_ema(model, 0.0) is None
    history = []
    for step in range(4):
        with torch.no_grad():
            model[0].weight.add_(1.0)
        model.train()(torch.randn(5, 3))  # moves the BN statistics and counter
        history.append(model[0].weight.detach().clone())
        ema.update_parameters(model)
    expected = history[0]  # the first update copies
    for n, w in enumerate(history[1:], start=1):
        d = min(0.5, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * w
    torch.testing.assert_close(ema.module[0].weight, expected)
    assert int(ema.module[1].num_batches_tracked) == int(model[1].num_batches_tracked) == 4
    assert not torch.equal(ema.module[1].running_mean, model[1].running_mean)


def test_awp_moves_each_weight_by_its_relative_size_and_restores_it_exactly():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model(torch.randn(6, 4)).pow(2).sum().backward()
    model[2].weight.grad = None  # a weight without a gradient is left alone
    before = {k: v.clone() for k, v in model.state_dict().items()}
    awp = AWP(model, 0.1)
    with awp.perturbed():
        w0, w = before["0.weight"], model[0].weight.detach()
        assert torch.linalg.norm(w - w0) == pytest.approx(0.1 * torch.linalg.norm(w0).item(), rel=1e-5)
        # up the gradient: the first-order change of the loss is positive
        assert float(((w - w0) * model[0].weight.grad).sum()) > 0
        assert torch.equal(model[2].weight, before["2.weight"])
        assert torch.equal(model[0].bias, before["0.bias"])  # biases (ndim 1) are not perturbed
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_late_starts_at_the_fraction_of_the_epochs():
    assert [late(e, 10, 0.5) for e in range(10)] == [False] * 5 + [True] * 5
    assert all(late(e, 4, 0.0) for e in range(4)) and not any(late(e, 4, 1.0) for e in range(4))


@pytest.mark.parametrize("train_section, message", [
    ({"ema": 1.0}, "train.ema=1.0"),
    ({"ema": -0.1}, "train.ema"),
    ({"sampler": "uniform"}, "must be one of shuffle, balanced"),
    ({"late_dropout": 1.0}, "train.late_dropout"),
    ({"awp": 2.0}, "train.awp"),
    ({"late_start": 1.5}, "train.late_start"),
])
def test_bad_regulariser_settings_are_one_clear_error(train_section, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        config_from_dict({"task": "islr", "train": train_section})


def test_balanced_sampling_and_late_dropout_are_refused_for_continuous_signing():
    for section in ({"sampler": "balanced"}, {"late_dropout": 0.3}):
        with pytest.raises(ConfigError, match="are for isolated signs"):
            config_from_dict({"task": "cslr", "train": section})


@pytest.mark.slow
def test_a_regularised_run_keeps_the_ema_weights_and_schedules_late_dropout(msl_store, tmp_path, monkeypatch,
                                                                              one_torch_thread):
    dropout_per_epoch = []
    real = trainer_module.set_late_dropout

    def spy(model, p):
        dropout_per_epoch.append(p)
        real(model, p)

    monkeypatch.setattr(trainer_module, "set_late_dropout", spy)
    path = write_config(tmp_path, [{"path": str(msl_store)}],
                        data={"split": {"mode": "random", "val_fraction": 0.0, "test_fraction": 0.2, "seed": 0}},
                        train={"epochs": 4, "ema": 0.9, "sampler": "balanced", "late_dropout": 0.4, "awp": 0.05,
                               "late_start": 0.5})
    result = train(load_config(path), tmp_path / "run", progress=False, log=quiet)
    assert dropout_per_epoch == [0.0, 0.0, 0.4, 0.4]
    history = result.history
    assert "train_awp_loss" not in history[1] and "train_awp_loss" in history[2]
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=False)
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.pt", weights_only=False)
    averaged = {k[len("module."):]: v for k, v in last["ema"].items() if k.startswith("module.")}
    assert set(averaged) == set(best["model"]) == set(last["model"])
    for k, v in best["model"].items():  # without a validation split, the kept model is the final average
        assert torch.equal(v, averaged[k]), k
    moved = [k for k, v in last["model"].items() if v.is_floating_point() and not torch.equal(v, averaged[k])]
    assert len(moved) > len(averaged) // 2  # the average is not the last weights
    # what the run reports is what its kept (averaged) weights score
    ev = evaluate_run(tmp_path / "run", msl_store, split="test")
    assert ev["top1"] == pytest.approx(result.test["top1"]) and ev["samples"] == result.test["samples"] == 17


@pytest.mark.slow
def test_test_time_mirroring_averages_the_run_and_its_mirror_image(msl_store, tmp_path, one_torch_thread):
    path = write_config(tmp_path, [{"path": str(msl_store)}], train={"epochs": 3})
    train(load_config(path), tmp_path / "run", progress=False, log=quiet)
    run = load_run(tmp_path / "run")
    plain = store_scores(run, msl_store, split="test")[0]
    both = store_scores(run, msl_store, split="test", tta="mirror")[0]
    # the mirrored view alone: the same run read through a pipeline that mirrors every sample
    mirror_meta = json.loads(json.dumps(run.meta))
    mirror_meta["preprocess"]["mirror"] = True
    run.meta = mirror_meta
    alone = store_scores(run, msl_store, split="test")[0]
    np.testing.assert_allclose(both, 0.5 * (plain + alone), rtol=1e-6, atol=1e-5)
    assert not np.allclose(plain, alone, atol=1e-3)  # the mirror is another view
    run.meta = json.loads(json.dumps(mirror_meta))
    run.meta["preprocess"]["mirror"] = False
    ev, _ = score_run(run, msl_store, split="test", tta="mirror")
    out = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "run"), str(msl_store), "--split", "test",
                                   "--tta", "mirror", "--json", "-o", str(tmp_path / "ev")])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["tta"] == "mirror" and summary["top1"] == pytest.approx(ev.summary["top1"])
    auto = json.loads(json.dumps(mirror_meta))
    auto["preprocess"]["mirror"] = "auto"
    run.meta = auto
    with pytest.raises(SlrPoseError, match="no mirrored view"):
        score_run(run, msl_store, split="test", tta="mirror")
    with pytest.raises(SlrPoseError, match="unknown test-time augmentation"):
        score_run(run, msl_store, split="test", tta="flip")

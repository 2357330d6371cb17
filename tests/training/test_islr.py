"""The isolated-sign task's loss on real batches: the boundary head under DDP and under mixing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from slr_pose.keypoints.store import PoseStore, StoreWriter
from slr_pose.models.losses import boundary_loss
from slr_pose.models.mixing import MixPlan, mix_plan
from slr_pose.training.config import load_config
from slr_pose.training.data import collate
from slr_pose.training.islr import ISLRTask, mix_boundaries
from tests.training.test_trainer import write_config


@pytest.fixture(scope="module")
def bounded_store(msl_store, tmp_path_factory):
    """The real MSL-150 store with a sign span on every sample (one frame in from each end)."""
    src = PoseStore(msl_store)
    path = tmp_path_factory.mktemp("bounded") / "bounded.h5"
    with StoreWriter(path, src.layout, src.provenance) as w:
        for i in range(len(src)):
            s = src.read(i)
            w.add(replace(s, info=replace(s.info, sign_start=1, sign_end=max(2, s.info.length - 2))))
    return path


def _task(tmp_path, store, **sections) -> ISLRTask:
    return ISLRTask(load_config(write_config(tmp_path, [{"path": str(store)}], model={"boundary": True}, **sections)))


def _batch(task: ISLRTask, n: int = 12) -> dict:
    return collate([task.train_set[i] for i in range(n)])


def test_boundary_head_gets_a_zero_gradient_on_batches_without_boundaries(msl_store, tmp_path):
    task = _task(tmp_path, msl_store)  # the MSL-150 store has no sign spans
    batch = _batch(task)
    assert not batch["has_boundary"].any()
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        # as the trainer wraps it: find_unused_parameters=False fails on the second step if a parameter had no gradient
        ddp = torch.nn.parallel.DistributedDataParallel(task.model)
        for step in range(2):
            ddp.zero_grad()
            loss, logs = task.loss(ddp, batch, step_seed=step)
            loss.backward()
    finally:
        torch.distributed.destroy_process_group()
    assert "boundary_loss" not in logs
    assert float(loss.detach()) == float(logs["cls_loss"])  # the boundary term adds exactly 0
    for p in task.model.boundary_head.parameters():
        assert p.grad is not None and torch.count_nonzero(p.grad) == 0
    assert torch.count_nonzero(task.model.head.heads["mfs"].weight.grad) > 0


def test_mixup_moves_the_partners_boundary_to_the_clip_and_mixes_it():
    mask = torch.zeros(3, 21, dtype=torch.bool)
    mask[0, :11], mask[1, :21], mask[2, :21] = True, True, True  # 10 and 20 frame steps
    boundary = torch.tensor([[0.2, 0.8], [0.5, 1.0], [0.1, 0.3]])
    has = torch.tensor([True, True, False])
    plan = MixPlan("mixup", np.array([1, 0, 1]), np.array([0.25, 0.5, 0.6]))
    mixed, keep = mix_boundaries(plan, boundary, has, mask)
    # sample 0: partner frames 10 and 20 of a 20-step clip are past its own 10 steps, so clamped to 1
    # sample 1: partner's 2 and 8 of 10 steps are 0.1 and 0.4 of its 20 steps
    torch.testing.assert_close(mixed[0], torch.tensor([0.25 * 0.2 + 0.75, 0.25 * 0.8 + 0.75]))
    torch.testing.assert_close(mixed[1], torch.tensor([0.5 * 0.5 + 0.5 * 0.1, 0.5 * 1.0 + 0.5 * 0.4]))
    assert keep.tolist() == [True, True, False]  # sample 2 has no boundary of its own


def test_cutmix_leaves_cut_samples_out_of_the_boundary_loss(bounded_store, tmp_path):
    task = _task(tmp_path, bounded_store, train={"cutmix": 0.3})
    batch = _batch(task)
    assert batch["has_boundary"].all()

    def plan_of(seed: int):
        g = torch.Generator().manual_seed(seed)
        return mix_plan(batch["language"], batch["frame_mask"], cutmix_alpha=0.3, generator=g)

    # a step whose plan cuts some samples and leaves others whole (Beta(0.3, 0.3) weights are often near 1)
    seed = next(s for s in range(100) if 0 < (plan_of(s).lam < 1).sum() < len(batch["x"]))
    plan = plan_of(seed)
    _, keep = mix_boundaries(plan, batch["boundary"], batch["has_boundary"], batch["frame_mask"])
    assert keep.tolist() == (plan.lam == 1).tolist()
    # the task's loss draws the same plan from the same step seed
    task.model.eval()  # the same forward twice
    _, logs = task.loss(task.model, batch, step_seed=seed)
    x = task._mix(batch["x"], batch["target"], batch["language"], batch["frame_mask"], batch["boundary"],
                  batch["has_boundary"], seed)[0]
    with torch.no_grad():
        out = task.model(x, batch["language"], batch["frame_mask"])
    expected = boundary_loss(out.boundary[keep], batch["boundary"][keep])
    assert float(logs["boundary_loss"]) == pytest.approx(float(expected), rel=1e-5)
    every = boundary_loss(out.boundary, batch["boundary"])
    assert float(logs["boundary_loss"]) != pytest.approx(float(every), rel=1e-3)


def test_a_grouped_run_records_its_grouping(msl_store, tmp_path):
    table = tmp_path / "groups.csv"
    table.write_text("gloss,group\ndoctor,doctor|dolor\ndolor,doctor|dolor\n")
    task = ISLRTask(load_config(write_config(tmp_path, [{"path": str(msl_store)}], data={"groups": str(table)})))
    assert task.labels.classes == {"mfs": ("ambulancia", "doctor|dolor", "hoy", "yo")}
    assert task.meta()["grouping"] == [["", "doctor", "doctor|dolor"], ["", "dolor", "doctor|dolor"]]

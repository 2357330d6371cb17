"""The training loop shared by isolated (ISLR) and continuous (CSLR) recognition.

A run directory holds everything a run needs to resume, be evaluated and be
used::

    RUN/config.yaml            the resolved config
    RUN/labels.json            classes (ISLR) or gloss vocabularies (CSLR) per language
    RUN/checkpoints/last.pt    model, optimiser, schedule, RNG states, history (every epoch)
    RUN/checkpoints/best.pt    the weights with the best validation score
    RUN/metrics.csv            one row per epoch
    RUN/curves.png             loss and validation score per epoch
    RUN/summary.json           best epoch, validation and test metrics
    RUN/lm_<language>.arpa     CSLR: gloss LMs of the training sentences
    RUN/decoding.json          CSLR: beam width, LM weight and insertion bonus (picked on validation)

Running the same command again resumes from ``last.pt``: the data order and
augmentation of an epoch depend only on (seed, epoch), and the RNG states are
restored, so a run killed at any point ends with the same metrics as one that
was never interrupted.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from slr_pose import __version__
from slr_pose.errors import SlrPoseError
from slr_pose.models import DEFAULT_MODELS
from slr_pose.outputs import atomic_path, check_output_dir, write_text
from slr_pose.training.config import Config, config_from_dict
from slr_pose.training.cslr import CSLRTask
from slr_pose.training.data import collate
from slr_pose.training.islr import ISLRTask
from slr_pose.training.regularisers import AWP, balanced_order, class_keys, late, make_ema, set_late_dropout
from slr_pose.training.rgb import RGBTask
from slr_pose.training.runtime import (
    Dist,
    atomic_save,
    barrier,
    init_distributed,
    pick_device,
    rng_state,
    seed_everything,
    set_rng_state,
)
from slr_pose.training.task import Task

CHECKPOINT_FORMAT = 1


def resolve_defaults(config: Config) -> Config:
    """Fill in what "default" means today (the model name), so the run records it."""
    if config.model.name:
        return config
    name = DEFAULT_MODELS[config.data.modality]
    return dataclasses.replace(config, model=dataclasses.replace(config.model, name=name))


def build_task(config: Config) -> Task:
    if config.data.modality == "rgb":
        return RGBTask(config)
    return ISLRTask(config) if config.task == "islr" else CSLRTask(config)


@dataclass
class RunResult:
    run_dir: Path
    best_epoch: int
    history: list[dict]
    val: dict
    test: dict


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1, then cosine decay to 0.01 at ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr)


def _loader(dataset, batch_size: int, *, shuffle: bool, seed: int, epoch: int, workers: int, dist: Dist,
            balanced: bool = False):
    sampler = None
    generator = None
    if balanced:  # this process's share of one (seed, epoch) draw
        sampler = balanced_order(class_keys(dataset), seed, epoch)[dist.rank::dist.world].tolist()
    elif dist.world > 1 and shuffle:
        sampler = torch.utils.data.DistributedSampler(dataset, num_replicas=dist.world, rank=dist.rank, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
    elif shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        generator=generator,
        num_workers=workers,
        collate_fn=collate,
        drop_last=False,
    )


@dataclass
class _Loop:
    """Everything one run's loop holds: the model, its optimiser and schedule, and where it stands."""

    task: Task
    config: Config
    run_dir: Path
    dist: Dist
    device: torch.device
    model: torch.nn.Module
    train_model: torch.nn.Module  # the model, DDP-wrapped when distributed
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    use_amp: bool
    ema: torch.optim.swa_utils.AveragedModel | None  # the weight average (train.ema), validated and kept
    history: list[dict]
    best: dict
    start_epoch: int

    @property
    def ckpt_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def kept(self) -> torch.nn.Module:
        """The weights that are validated, kept as ``best.pt`` and exported: the EMA when there is one."""
        return self.model if self.ema is None else self.ema.module


def train(
    config: Config,
    run_dir: str | Path,
    *,
    progress: bool = True,
    stop_after_epoch: int | None = None,
    log=print,
) -> RunResult:
    """Train (or resume) a run in ``run_dir``.

    Args:
        stop_after_epoch: end the process's work after this epoch (the run
            stays resumable); used to test and to split long runs.
    """
    run_dir = Path(run_dir)
    config = resolve_defaults(config)
    dist = Dist.from_env()
    device = pick_device(config.train.device, dist)
    init_distributed(dist, device)
    seed_everything(config.train.seed)
    if dist.main:
        check_output_dir(run_dir)
        _check_same_run(run_dir, config)
    # Stores, labels and the model are checked before the run directory is
    # made: a run that fails here leaves nothing that blocks the corrected rerun.
    task = build_task(config)
    if dist.main:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        _save_config(run_dir, config)
        for line in task.warnings:
            log(line)
    barrier(dist)
    loop = _start(task, config, run_dir, dist, device, log)
    for epoch in range(loop.start_epoch, config.train.epochs):
        row = _train_epoch(loop, epoch, progress)
        if dist.main and task.val_set is not None and len(task.val_set) and (
            (epoch + 1) % config.train.eval_every == 0 or epoch + 1 == config.train.epochs
        ):
            _validate(loop, epoch, row)
        loop.history.append(row)
        if dist.main:
            _save_epoch(loop, epoch)
            log(_epoch_line(row, task.score_name))
        barrier(dist)
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and epoch + 1 < config.train.epochs:
            return RunResult(run_dir, loop.best["epoch"], loop.history, {}, {})
    val, test = _finish(loop) if dist.main else ({}, {})
    barrier(dist)
    return RunResult(run_dir, loop.best["epoch"], loop.history, val, test)


def _start(task: Task, config: Config, run_dir: Path, dist: Dist, device: torch.device, log) -> _Loop:
    """The optimiser, schedule and scaler of a new run, or of the run in ``run_dir`` where it stopped."""
    model = task.model.to(device)
    optimizer = make_optimizer(model, config.train.lr, config.train.weight_decay)
    steps_per_epoch = math.ceil(len(task.train_set) / (config.train.batch_size * dist.world))
    total = steps_per_epoch * config.train.epochs
    warmup = int(round(config.train.warmup_epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, warmup))
    use_amp = config.train.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    ema = make_ema(model, config.train.ema)
    history: list[dict] = []
    best = {"epoch": -1, "score": -math.inf}
    start_epoch = 0
    last = run_dir / "checkpoints" / "last.pt"
    if last.exists():
        try:
            state = torch.load(last, map_location="cpu", weights_only=False)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            if ema is not None:
                ema.load_state_dict(state["ema"])
            history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
            set_rng_state(state["rng"])
        except Exception as e:  # noqa: BLE001 - any damage: say what to delete, never a traceback
            reason = " ".join(str(e).split())[:120] or type(e).__name__
            raise SlrPoseError(f"{last} cannot be resumed ({reason}); delete {run_dir} to train from the start") from None
        if dist.main:
            log(f"resuming {run_dir} after epoch {start_epoch}")
    if dist.main:
        write_text(run_dir / "labels.json", json.dumps(task.meta()["labels"], indent=1, ensure_ascii=False))
    train_model = model
    if dist.world > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    return _Loop(task, config, run_dir, dist, device, model, train_model, optimizer, scheduler, scaler, use_amp,
                 ema, history, best, start_epoch)


def _train_epoch(loop: _Loop, epoch: int, progress: bool) -> dict:
    """One pass over the training set; the epoch's row of ``metrics.csv``."""
    task, config, dist = loop.task, loop.config, loop.dist
    task.train_set.set_epoch(epoch)
    loader = _loader(task.train_set, config.train.batch_size, shuffle=True, seed=config.train.seed,
                     epoch=epoch, workers=config.data.workers, dist=dist, balanced=config.train.sampler == "balanced")
    is_late = late(epoch, config.train.epochs, config.train.late_start)
    if config.train.late_dropout > 0:
        set_late_dropout(loop.model, config.train.late_dropout if is_late else 0.0)
    awp = AWP(loop.model, config.train.awp) if config.train.awp > 0 and is_late else None
    loop.train_model.train()
    t0, seen, loss_sum, logs_sum = time.perf_counter(), 0, 0.0, {}
    bar = _progress(loader, f"epoch {epoch + 1}/{config.train.epochs}", progress and dist.main)
    for step, batch in enumerate(bar):
        batch = {k: v.to(loop.device) if torch.is_tensor(v) else v for k, v in batch.items()}
        step_seed = config.train.seed * 1_000_003 + epoch * 10_007 + step
        with torch.autocast(loop.device.type, enabled=loop.use_amp):
            loss, logs = task.loss(loop.train_model, batch, step_seed=step_seed)
        if not torch.isfinite(loss):
            raise SlrPoseError(f"the loss became {loss.item()} at epoch {epoch + 1}, step {step}: lower train.lr")
        loop.optimizer.zero_grad(set_to_none=True)
        # with AWP, the clean gradient is only the direction of the perturbation: DDP averages the sum once
        no_sync = loop.train_model.no_sync() if awp is not None and dist.world > 1 else contextlib.nullcontext()
        with no_sync:
            loop.scaler.scale(loss).backward()
        if awp is not None:
            with awp.perturbed():
                with torch.autocast(loop.device.type, enabled=loop.use_amp):
                    adv, _ = task.loss(loop.train_model, batch, step_seed=step_seed)
                loop.scaler.scale(adv).backward()
            logs = {**logs, "awp_loss": adv.detach()}
        if config.train.clip_grad > 0:
            loop.scaler.unscale_(loop.optimizer)
            torch.nn.utils.clip_grad_norm_(loop.model.parameters(), config.train.clip_grad)
        loop.scaler.step(loop.optimizer)
        loop.scaler.update()
        loop.scheduler.step()
        if loop.ema is not None:
            loop.ema.update_parameters(loop.model)
        n = len(batch["x"])
        seen += n
        loss_sum += loss.item() * n
        for k, v in logs.items():
            logs_sum[k] = logs_sum.get(k, 0.0) + float(v) * n
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
    row = {
        "epoch": epoch + 1,
        "train_loss": loss_sum / max(seen, 1),
        "lr": loop.optimizer.param_groups[0]["lr"],
        "samples_per_s": seen * dist.world / max(time.perf_counter() - t0, 1e-9),
    }
    row.update({f"train_{k}": v / max(seen, 1) for k, v in logs_sum.items()})
    return row


def _validate(loop: _Loop, epoch: int, row: dict) -> None:
    """Score the validation split into ``row``; keep the weights as ``best.pt`` when they are the best yet."""
    task = loop.task
    val = task.evaluate(loop.kept, _eval_loader(task.val_set, loop.config, loop.device))
    row.update({f"val_{k}": v for k, v in _scalars(val).items()})
    score = val[task.score_name]
    if score >= loop.best["score"]:  # ties: the later, longer-trained epoch
        loop.best = {"epoch": epoch + 1, "score": score}
        atomic_save({"model": loop.kept.state_dict(), "meta": _meta(task, loop.config), "epoch": epoch + 1},
                    loop.ckpt_dir / "best.pt")


def _save_epoch(loop: _Loop, epoch: int) -> None:
    """``last.pt`` (everything a resume needs) and ``metrics.csv`` after each epoch."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "model": loop.model.state_dict(),
        "optimizer": loop.optimizer.state_dict(),
        "scheduler": loop.scheduler.state_dict(),
        "scaler": loop.scaler.state_dict(),
        **({"ema": loop.ema.state_dict()} if loop.ema is not None else {}),
        "epoch": epoch,
        "history": loop.history,
        "best": loop.best,
        "rng": rng_state(),
        "meta": _meta(loop.task, loop.config),
    }
    atomic_save(state, loop.ckpt_dir / "last.pt")
    _write_metrics(loop.run_dir, loop.history)


def _finish(loop: _Loop) -> tuple[dict, dict]:
    """Load the best weights, score validation and test, write the summary and curves; ``(val, test)`` metrics."""
    task, config, epochs = loop.task, loop.config, loop.config.train.epochs
    if loop.best["epoch"] < 0:  # no validation split: the last epoch is the model
        atomic_save({"model": loop.kept.state_dict(), "meta": _meta(task, config), "epoch": epochs},
                    loop.ckpt_dir / "best.pt")
        loop.best = {"epoch": epochs, "score": float("nan")}
    weights = torch.load(loop.ckpt_dir / "best.pt", map_location="cpu", weights_only=False)["model"]
    loop.model.load_state_dict(weights)
    val, test = {}, {}
    if task.val_set is not None and len(task.val_set):
        val = task.evaluate(loop.model, _eval_loader(task.val_set, config, loop.device))
    if task.test_set is not None and len(task.test_set):
        test = task.evaluate(loop.model, _eval_loader(task.test_set, config, loop.device))
    summary = {
        "best_epoch": loop.best["epoch"],
        "val": _scalars(val, nested=True),
        "test": _scalars(test, nested=True),
        "world_size": loop.dist.world,
        "device": str(loop.device),
        "slr_pose_version": __version__,
    }
    write_text(loop.run_dir / "summary.json", json.dumps(summary, indent=1))
    _plot_curves(loop.run_dir, loop.history, task.score_name)
    task.finish(loop.run_dir)
    return val, test


def _eval_loader(dataset, config: Config, device: torch.device):
    return _loader(dataset, config.train.batch_size, shuffle=False, seed=0, epoch=0, workers=config.data.workers, dist=Dist())


def _meta(task: Task, config: Config) -> dict:
    return {**task.meta(), "config": config.to_dict(), "slr_pose_version": __version__}


def _scalars(d: dict, nested: bool = False) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = v
        elif nested and isinstance(v, dict):
            out[k] = _scalars(v, nested=True)
    return out


def _epoch_line(row: dict, score_name: str) -> str:
    parts = [f"epoch {row['epoch']}", f"loss {row['train_loss']:.4f}"]
    if f"val_{score_name}" in row:
        parts.append(f"val {score_name} {row[f'val_{score_name}']:.4f}")
    parts.append(f"{row['samples_per_s']:.0f} samples/s")
    return "  ".join(parts)


def _progress(loader, desc: str, enabled: bool):
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, leave=False, unit="batch", disable=None)  # None: off when not a terminal


def _write_metrics(run_dir: Path, history: list[dict]) -> None:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    with atomic_path(run_dir / "metrics.csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(history)


def _plot_curves(run_dir: Path, history: list[dict], score_name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax[0].plot(epochs, [r["train_loss"] for r in history], marker=".")
    ax[0].set(xlabel="epoch", ylabel="training loss")
    pts = [(r["epoch"], r[f"val_{score_name}"]) for r in history if f"val_{score_name}" in r]
    if pts:
        ax[1].plot(*zip(*pts), marker=".", color="tab:green")
    ax[1].set(xlabel="epoch", ylabel=f"validation {score_name}")
    fig.tight_layout()
    with atomic_path(run_dir / "curves.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _check_same_run(run_dir: Path, config: Config) -> None:
    """A run directory belongs to one config once it has a checkpoint; resuming with another is refused.

    A run that failed before its first epoch ended has nothing to resume: its
    config is simply replaced.
    """
    import yaml

    saved = run_dir / "config.yaml"
    current = config.to_dict()
    if saved.exists() and (run_dir / "checkpoints" / "last.pt").exists():
        try:
            before = yaml.safe_load(saved.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise SlrPoseError(f"{saved} cannot be read ({' '.join(str(e).split())[:120]}): use a new run directory") from None
        if not isinstance(before, dict):
            raise SlrPoseError(f"{saved} is not a run config: use a new run directory")
        try:  # an older slr-pose wrote fewer keys: compare what both mean
            before = config_from_dict(before).to_dict()
        except SlrPoseError:
            pass
        # epochs may grow: resuming to train longer is allowed
        a = {**before, "train": {**before.get("train", {}), "epochs": None}}
        b = {**current, "train": {**current["train"], "epochs": None}}
        if a != b:
            changed = sorted(
                f"{sec}.{k}" for sec in set(a) | set(b) if isinstance(a.get(sec), dict) and isinstance(b.get(sec), dict)
                for k in set(a[sec]) | set(b[sec]) if a[sec].get(k) != b[sec].get(k)
            ) or sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise SlrPoseError(
                f"{run_dir} holds a run with another config (differs in {', '.join(changed[:5])}); "
                "use a new run directory"
            )


def _save_config(run_dir: Path, config: Config) -> None:
    import yaml

    write_text(run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True))

"""Training (paper §4): `depth-pose train --arch dnn33 --data DIR --out RUN`.

Reads top to bottom: configuration, data, model, optimiser and schedule, the loop. Writes into RUN:
checkpoint.pt (last epoch, resumable), best.pt (the best epoch: lowest validation loss, or with
keep_best "ap" highest validation AP@10cm), history.csv, loss_curve.png. With average_weights the
weights validated and saved as "model" are a moving average of the trained ones.
A run whose RUN/checkpoint.pt exists resumes from it.

Split: the first 60 % of the dataset trains (its last `val_frames` frames validate), the rest
tests (the paper's 60/40). Several datasets (a mixture, e.g. two worlds) are each split so, the
validation frames shared in proportion to their sizes, and train together. Training noise is
drawn afresh every epoch: sigma 1.25 cm on a fixed random half of the frames, 2.5 cm on the
other half; validation uses 1.875 cm with a fixed seed.
"""
from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from depth_pose_ros.depth_image import to_metres
from depth_pose_ros.joints import ERROR_SCALES, HANDS, NUM_TARGETS, to_targets
from depth_pose_ros.learn.augment import (
    TEST_NOISE_SIGMA,
    TRAIN_NOISE_SIGMAS,
    add_depth_noise,
    training_batch,
)
from depth_pose_ros.learn.checkpoints import load_initial
from depth_pose_ros.learn.devices import autocast_dtype, describe, pick_device
from depth_pose_ros.learn.losses import LOSSES, training_loss
from depth_pose_ros.learn.metrics import average_precision, joint_distances, mean_without_root
from depth_pose_ros.learn.models import build_model, count_weights
from depth_pose_ros.runtime.encoding import Preprocessor
from depth_pose_ros.synth.dataset import (
    TRAIN_FRACTION,
    check_mixable,
    describe_dataset,
    group_datasets,
    load_dataset,
    load_frame_labels,
    mixture_split,
)
from depth_pose_ros.synth.generate import OnlineFrames

RECIPES = ("paper", "fast")
KEEP_BEST = ("loss", "ap")


@dataclass
class TrainConfig:
    arch: str = "dnn33"
    recipe: str = "fast"  # "paper": SGD as §4; "fast": AdamW + one-cycle, bf16, channels_last
    input_mode: str = "float"  # "float" (full precision) or "paper8bit"
    epochs: int = 100
    time_budget_min: float | None = None  # stop (and key the fast schedule) on wall time
    batch_size: int = 256  # the global batch: ranks share it (and the learning rate's meaning)
    train_fraction: float = TRAIN_FRACTION
    val_frames: int = 4000
    max_train_frames: int | None = None  # use fewer training frames (tiny runs, tests)
    augment: bool = False  # beyond the paper: random mirror and shifts of up to 2 pixels
    sensor_artifacts: bool = False  # beyond the paper: ragged outlines and holes on half the frames
    loss: str = "mae"  # "mae": the paper's; "joints": 3D distance in metres (see losses.py)
    error_scales: bool = False  # beyond the paper: one more output per joint, its error scale
    # The epoch best.pt keeps: "loss", the lowest validation loss (the paper's), or "ap", the
    # highest validation AP@10cm of the non-root joints, the figure a model is judged on. With
    # error scales the loss also weighs how sure the scales are, and the two can part: stage 37
    # (session 49) had its lowest loss at epoch 8 of 20 while its AP rose to the last.
    keep_best: str = "loss"
    # Beyond the paper: > 0, an exponential moving average of the weights (this decay per step;
    # 0.9995 spans about 2,000 steps) is what validation judges and the checkpoints keep as
    # their model; the trained weights go on beside it. Late in a run the epochs' validation AP
    # wanders by +-0.003 (stage 38), the noise of single steps that an average smooths out.
    average_weights: float = 0.0
    seed: int = 0
    threads: int = 2  # per process (per rank under torchrun)
    device: str = "auto"  # devices.DEVICES; a run may resume on another device
    # beyond the paper: this many worker processes render fresh frames of the data's world
    # while training, replacing the oldest training frames (synth.OnlineFrames); 0: off
    synth_online: int = 0
    # paper recipe (§4)
    paper_lr: float = 0.05
    paper_momentum: float = 0.3
    paper_min_improvement: float = 1e-4  # stop when validation MAE improves less per epoch
    # fast recipe
    fast_lr: float = 1.5e-3
    fast_weight_decay: float = 1e-4
    fast_warmup: float = 0.03  # share of the run spent warming the learning rate up
    # Warm start: begin from another run's best weights, or an exported model's, with a fresh
    # schedule, e.g. a lower fast_lr: longer training spread over several sessions. From other
    # data (another world) it keeps that model's input encoding and mean image and rescales its
    # output layer to this data's target ranges (warm_start_from), so it starts predicting
    # exactly what it predicted before.
    init_from: str | None = None


def learning_rate(cfg: TrainConfig, progress: float) -> float:
    """progress 0..1 of the run -> learning rate (constant for the paper's recipe)."""
    if cfg.recipe == "paper":
        return cfg.paper_lr
    if progress < cfg.fast_warmup:
        return cfg.fast_lr * progress / cfg.fast_warmup
    p = (progress - cfg.fast_warmup) / (1 - cfg.fast_warmup)
    return cfg.fast_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))


class Ranks:
    """This process's place among data-parallel ranks (torchrun sets WORLD_SIZE, RANK,
    LOCAL_RANK; alone: rank 0 of 1). Rank 0 alone validates and writes; its decisions (the
    schedule's progress, stopping) reach the others by broadcast."""

    def __init__(self, device: torch.device):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.main = self.rank == 0
        if self.size > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if self.size == 1:
            return model
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    def from_main(self, *values: float) -> list[float]:
        """Rank 0's values, on every rank."""
        if self.size == 1:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.broadcast(tensor, 0)
        return tensor.tolist()

    def total(self, *values: float) -> list[float]:
        """The sums over ranks."""
        if self.size == 1:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def close(self) -> None:
        if self.size > 1:
            dist.destroy_process_group()


# Options that say where a run runs, not what it computes: a run may resume with others.
WHERE_NOT_WHAT = ("device", "threads")


class TrainConfigError(ValueError):
    """A training configuration that cannot run (a user mistake, said in one line)."""


def _what(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in WHERE_NOT_WHAT}


def train(cfg: TrainConfig, data: Path | list[Path], out: Path, progress_bar: bool = True) -> dict:
    if cfg.recipe not in RECIPES or cfg.loss not in LOSSES or cfg.keep_best not in KEEP_BEST:
        raise TrainConfigError(f"recipe must be one of {RECIPES}, loss one of {LOSSES} and "
                               f"keep_best one of {KEEP_BEST}, got {cfg.recipe!r}, {cfg.loss!r} "
                               f"and {cfg.keep_best!r}")
    if not 0 <= cfg.average_weights < 1:
        raise TrainConfigError(f"--average-weights is a decay per step, from 0 (off) to below 1, "
                               f"got {cfg.average_weights}")
    device = pick_device(cfg.device)
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    ranks = Ranks(device)
    if cfg.batch_size % ranks.size:
        raise ValueError(f"--batch-size {cfg.batch_size} (the global batch) must divide "
                         f"evenly among {ranks.size} ranks")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)

    initial = load_initial(Path(cfg.init_from)) if cfg.init_from else None
    frames = TrainingFrames.load(cfg, data, initial)
    pre = frames.pre
    loss_fn = training_loss(cfg.loss, pre.target_min, pre.target_max, cfg.error_scales)
    model, optimizer = _model_and_optimizer(cfg, frames, initial, device)
    # The fast recipe's bf16 autocast where the device has bf16 natively; f32 elsewhere.
    autocast = autocast_dtype(device) if cfg.recipe == "fast" else None
    averaged = weight_average(model, cfg.average_weights) if cfg.average_weights else None
    checkpoint_path = out / "checkpoint.pt"
    state = _resume(checkpoint_path, cfg, model, optimizer, averaged, ranks.main)
    net = ranks.wrap(model, device)
    if ranks.main:
        (out / "config.json").write_text(json.dumps(
            {"config": asdict(cfg),
             "data": [str(d) for d in data] if isinstance(data, list) else str(data),
             "data_meta": frames.data_meta, "weights": count_weights(model),
             "device": describe(device), "ranks": ranks.size},
            indent=2))

    # --- the loop ------------------------------------------------------------------------------
    # Each rank takes every ranks-th frame of the epoch's order (DistributedSampler), and its
    # share of each global batch of batch_size frames.
    sampler = DistributedSampler(range(len(frames.joints3d)), num_replicas=ranks.size,
                                 rank=ranks.rank, shuffle=True, seed=cfg.seed)
    share = cfg.batch_size // ranks.size
    steps_per_epoch = math.ceil(len(sampler) / share)
    online = OnlineFrames(frames.meta, cfg.synth_online,
                          (frames.depth_mm, frames.joints3d, frames.pixels, frames.zoom),
                          (ranks.rank, ranks.size)) if cfg.synth_online else None
    budget_s = cfg.time_budget_min * 60 if cfg.time_budget_min else None
    started = time.perf_counter() - state["elapsed"]
    stop_reason = "epochs"
    for epoch in range(state["epoch"], cfg.epochs):
        sampler.set_epoch(epoch)  # resumable: epoch-keyed order, step-keyed draws
        epoch_started = time.perf_counter()
        order = np.fromiter(sampler, dtype=np.int64)
        net.train()
        total, total_mae, seen = 0.0, 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}",
                   disable=not (progress_bar and ranks.main), leave=False, unit="batch")
        for step in bar:
            elapsed = time.perf_counter() - started
            progress, out_of_time = ranks.from_main(
                max((epoch + step / steps_per_epoch) / cfg.epochs,
                    elapsed / budget_s if budget_s else 0.0),
                float(bool(budget_s and elapsed > budget_s)))
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, progress)
            if online is not None:
                online.refresh()
            x, y = frames.batch(cfg, np.random.default_rng([cfg.seed, epoch, step]),
                                order[step * share:(step + 1) * share], ranks, device)
            with torch.autocast(device.type, dtype=autocast or torch.float32,
                                enabled=autocast is not None):
                outputs = net(x)
            loss = loss_fn(outputs.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if averaged is not None:
                averaged.update_parameters(model)
            total += loss.item() * len(y)
            total_mae += F.l1_loss(outputs.detach().float()[:, :NUM_TARGETS], y).item() * len(y)
            seen += len(y)
            bar.set_postfix(loss=f"{total / seen:.4f}")
            if out_of_time:
                stop_reason = "time budget"
                break
        bar.close()
        total, total_mae, seen = ranks.total(total, total_mae, seen)

        state["epoch"] = epoch + 1
        state["elapsed"] = time.perf_counter() - started
        stop = stop_reason == "time budget"
        if ranks.main:
            gain = _after_epoch(cfg, model, optimizer, frames, loss_fn, device, state, out,
                                {"train_loss": total / seen, "train_mae": total_mae / seen,
                                 "samples_per_s": round(seen / (time.perf_counter()
                                                               - epoch_started), 1),
                                 "fresh_frames": online.frames if online else 0}, averaged)
            if not stop and cfg.recipe == "paper" and gain < cfg.paper_min_improvement:
                stop_reason = "validation loss improved less than the threshold"
                stop = True
        if ranks.from_main(float(stop))[0]:
            break
    if online is not None:
        online.close()
    kept = best_epoch(state["history"], cfg.keep_best) if state["history"] else None
    if ranks.main:
        print(f"stopped after epoch {state['epoch']} ({stop_reason}); best validation {cfg.loss} "
              f"{state['best_val_loss']:.4f}; best.pt: epoch {kept} (by validation "
              f"{cfg.keep_best}); {state['elapsed'] / 60:.1f} min")
    ranks.close()
    return {"epochs": state["epoch"], "minutes": state["elapsed"] / 60,
            "best_val_loss": state["best_val_loss"], "best_epoch": kept,
            "stop_reason": stop_reason}


@dataclass
class TrainingFrames:
    """A run's training frames (uint16 millimetres in memory) and its fixed validation set."""

    pre: Preprocessor
    depth_mm: np.ndarray
    joints3d: np.ndarray
    pixels: np.ndarray
    sigma_of_frame: np.ndarray  # the training noise of each frame
    zoom: np.ndarray  # each frame's camera zoom (frame label; 1 where the world has none)
    val_x: torch.Tensor  # network inputs, noise drawn once
    val_y: torch.Tensor  # normalised targets
    val_true3d: np.ndarray
    meta: dict
    data_meta: dict

    @classmethod
    def load(cls, cfg: TrainConfig, data: Path | list[Path], initial: dict | None):
        groups = group_datasets(data if isinstance(data, (list, tuple)) else [data])
        datasets = [load_dataset(group) for group in groups]
        metas = [dataset[3] for dataset in datasets]
        check_mixable([group[0] for group in groups], metas)
        if cfg.synth_online and len(datasets) > 1:
            raise TrainConfigError("--synth-online renders one dataset's world: give one "
                                   "dataset (or its shards), not a mixture")
        splits = mixture_split([len(d[0]) for d in datasets], cfg.val_frames,
                               cfg.max_train_frames, cfg.train_fraction)
        train_parts, val_parts = [], []
        for group, (depth_mm, joints3d, pixels, _), (train_idx, val_idx) in zip(
                groups, datasets, splits):
            labels = load_frame_labels(group) or {}
            zoom = labels.get("zoom", np.ones(len(depth_mm), np.float32))
            # the split's parts are runs of frames: slices keep a memory-mapped file mapped
            train, val = slice(train_idx[0], train_idx[-1] + 1), slice(val_idx[0], val_idx[-1] + 1)
            train_parts.append((depth_mm[train], joints3d[train], pixels[train], zoom[train]))
            val_parts.append((depth_mm[val], joints3d[val], pixels[val]))
        train_depth, train_joints, train_pixels, train_zoom = _joined(train_parts)
        val_depth_mm, val_true3d, val_pixels = _joined(val_parts)
        # in memory; a copy of its own where online frames overwrite it
        train_depth = np.array(train_depth) if cfg.synth_online else np.asarray(train_depth)
        pre = Preprocessor.fit(to_metres(train_depth), train_joints, train_pixels, cfg.input_mode)
        if initial is not None:
            if initial["preprocessor"].mode != cfg.input_mode:
                raise ValueError(f"--init-from {cfg.init_from} reads "
                                 f"{initial['preprocessor'].mode} input, this run {cfg.input_mode}")
            pre = Preprocessor(cfg.input_mode, initial["preprocessor"].mean_image,
                               pre.target_min, pre.target_max)
        val_true3d = np.asarray(val_true3d)
        noisy_val = add_depth_noise(to_metres(val_depth_mm), TEST_NOISE_SIGMA,
                                    np.random.default_rng(cfg.seed + 1))
        # A fixed random half of the training frames gets the smaller noise (§4).
        sigma_of_frame = np.where(np.random.default_rng(cfg.seed).permutation(len(train_depth))
                                  % 2, TRAIN_NOISE_SIGMAS[0],
                                  TRAIN_NOISE_SIGMAS[1]).astype(np.float32)
        described = [describe_dataset(meta) for meta in metas]
        return cls(
            pre, train_depth, np.array(train_joints), np.array(train_pixels),  # own copies
            sigma_of_frame, np.array(train_zoom),
            torch.from_numpy(pre.inputs(noisy_val)).to(memory_format=torch.channels_last),
            torch.from_numpy(pre.normalise(to_targets(val_true3d, np.asarray(val_pixels)))),
            val_true3d, metas[0],
            described[0] if len(described) == 1 else
            {"count": sum(d["count"] for d in described),
             "zoom_reference": described[0]["zoom_reference"], "datasets": described})

    def batch(self, cfg: TrainConfig, rng: np.random.Generator, idx: np.ndarray, ranks: Ranks,
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's share of a training batch: (inputs, normalised targets) on device."""
        x, y = training_batch(self.pre, to_metres(self.depth_mm[idx]), self.joints3d[idx],
                              self.pixels[idx], self.sigma_of_frame[idx], cfg.augment, rng,
                              cfg.sensor_artifacts, share=(ranks.rank, ranks.size),
                              zoom=self.zoom[idx])
        return (torch.from_numpy(x).to(device, memory_format=torch.channels_last),
                torch.from_numpy(y).to(device))

    @torch.inference_mode()
    def validate(self, model, loss_fn, device) -> tuple[float, float, float, float]:
        """(loss, MAE of the normalised outputs, AP@10cm non-root, AP@10cm hands)."""
        model.eval()
        outputs = torch.cat([model(self.val_x[i:i + 1024].to(device)).float().cpu()
                             for i in range(0, len(self.val_x), 1024)])
        pred3d, _ = self.pre.joints(outputs.numpy())
        ap = average_precision(joint_distances(pred3d, self.val_true3d))
        return (loss_fn(outputs, self.val_y).item(),
                F.l1_loss(outputs[:, :NUM_TARGETS], self.val_y).item(),
                mean_without_root(ap), float(ap[list(HANDS)].mean()))


def _joined(parts: list[tuple]) -> tuple:
    """Each array of the datasets' parts, concatenated (one dataset's as it is)."""
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


def _after_epoch(cfg: TrainConfig, model, optimizer, frames: TrainingFrames, loss_fn, device,
                 state: dict, out: Path, trained: dict, averaged=None) -> float:
    """Validate, add the epoch's row to the history, print it and save the checkpoints (rank 0).
    trained: the epoch's training figures; averaged: the weights' moving average (or None),
    which is then what is judged, the trained weights' AP recorded beside it. Returns how much
    the validation loss improved on the best before it."""
    judged = model if averaged is None else averaged.module
    val_loss, val_mae, val_ap, val_ap_hands = frames.validate(judged, loss_fn, device)
    previous_best = state["best_val_loss"]
    # MAE of the normalised outputs (the paper's figure) is kept whatever the loss.
    row = {"epoch": state["epoch"], "minutes": round(state["elapsed"] / 60, 3),
           "lr": optimizer.param_groups[0]["lr"], "train_mae": trained["train_mae"],
           "val_mae": val_mae, "val_ap10_no_root": val_ap, "val_ap10_hands": val_ap_hands,
           "train_loss": trained["train_loss"], "val_loss": val_loss,
           "samples_per_s": trained["samples_per_s"], "fresh_frames": trained["fresh_frames"]}
    if averaged is not None:
        row["val_ap10_no_root_unaveraged"] = frames.validate(model, loss_fn, device)[2]
    state["history"].append(row)
    unaveraged = (f"; unaveraged {row['val_ap10_no_root_unaveraged']:.3f}"
                  if averaged is not None else "")
    print(f"epoch {row['epoch']}: train {cfg.loss} {row['train_loss']:.4f}  val {cfg.loss} "
          f"{val_loss:.4f}  val AP@10cm {val_ap:.3f} (hands {val_ap_hands:.3f}{unaveraged})  "
          f"{row['samples_per_s']:.0f} samples/s  {row['minutes']:.1f} min")
    if val_loss < previous_best:
        state["best_val_loss"] = val_loss
    _save(out, cfg, model, optimizer, frames.pre, state, frames.data_meta,
          best=best_epoch(state["history"], cfg.keep_best) == row["epoch"], averaged=averaged)
    return previous_best - val_loss


def best_epoch(history: list[dict], keep_best: str) -> int:
    """The epoch best.pt holds, from the run's history: the first of the lowest validation loss,
    or with keep_best "ap" of the highest validation AP@10cm (non-root)."""
    if keep_best == "ap":
        return min(history, key=lambda row: -row["val_ap10_no_root"])["epoch"]
    return min(history, key=lambda row: row["val_loss"])["epoch"]


def _model_and_optimizer(cfg: TrainConfig, frames: TrainingFrames, initial: dict | None,
                         device: torch.device):
    model = build_model(cfg.arch, cfg.error_scales).to(memory_format=torch.channels_last)
    if initial is not None:
        start = warm_start_from(initial, frames.pre, cfg.error_scales)
        if initial["arch"] != cfg.arch:
            target = model.state_dict()
            cannot = (f"--init-from {cfg.init_from} is a {initial['arch']}, which cannot become "
                      f"a {cfg.arch}: a DNN can only be deepened, widened, or narrowed to fewer "
                      "filters in the same layers")
            if len(target) > len(start):  # more layers
                start = deepen_dnn(start, target, cannot)
            elif sum(map(torch.numel, target.values())) < sum(map(torch.numel, start.values())):
                wide = build_model(initial["arch"], cfg.error_scales)
                wide.load_state_dict(start)
                some = frames.pre.inputs(to_metres(frames.depth_mm[:PRUNING_FRAMES]))
                start = narrow_dnn(start, target, reader_inputs(wide, torch.from_numpy(some)),
                                   cannot)
            else:
                start = widen_dnn(start, target, torch.Generator().manual_seed(cfg.seed), cannot)
        model.load_state_dict(start)
    model.to(device)
    if cfg.recipe == "paper":
        optimizer = torch.optim.SGD(model.parameters(), lr=cfg.paper_lr,
                                    momentum=cfg.paper_momentum)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.fast_lr,
                                      weight_decay=cfg.fast_weight_decay)
    return model, optimizer


def weight_average(model: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of model's weights and buffers (batch-norm statistics),
    `decay` per update; its first update copies them."""
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _resume(checkpoint_path: Path, cfg: TrainConfig, model, optimizer, averaged,
            main: bool) -> dict:
    """The run's state: fresh, or the checkpoint's (its weights, their average if kept, and
    the optimiser's state loaded)."""
    if not checkpoint_path.exists():
        return {"epoch": 0, "elapsed": 0.0, "best_val_loss": math.inf, "history": []}
    saved = torch.load(checkpoint_path, weights_only=False, map_location="cpu")
    # An option added after the checkpoint was written takes its default: how that run ran.
    if _what({**asdict(TrainConfig()), **saved["config"]}) != _what(asdict(cfg)):
        raise TrainConfigError(f"{checkpoint_path} was written with another configuration: "
                               "use a new --out, or the same options to resume")
    model.load_state_dict(saved.get("unaveraged_model", saved["model"]))
    if averaged is not None:
        averaged.module.load_state_dict(saved["model"])
        averaged.n_averaged.fill_(1)  # the average goes on from the saved one, not a fresh copy
    optimizer.load_state_dict(saved["optimizer"])  # its state follows the weights' device
    state = saved["state"]
    if main:
        print(f"resuming {checkpoint_path.parent} after epoch {state['epoch']} "
              f"({state['elapsed'] / 60:.1f} min)")
    return state


def _save(out: Path, cfg: TrainConfig, model, optimizer, pre: Preprocessor, state: dict,
          data_meta: dict, best: bool, averaged=None) -> None:
    """checkpoint.pt (resumable), best.pt when best, history.csv and loss_curve.png. Each
    checkpoint describes itself: architecture, configuration, preprocessing, data. Its "model"
    is the weights validated: the average when averaging, the trained ones then beside it."""
    judged = model if averaged is None else averaged.module
    snapshot = {"model": judged.state_dict(), "arch": cfg.arch, "config": asdict(cfg),
                "preprocessor": pre.to_dict(), "state": state, "data_meta": data_meta}
    if best:
        torch.save(snapshot, out / "best.pt")
    resumable = {**snapshot, "optimizer": optimizer.state_dict()}
    if averaged is not None:
        resumable["unaveraged_model"] = model.state_dict()
    torch.save(resumable, out / "checkpoint.pt")
    write_history(out, state["history"])


INITIAL_LOG_ERROR_SCALE = float(np.log(0.03))  # new error-scale outputs start at b = 3 cm


def warm_start_from(initial: dict, pre: Preprocessor, error_scales: bool) -> dict:
    """The initial model's state dict for this run: its output layer rescaled from its target
    ranges to pre's (identical predictions), error-scale outputs added (or dropped) as asked."""
    state = {k: v.clone() for k, v in initial["model"].items()}
    weight_key = [k for k in state if k.endswith(".weight")][-1]  # the output layer
    bias_key = weight_key[:-len("weight")] + "bias"
    weight, bias = state[weight_key], state[bias_key]
    old = initial["preprocessor"]
    old_span = torch.as_tensor(old.target_max - old.target_min)
    new_span = torch.as_tensor(pre.target_max - pre.target_min)
    offset = torch.as_tensor(old.target_min - pre.target_min)
    weight[:NUM_TARGETS] *= (old_span / new_span)[:, None]
    bias[:NUM_TARGETS] = (bias[:NUM_TARGETS] * old_span + offset) / new_span
    outputs = ERROR_SCALES.stop if error_scales else NUM_TARGETS
    if len(bias) < outputs:  # new error-scale outputs start at INITIAL_LOG_ERROR_SCALE
        extra = outputs - len(bias)
        weight = torch.cat([weight, torch.zeros(extra, weight.shape[1])])
        bias = torch.cat([bias, torch.full((extra,), INITIAL_LOG_ERROR_SCALE)])
    state[weight_key], state[bias_key] = weight[:outputs], bias[:outputs]
    return state


def layers_and_readers(state: dict) -> list[tuple[str, str]]:
    """Each layer of a built model's state dict and the next one, which reads its units, in the
    order the network runs them (the state dict's)."""
    layers = [key[:-len(".weight")] for key in state if key.endswith(".weight")]
    return list(zip(layers, layers[1:]))


WIDEN_NOISE = 0.01  # the copies' incoming weights, relative to the layer's weights' spread


def widen_dnn(state: dict, target: dict, generator: torch.Generator, error: str) -> dict:
    """A DNN's state dict widened to the shapes of `target` (a wider DNN's state dict) by
    Net2WiderNet (Chen et al. 2016): each new unit copies a random existing one and the next
    layer's weights from the copied unit are shared among its copies, so the wider network
    predicts what the narrow one did; a little noise on the copies lets them grow apart.
    TrainConfigError(error) when the two are not DNNs of the same layers, or the target is
    narrower."""
    if set(state) != set(target) or any(state[k].shape[2:] != target[k].shape[2:] for k in state):
        raise TrainConfigError(error)
    state = {k: v.clone() for k, v in state.items()}
    for layer, reader in layers_and_readers(target):
        weight, bias = state[f"{layer}.weight"], state[f"{layer}.bias"]
        old, new = len(bias), len(target[f"{layer}.bias"])
        if new < old:
            raise TrainConfigError(error)
        copied = torch.cat([torch.arange(old), torch.randint(old, (new - old,), generator=generator)])
        shares = torch.bincount(copied, minlength=old)[copied].float()
        noise = torch.randn((new - old,) + weight.shape[1:], generator=generator)
        state[f"{layer}.weight"] = torch.cat([weight, weight[copied[old:]] +
                                              WIDEN_NOISE * weight.std() * noise])
        state[f"{layer}.bias"] = bias[copied]
        # The reader sees each unit as a group of inputs (a channel's pixels after flattening).
        read = state[f"{reader}.weight"]
        grouped = read.reshape(read.shape[0], old, -1, *read.shape[2:])
        widened = grouped[:, copied] / shares.reshape(1, new, *[1] * (grouped.dim() - 2))
        state[f"{reader}.weight"] = widened.reshape(read.shape[0], -1, *read.shape[2:])
    if any(state[k].shape != target[k].shape for k in state):
        raise TrainConfigError(error)
    return state


def deepen_dnn(state: dict, target: dict, error: str) -> dict:
    """A DNN's state dict deepened to `target` (the same DNN with refinement convolutions,
    models.DNN) by Net2DeeperNet (Chen et al. 2016): each new 3x3 convolution starts as the
    identity (its input is a ReLU's, so its own ReLU passes it unchanged) and the deeper network
    predicts what the shallower one did. TrainConfigError(error) when the rest differs."""
    if not set(state) < set(target) or any(state[k].shape != target[k].shape for k in state):
        raise TrainConfigError(error)
    state = {k: v.clone() for k, v in state.items()}
    for key in sorted(set(target) - set(state)):
        shape = target[key].shape
        if key.endswith(".bias"):
            state[key] = torch.zeros(shape)
        elif len(shape) == 4 and shape[0] == shape[1] and shape[2:] == (3, 3):
            state[key] = torch.zeros(shape)
            state[key][range(shape[0]), range(shape[0]), 1, 1] = 1.0
        else:
            raise TrainConfigError(error)
    return state


PRUNING_FRAMES = 2048  # training frames whose outputs decide which filters a narrowing drops


def narrow_dnn(state: dict, target: dict, inputs: dict, error: str) -> dict:
    """A DNN's state dict narrowed to `target` (the same layers, some with fewer filters) by
    structured pruning: in each narrower layer go the filters whose output the next layer relies
    on least (the output's spread over `inputs` times the next layer's weights on it), and the next
    layer's bias takes in their mean output, so the narrow network predicts nearly what the wide
    one did, and training goes on from there. inputs: each layer's input on some frames, by
    module name (reader_inputs). TrainConfigError(error) when the two are not the same layers,
    or the target is wider somewhere."""
    if set(state) != set(target) or any(state[k].dim() != target[k].dim() for k in state):
        raise TrainConfigError(error)
    state = {k: v.clone() for k, v in state.items()}
    for layer, reader in layers_and_readers(target):
        old, new = len(state[f"{layer}.bias"]), len(target[f"{layer}.bias"])
        if new > old:
            raise TrainConfigError(error)
        read = state[f"{reader}.weight"]
        grouped = read.reshape(read.shape[0], old, -1)  # (reader's units, filters, taps or pixels)
        seen = inputs[reader].reshape(len(inputs[reader]), old, -1)  # (frames, filters, pixels)
        reliance = seen.std(dim=(0, 2)) * grouped.norm(dim=(0, 2))
        ranked = torch.argsort(reliance, descending=True)
        keep, dropped = ranked[:new].sort().values, ranked[new:]
        mean = seen[:, dropped].mean(dim=0)  # (dropped filters, pixels)
        if read.dim() == 4:  # a convolution's bias is per channel: the mean over the image
            mean = mean.mean(dim=1, keepdim=True).expand(-1, grouped.shape[2])
        state[f"{reader}.bias"] += torch.einsum("ufp,fp->u", grouped[:, dropped], mean)
        state[f"{layer}.weight"] = state[f"{layer}.weight"][keep]
        state[f"{layer}.bias"] = state[f"{layer}.bias"][keep]
        state[f"{reader}.weight"] = grouped[:, keep].reshape(read.shape[0], -1, *read.shape[2:])
    if any(state[k].shape != target[k].shape for k in state):
        raise TrainConfigError(error)
    return state


def reader_inputs(model: nn.Module, inputs: torch.Tensor) -> dict:
    """What each convolution and linear layer of `model` reads (by module name) for `inputs`."""
    seen = {}
    hooks = [module.register_forward_pre_hook(
        lambda _, args, name=name: seen.__setitem__(name, args[0].detach()))
        for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        model.eval()(inputs)
    for hook in hooks:
        hook.remove()
    return seen


def write_history(out: Path, history: list[dict]) -> None:
    """history.csv and loss_curve.png (the paper's Fig. 4: MAE by epoch and by time)."""
    with open(out / "history.csv", "w", newline="") as f:
        # every column any row has: a resumed run's older rows may lack newer ones
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in history for k in r)),
                                restval="")
        writer.writeheader()
        writer.writerows(history)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key, label in ((axes[0], "epoch", "epoch"), (axes[1], "minutes", "minutes")):
        x = [r[key] for r in history]
        ax.plot(x, [r["train_mae"] for r in history], "-o", ms=3, label="training")
        ax.plot(x, [r["val_mae"] for r in history], "-o", ms=3, label="validation")
        ax.set_xlabel(label)
        ax.set_ylabel("MAE of normalised outputs")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("training and validation mean absolute error (paper Fig. 4)")
    fig.tight_layout()
    fig.savefig(out / "loss_curve.png", dpi=100)
    plt.close(fig)


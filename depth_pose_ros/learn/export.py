"""`depth-pose export RUN --out MODEL_DIR`: a training run's best weights -> OpenVINO IR + model.json.

The inference precision is chosen by measurement on validation frames: f32, bf16 (this CPU's
default) and INT8 (NNCF quantisation calibrated on training frames, then a short
quantisation-aware fine-tuning on training frames). The fastest that keeps its median joint
error within MAX_PRECISION_LOSS_M of f32 and its AP@10cm (six non-root joints) within
MAX_PRECISION_AP_LOSS of f32 ships.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_metres
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.learn.augment import (
    TEST_NOISE_SIGMA,
    TRAIN_NOISE_SIGMAS,
    add_depth_noise,
    training_batch,
)
from depth_pose_ros.learn.checkpoints import load_run
from depth_pose_ros.learn.losses import training_loss
from depth_pose_ros.learn.metrics import average_precision, joint_distances, mean_without_root
from depth_pose_ros.learn.models import INPUT_SHAPE, count_weights
from depth_pose_ros.runtime.encoding import Preprocessor
from depth_pose_ros.runtime.estimator import (
    MAX_PRECISION_AP_LOSS,
    MAX_PRECISION_LOSS_M,
    PRECISIONS,
    PoseEstimator,
    ir_path,
    precision_cost,
)
from depth_pose_ros.synth.dataset import load_dataset, split_indices

CALIBRATION_FRAMES = 300
# Quantisation-aware fine-tuning of the INT8 model at a small learning rate, as NNCF recommends.
INT8_FINETUNE_STEPS = 500
INT8_FINETUNE_BATCH = 256
INT8_FINETUNE_LR = 1e-5


def export(run: Path, out: Path, data: Path | None = None, frames: int = 4000,
           int8_steps: int | None = None, progress_bar: bool = True) -> dict:
    """Write the run's best weights as OpenVINO IR (f32) with model.json. With data (the run's
    dataset): also the INT8 IR, and the inference precision chosen by measurement."""
    model, checkpoint = load_run(run)
    info = _write_f32(model, checkpoint, out)
    if data is None:
        return info

    int8_steps = INT8_FINETUNE_STEPS if int8_steps is None else int8_steps
    depth_mm, joints3d, pixels, _ = load_dataset(Path(data))
    cfg = checkpoint["config"]
    train_idx, val_idx, _ = split_indices(len(depth_mm), cfg["val_frames"], cfg["train_fraction"])
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    # One random stream each, so that --int8-steps leaves the calibration and the f32
    # reference (the validation frames' noise) as they were.
    calibrate_rng, finetune_rng, validate_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(3))

    # INT8: calibrated on training frames, then fine-tuned on them.
    calibration = np.sort(calibrate_rng.choice(train_idx, min(CALIBRATION_FRAMES, len(train_idx)),
                                               False))
    calibration_depth = add_depth_noise(
        to_metres(depth_mm[calibration]), TEST_NOISE_SIGMA, calibrate_rng)

    def finetune_batches():
        for _ in tqdm(range(int8_steps), desc="INT8 fine-tuning", unit="step",
                      disable=not progress_bar):
            idx = np.sort(finetune_rng.choice(train_idx, min(INT8_FINETUNE_BATCH, len(train_idx)),
                                              False))
            yield training_batch(pre, to_metres(depth_mm[idx]), joints3d[idx], pixels[idx],
                                 finetune_rng.choice(TRAIN_NOISE_SIGMAS, len(idx)),
                                 cfg["augment"], finetune_rng)
    # Runs from before the loss option trained with the paper's MAE.
    loss_fn = training_loss(cfg.get("loss", "mae"), pre.target_min, pre.target_max,
                            info["error_scales"])
    quantize_int8(model, pre.inputs(calibration_depth), ir_path(out, "int8"), finetune_batches(),
                  loss_fn)

    # The precision: measured on validation frames.
    val_idx = val_idx[:frames]
    depth = add_depth_noise(to_metres(depth_mm[val_idx]), TEST_NOISE_SIGMA, validate_rng)
    info["inference_precision"], info["precision_check"] = choose_precision(
        model, pre, out, depth, np.asarray(joints3d[val_idx]))
    info["precision_check"].update({
        "calibration_frames": len(calibration),
        "int8_finetune": {"steps": int8_steps, "batch": INT8_FINETUNE_BATCH,
                          "lr": INT8_FINETUNE_LR}})
    (out / "model.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def _write_f32(model: nn.Module, checkpoint: dict, out: Path) -> dict:
    """model.xml/.bin (f32, any batch size) and model.json, which describes the model; returns
    model.json's content."""
    import openvino as ov

    out.mkdir(parents=True, exist_ok=True)
    ov_model = ov.convert_model(model, example_input=torch.zeros((1,) + INPUT_SHAPE),
                                input=[(-1,) + INPUT_SHAPE])  # any batch size
    ov.save_model(ov_model, ir_path(out, "f32"), compress_to_fp16=False)
    state = checkpoint["state"]
    info = {
        "format": "depth_pose_ros model 1",
        "arch": checkpoint["arch"],
        "weights": count_weights(model),
        # Outputs 33..39 are each joint's log error scale (joints.ERROR_SCALES).
        "error_scales": bool(checkpoint["config"].get("error_scales", False)),
        "joint_names": list(JOINT_NAMES),
        "camera": PinholeCamera.virtual().to_dict(),
        # > 0: the camera is zoomed to each person's distance, as if this far (reproject.zoom_level)
        "zoom_reference_m": checkpoint["data_meta"].get("zoom_reference", 0.0),
        "preprocessing": checkpoint["preprocessor"],
        "inference_precision": "f32",
        "training": {"config": checkpoint["config"], "data": checkpoint["data_meta"],
                     "epochs": state["epoch"], "minutes": round(state["elapsed"] / 60, 1),
                     "best_val_loss": state["best_val_loss"]},
    }
    (out / "model.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def choose_precision(model: nn.Module, pre: Preprocessor, out: Path, depth: np.ndarray,
                     truth: np.ndarray) -> tuple[str, dict]:
    """The fastest of PRECISIONS (the IRs in out) that keeps the rule's accuracy on the frames
    depth (metres) with true joints truth, and what was measured."""
    with torch.inference_mode():
        reference = pre.joints(model(torch.from_numpy(pre.inputs(depth))).numpy())[0]

    def median_and_ap(pred):
        distances = joint_distances(pred, truth)
        return float(np.median(distances)), mean_without_root(average_precision(distances))
    medians, aps = {}, {}
    medians["torch_f32"], aps["torch_f32"] = median_and_ap(reference)
    max_diff = {}
    for precision in PRECISIONS:
        # one pass, to compare each precision's arithmetic with PyTorch's
        pred, _ = PoseEstimator(out, precision=precision, mirror_average=False).estimate_batch(depth)
        medians[precision], aps[precision] = median_and_ap(pred)
        max_diff[precision] = float(np.abs(pred - reference).max())
    check = {"frames": len(depth), "median_error_m": medians, "ap10_no_root": aps}
    # PRECISIONS runs fastest first: ship the first one accurate enough.
    chosen = next(p for p in PRECISIONS if precision_cost(check, p) is None)
    return chosen, {
        **check, "max_abs_diff_to_torch_m": max_diff,
        "rule": f"the fastest of {list(PRECISIONS)} whose median error is within "
                f"{MAX_PRECISION_LOSS_M} m of f32 and AP@10cm (non-root) within "
                f"{MAX_PRECISION_AP_LOSS} of f32"}


def quantize_int8(model: nn.Module, calibration_inputs: np.ndarray, path: Path,
                  finetune_batches=(), loss_fn=F.l1_loss, lr: float = INT8_FINETUNE_LR) -> None:
    """NNCF INT8 quantisation of a PyTorch model, saved as OpenVINO IR at path.

    Calibrated on calibration_inputs (N, 1, H, W), then fine-tuned on finetune_batches, an
    iterable of (inputs, normalised targets), with loss_fn, the run's training loss
    (quantisation-aware training: the rounding is simulated in the forward pass, so the weights
    learn to live with it). The first and the last
    weighted layers stay in float: 8 bits over the input's range are steps of about 3.5 cm of
    depth, and over the output's range about 1 cm of joint position (measured on the second
    shipped DNN33: median error +1.8 cm with every layer in INT8, +0.6 cm with these two in
    float). A two-layer network (the MLP) keeps only its first.
    """
    import copy
    import os
    import warnings

    # NNCF builds its C++ extension on first use and gives up after 60 s by default: too short
    # for a busy 2-core machine.
    os.environ.setdefault("NNCF_EXTENSION_LOAD_TIMEOUT", "900")
    import nncf
    import openvino as ov

    weighted = [(name, module) for name, module in model.named_modules()
                if isinstance(module, (nn.Conv2d, nn.Linear))]
    in_float = [weighted[0], weighted[-1]] if len(weighted) > 2 else weighted[:1]
    # NNCF names the first call of a module "<its path, / for .>/<conv2d|linear>/0".
    names = [name.replace(".", "/") + ("/conv2d/0" if isinstance(module, nn.Conv2d) else "/linear/0")
             for name, module in in_float]
    dataset = nncf.Dataset(list(torch.from_numpy(calibration_inputs[:, None])))
    quantized = nncf.quantize(copy.deepcopy(model).eval(), dataset,
                              subset_size=len(calibration_inputs),
                              ignored_scope=nncf.IgnoredScope(names=names))
    optimizer = torch.optim.AdamW(quantized.parameters(), lr=lr, weight_decay=0.0)
    quantized.train()
    for x, y in finetune_batches:
        loss = loss_fn(quantized(torch.from_numpy(x)), torch.from_numpy(y))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    quantized.eval()
    with warnings.catch_warnings():  # the tracer's notes on NNCF's constant quantiser levels
        warnings.simplefilter("ignore")
        ov_model = ov.convert_model(quantized, example_input=torch.zeros((1,) + INPUT_SHAPE),
                                    input=[(-1,) + INPUT_SHAPE])
    ov.save_model(ov_model, path, compress_to_fp16=False)

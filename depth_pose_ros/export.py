"""`depth-pose export RUN --out MODEL_DIR`: a training run's best weights -> OpenVINO IR + model.json.

The inference precision is chosen by measurement on validation frames: f32, bf16 (this CPU's
default) and INT8 (NNCF post-training quantisation, calibrated on training frames). The fastest
whose median joint error stays within MAX_PRECISION_LOSS_M of f32 ships.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.estimator import PRECISIONS, PoseEstimator
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.metrics import joint_distances
from depth_pose_ros.models import INPUT_SHAPE, build_model, count_weights
from depth_pose_ros.preprocess import TEST_NOISE_SIGMA, Preprocessor, add_depth_noise
from depth_pose_ros.depth_image import to_metres
from depth_pose_ros.synth import load_dataset, split_indices

MAX_PRECISION_LOSS_M = 0.005
CALIBRATION_FRAMES = 300


def load_run(run: Path):
    """(model in eval mode, checkpoint dict) from a run directory's best.pt."""
    path = Path(run) / "best.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run} a training run directory?")
    checkpoint = torch.load(path, weights_only=False)
    model = build_model(checkpoint["arch"])
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint


def export(run: Path, out: Path, data: Path | None = None, frames: int = 4000) -> dict:
    import openvino as ov

    model, checkpoint = load_run(run)
    out.mkdir(parents=True, exist_ok=True)
    example = torch.zeros((1,) + INPUT_SHAPE)
    ov_model = ov.convert_model(model, example_input=example,
                                input=[(-1,) + INPUT_SHAPE])  # any batch size
    ov.save_model(ov_model, out / "model.xml", compress_to_fp16=False)
    state = checkpoint["state"]
    info = {
        "format": "depth_pose_ros model 1",
        "arch": checkpoint["arch"],
        "weights": count_weights(model),
        "joint_names": list(JOINT_NAMES),
        "camera": PinholeCamera.virtual().to_dict(),
        "preprocessing": checkpoint["preprocessor"],
        "inference_precision": "f32",
        "training": {"config": checkpoint["config"], "data": checkpoint["data_meta"],
                     "epochs": state["epoch"], "minutes": round(state["elapsed"] / 60, 1),
                     "best_val_mae": state["best_val_mae"]},
    }
    (out / "model.json").write_text(json.dumps(info, indent=1) + "\n")

    if data is None:
        return info

    # Measure the precisions on validation frames of the training data (noise as the test set).
    depth_mm, joints3d, _, _ = load_dataset(Path(data))
    cfg = checkpoint["config"]
    train_idx, val_idx, _ = split_indices(len(depth_mm), cfg["val_frames"], cfg["train_fraction"])
    pre = Preprocessor.from_dict(checkpoint["preprocessor"])
    rng = np.random.default_rng(0)
    calibration = np.sort(rng.choice(train_idx, min(CALIBRATION_FRAMES, len(train_idx)), False))
    calibration_depth = add_depth_noise(
        to_metres(depth_mm[calibration]), TEST_NOISE_SIGMA, rng)
    quantize_int8(ov_model, pre.inputs(calibration_depth), out / "model_int8.xml")

    val_idx = val_idx[:frames]
    depth = add_depth_noise(to_metres(depth_mm[val_idx]), TEST_NOISE_SIGMA, rng)
    truth = np.asarray(joints3d[val_idx])
    with torch.inference_mode():
        reference = pre.joints(model(torch.from_numpy(pre.inputs(depth))).numpy())[0]
    medians = {"torch_f32": float(np.median(joint_distances(reference, truth)))}
    max_diff = {}
    for precision in PRECISIONS:
        pred, _ = PoseEstimator(out, precision=precision).estimate_batch(depth)
        medians[precision] = float(np.median(joint_distances(pred, truth)))
        max_diff[precision] = float(np.abs(pred - reference).max())
    # PRECISIONS runs fastest first: ship the first one accurate enough.
    info["inference_precision"] = next(
        p for p in PRECISIONS if medians[p] - medians["f32"] <= MAX_PRECISION_LOSS_M)
    info["precision_check"] = {
        "frames": len(val_idx), "calibration_frames": len(calibration),
        "median_error_m": medians, "max_abs_diff_to_torch_m": max_diff,
        "rule": f"the fastest of {list(PRECISIONS)} whose median error is within "
                f"{MAX_PRECISION_LOSS_M} m of f32"}
    (out / "model.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def quantize_int8(ov_model, calibration_inputs: np.ndarray, path: Path) -> None:
    """NNCF post-training INT8 quantisation of an OpenVINO model, saved as IR at path.

    The first and the last weighted layers stay in float: 8 bits over the input's range are
    steps of about 3.5 cm of depth, and over the output's range about 1 cm of joint position.
    Measured on the second shipped DNN33 (BENCHMARKS.md): median error +1.8 cm with every layer
    in INT8, +0.6 cm with these two in float (+0.96 cm on the third). A two-layer network (the MLP) keeps only its first."""
    import nncf
    import openvino as ov

    weighted = [op.get_friendly_name() for op in ov_model.get_ordered_ops()
                if op.get_type_name() in ("Convolution", "GroupConvolution", "MatMul")]
    in_float = [weighted[0], weighted[-1]] if len(weighted) > 2 else weighted[:1]
    dataset = nncf.Dataset(list(calibration_inputs[:, None]))  # one (1, 1, 50, 60) per item
    quantized = nncf.quantize(ov_model, dataset, subset_size=len(calibration_inputs),
                              ignored_scope=nncf.IgnoredScope(names=in_float))
    ov.save_model(quantized, path, compress_to_fp16=False)

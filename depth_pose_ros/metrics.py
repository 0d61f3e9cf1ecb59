"""Accuracy metrics of the paper (§3, §5): per-axis and 3D errors, pixel errors, AP@10cm. numpy only."""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import HANDS, JOINT_NAMES, ROOT

AP_THRESHOLD_M = 0.10
# Shotton et al. as quoted by the paper: mean over the joints 0.731, hands 0.67 (no root).
KINECT_AP10_MEAN = 0.731
KINECT_AP10_HANDS = 0.67


def joint_distances(pred3d: np.ndarray, true3d: np.ndarray) -> np.ndarray:
    """(N, 7, 3) estimates and truth -> (N, 7) Euclidean distances in metres."""
    return np.linalg.norm(np.asarray(pred3d, np.float64) - true3d, axis=-1)


def average_precision(distances: np.ndarray, threshold: float = AP_THRESHOLD_M) -> np.ndarray:
    """(N, J) distances -> (J,) share of estimates within threshold (the paper's "AP")."""
    return (distances < threshold).mean(axis=0)


def mean_without_root(ap: np.ndarray) -> float:
    """(7,) per-joint AP -> the mean over the six non-root joints (the paper's "Average")."""
    return float(np.delete(ap, ROOT).mean())


def _stats(values: np.ndarray) -> dict:
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3),
            "p90": float(np.percentile(values, 90)), "max": float(values.max()),
            "mean": float(values.mean())}


def summarize(pred3d, true3d, pred_px, true_px) -> dict:
    """The metrics.json content for one set of estimates (see the learning issue)."""
    dist = joint_distances(pred3d, true3d)
    ap = average_precision(dist)
    axis_err = np.abs(np.asarray(pred3d, np.float64) - true3d)
    px_err = np.abs(np.asarray(pred_px, np.float64) - true_px)
    # Hands that reach out of the picture can only be guessed from the arm (paper §3: 30 % of
    # its test frames had one).
    hand_in_view = PinholeCamera.virtual().in_view(np.asarray(true_px)[:, list(HANDS)])
    hand_hit = dist[:, list(HANDS)] < AP_THRESHOLD_M
    hands_by_view = {key: {"share": float(mask.mean()),
                           "ap10": float(hand_hit[mask].mean()) if mask.any() else None}
                     for key, mask in (("in_view", hand_in_view), ("out_of_view", ~hand_in_view))}
    return {
        "n_frames": int(len(dist)),
        "ap10": {name: float(ap[j]) for j, name in enumerate(JOINT_NAMES)},
        "ap10_mean": float(ap.mean()),
        "ap10_mean_no_root": mean_without_root(ap),
        "ap10_hands": float(ap[list(HANDS)].mean()),
        "ap10_hands_by_view": hands_by_view,
        "median_error_m": {name: float(np.median(dist[:, j])) for j, name in enumerate(JOINT_NAMES)},
        "distance_m": {name: _stats(dist[:, j]) for j, name in enumerate(JOINT_NAMES)},
        "axis_error_m": {name: {axis: _stats(axis_err[:, j, k]) for k, axis in enumerate("xyz")}
                         for j, name in enumerate(JOINT_NAMES)},
        "pixel_error": {name: {axis: _stats(px_err[:, j, k]) for k, axis in enumerate("uv")}
                        for j, name in enumerate(JOINT_NAMES)},
        "kinect_reference": {"ap10_mean": KINECT_AP10_MEAN, "ap10_hands": KINECT_AP10_HANDS},
    }

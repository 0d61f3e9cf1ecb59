"""Accuracy metrics of the paper (§3, §5): per-axis and 3D errors, pixel errors, AP@10cm; and which
estimate is which person when there are several (match_people). numpy (and scipy's assignment)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import HANDS, JOINT_NAMES, ROOT

AP_THRESHOLD_M = 0.10
# The reference scores (AP@10cm), in one place: the paper's DNN33 over the six non-root joints,
# and Shotton et al.'s Kinect as the paper quotes it (mean over the joints, hands; no root).
PAPER_DNN33_AP10 = 0.86
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


# Bins of the wide world's evaluation: |yaw| from facing the camera (degrees) and the mid-hip's
# distance (metres); each bin [lo, hi).
YAW_BINS_DEG = (0.0, 15.0, 45.0, 90.0, 135.0, 180.1)
DISTANCE_BINS_M = (0.0, 1.5, 2.5, 3.5, 5.1)
FRONTAL_DEG = 45.0  # "within +-45 degrees of frontal", the per-family hand target's range


def bin_names(values: np.ndarray, edges: tuple, unit: str) -> np.ndarray:
    """(N,) values -> (N,) names of their [lo, hi) bins, like "15-45 deg"."""
    index = np.clip(np.digitize(values, edges) - 1, 0, len(edges) - 2)
    names = np.array([f"{edges[k]:g}-{min(edges[k + 1], 180 if unit == 'deg' else 5):g} {unit}"
                      for k in range(len(edges) - 1)])
    return names[index]


def sides_swapped(pred3d: np.ndarray, true3d: np.ndarray) -> np.ndarray:
    """(N,) True where the estimate's shoulders fit the truth better with right and left
    exchanged: the model took the person's back for their front (or the other way round)."""
    right, left = JOINT_NAMES.index("right_shoulder"), JOINT_NAMES.index("left_shoulder")
    direct = joint_distances(pred3d[:, [right, left]], true3d[:, [right, left]]).sum(axis=1)
    swapped = joint_distances(pred3d[:, [left, right]], true3d[:, [right, left]]).sum(axis=1)
    return swapped < direct


def _group_scores(dist: np.ndarray, swapped: np.ndarray | None = None) -> dict:
    ap = average_precision(dist)
    extra = {} if swapped is None else {"sides_swapped": float(swapped.mean())}
    return {**extra, "n": int(len(dist)), "ap10_no_root": mean_without_root(ap),
            "ap10_hands": float(ap[list(HANDS)].mean()),
            "ap10": {name: float(ap[j]) for j, name in enumerate(JOINT_NAMES)},
            "median_error_m": float(np.median(np.delete(dist, ROOT, axis=1)))}


def breakdown(dist: np.ndarray, groups: dict, swapped: np.ndarray | None = None) -> dict:
    """(N, 7) distances and {grouping: (N,) group names} -> {grouping: {group: scores}}, where
    scores are the frames' count, AP@10cm (non-root, hands, per joint), median error and, given
    (N,) sides_swapped flags, their share."""
    return {grouping: {str(g): _group_scores(dist[names == g],
                                             None if swapped is None else swapped[names == g])
                       for g in sorted(dict.fromkeys(names))}
            for grouping, names in groups.items()}


CONFIDENCE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def confidence_report(dist: np.ndarray, confidence: np.ndarray, bins: int = 10) -> dict:
    """How well the confidence (N, 7; the predicted probability of being within 10 cm) is
    calibrated, and what a threshold on it keeps, over the six non-root joints:
    - reliability: per confidence bin, the mean predicted and the actual share within 10 cm;
    - thresholds: for each of CONFIDENCE_THRESHOLDS, the share of joints kept and their AP."""
    d = np.delete(dist, ROOT, axis=1).ravel()
    c = np.delete(confidence, ROOT, axis=1).ravel()
    hit = d < AP_THRESHOLD_M
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(c, edges) - 1, 0, bins - 1)
    reliability = [{"lo": float(edges[k]), "hi": float(edges[k + 1]), "n": int((index == k).sum()),
                    "predicted": float(c[index == k].mean()) if (index == k).any() else None,
                    "actual": float(hit[index == k].mean()) if (index == k).any() else None}
                   for k in range(bins)]
    thresholds = [{"threshold": t, "kept": float((c >= t).mean()),
                   "ap10_kept": float(hit[c >= t].mean()) if (c >= t).any() else None}
                  for t in CONFIDENCE_THRESHOLDS]
    # Expected calibration error: the bins' gaps weighted by their share of joints.
    ece = sum(r["n"] * abs(r["predicted"] - r["actual"]) for r in reliability if r["n"]) / len(c)
    return {"reliability": reliability, "thresholds": thresholds,
            "expected_calibration_error": float(ece), "mean_confidence": float(c.mean()),
            "ap10_all": float(hit.mean())}


# --- several people: which estimate is which true person ------------------------------------------

MATCH_DISTANCE_M = 0.5  # an estimate's mid-hip within this of a true one can be that person


@dataclass(frozen=True)
class PeopleMatch:
    """One frame's estimates against its truth, as the MOT counts need them."""

    counted: list  # true IDs of the people that count (visible enough)
    kept: list  # estimate IDs, less those of barely visible people (neither hits nor misses)
    distance2: np.ndarray  # (counted, kept) squared mid-hip distances, NaN beyond the match
    pairs: list  # (true ID, estimate index in kept, (7,) joint distances) of the best matching


def match_people(estimates: list[tuple[int, np.ndarray]],
                 truth: list[tuple[int, bool, np.ndarray]]) -> PeopleMatch:
    """estimates (ID, (7, 3) joints) and truth (ID, counts, (7, 3) joints) of one frame: an
    estimate nearer a person that does not count (hidden or out of view) than to any that
    does is left out; the rest are paired one-to-one by the mid-hip (linear_sum_assignment)
    within MATCH_DISTANCE_M."""
    from scipy.optimize import linear_sum_assignment

    counted = [(i, j) for i, counts, j in truth if counts]
    hidden = [j for _, counts, j in truth if not counts]

    def nearer_hidden(root):
        to_hidden = min((np.linalg.norm(root - j[0]) for j in hidden), default=np.inf)
        to_counted = min((np.linalg.norm(root - j[0]) for _, j in counted), default=np.inf)
        return to_hidden <= MATCH_DISTANCE_M and to_hidden < to_counted

    kept = [(i, j) for i, j in estimates if not nearer_hidden(j[0])]
    distance2 = np.array([[np.sum((e[0] - t[0]) ** 2) for _, e in kept] for _, t in counted],
                         dtype=np.float64).reshape(len(counted), len(kept))
    distance2[distance2 > MATCH_DISTANCE_M ** 2] = np.nan
    pairs = []
    if counted and kept:
        rows, cols = linear_sum_assignment(np.nan_to_num(distance2, nan=1e6))
        pairs = [(counted[r][0], c, np.linalg.norm(kept[c][1] - counted[r][1], axis=1))
                 for r, c in zip(rows, cols) if np.isfinite(distance2[r, c])]
    return PeopleMatch([i for i, _ in counted], [i for i, _ in kept], distance2, pairs)

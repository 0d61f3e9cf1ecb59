"""A Kinect-style baseline on our 60 x 50 frames (after Shotton et al., CVPR 2011).

1. Body parts around the joints: a body pixel takes the class of the joint nearest to its 3D
   point when closer than PART_RADIUS_M, else "other"; the renderer's part labels keep head,
   neck and legs out of the joint classes.
2. Depth-difference features f = d(x + u / d(x)) - d(x + v / d(x)) at random offset pairs
   (u, v in pixel-metres, so they scale with distance); off the body or the image counts as far.
3. A random forest (scikit-learn) classifies every body pixel.
4. Each joint: the probability-weighted mean of its class's 3D points, pushed back along z by a
   learned offset (the joint lies inside the body, behind the surface the camera sees).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import NUM_JOINTS
from depth_pose_ros.synth.body import PART_NAMES

OTHER = NUM_JOINTS  # the class of body pixels near no joint
FAR_M = 10.0  # depth read off the body or the image
PART_RADIUS_M = 0.15
_NO_JOINT_PARTS = [1 + PART_NAMES.index(p) for p in (
    "head", "neck", "right_thigh", "right_shin", "left_thigh", "left_shin", "right_foot",
    "left_foot")]


@dataclass(frozen=True)
class ForestConfig:
    features: int = 200
    max_offset: float = 60.0  # pixel-metres: 24 pixels at 2.5 m
    trees: int = 3  # as Shotton et al.
    max_depth: int = 20
    pixels_per_frame: int = 150
    seed: int = 0


def pixel_classes(depth: np.ndarray, labels: np.ndarray, joints3d: np.ndarray,
                  camera: PinholeCamera) -> np.ndarray:
    """(H, W) depth, part labels and (7, 3) joints -> (H, W) class: joint index, OTHER, or -1."""
    points = camera.back_project_image(depth)
    distance = np.linalg.norm(points[:, :, None] - joints3d[None, None], axis=-1)  # (H, W, 7)
    classes = np.where(distance.min(axis=-1) < PART_RADIUS_M, distance.argmin(axis=-1), OTHER)
    classes[np.isin(labels, _NO_JOINT_PARTS)] = OTHER
    return np.where(depth > 0, classes, -1)


def depth_features(depth: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   offsets: np.ndarray) -> np.ndarray:
    """Features of the pixels (rows, cols) of one frame: offsets (F, 2, 2) -> (M, F) float32."""
    height, width = depth.shape
    d = depth[rows, cols][:, None, None]  # (M, 1, 1)

    def probe(offset):  # offset (F, 2) -> (M, F) depths read there
        r = np.rint(rows[:, None] + offset[None, :, 0] / d[:, :, 0]).astype(np.intp)
        c = np.rint(cols[:, None] + offset[None, :, 1] / d[:, :, 0]).astype(np.intp)
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        values = depth[np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)]
        return np.where(inside & (values > 0), values, FAR_M)

    return (probe(offsets[:, 0]) - probe(offsets[:, 1])).astype(np.float32)


class ForestPoseEstimator:
    """Fit on rendered frames with part labels; estimate joints of one frame at a time."""

    def __init__(self, config: ForestConfig = ForestConfig(),
                 camera: PinholeCamera | None = None):
        from sklearn.ensemble import RandomForestClassifier

        self.config = config
        self.camera = camera or PinholeCamera.virtual()
        rng = np.random.default_rng(config.seed)
        self.offsets = rng.uniform(-config.max_offset, config.max_offset,
                                   (config.features, 2, 2))
        self.offsets[: config.features // 4, 1] = 0.0  # a quarter: d(x + u) - d(x)
        self.forest = RandomForestClassifier(n_estimators=config.trees,
                                             max_depth=config.max_depth, n_jobs=2,
                                             random_state=config.seed)
        self.z_offsets = np.zeros(NUM_JOINTS)

    def fit(self, depth: np.ndarray, labels: np.ndarray, joints3d: np.ndarray) -> dict:
        """depth, labels (N, H, W), joints3d (N, 7, 3): training frames with their truth."""
        rng = np.random.default_rng(self.config.seed + 1)
        samples, targets = [], []
        for frame, label, joints in zip(depth, labels, joints3d):
            classes = pixel_classes(frame, label, joints, self.camera)
            rows, cols = np.nonzero(classes >= 0)
            pick = rng.choice(len(rows), min(len(rows), self.config.pixels_per_frame),
                              replace=False)
            samples.append(depth_features(frame, rows[pick], cols[pick], self.offsets))
            targets.append(classes[rows[pick], cols[pick]])
        started = time.perf_counter()
        self.forest.fit(np.concatenate(samples), np.concatenate(targets))
        seconds = time.perf_counter() - started
        self.forest.n_jobs = 1  # one frame's few hundred pixels: parallel workers only cost
        # How far behind the seen surface each joint lies, from the true classes.
        gaps = [[] for _ in range(NUM_JOINTS)]
        for frame, label, joints in zip(depth[:500], labels[:500], joints3d[:500]):
            classes = pixel_classes(frame, label, joints, self.camera)
            for j in range(NUM_JOINTS):
                if (classes == j).any():
                    gaps[j].append(joints[j, 2] - frame[classes == j].mean())
        self.z_offsets = np.array([np.median(g) if g else 0.0 for g in gaps])
        return {"samples": int(sum(len(t) for t in targets)), "fit_seconds": round(seconds, 1)}

    def estimate(self, depth: np.ndarray) -> np.ndarray:
        """(H, W) metres -> (7, 3) joints; NaN for a joint no pixel was given to."""
        rows, cols = np.nonzero(depth > 0)
        joints = np.full((NUM_JOINTS, 3), np.nan)
        if len(rows) == 0:
            return joints
        probability = self.forest.predict_proba(
            depth_features(depth, rows, cols, self.offsets))  # (M, classes seen in training)
        points = self.camera.back_project(cols, rows, depth[rows, cols])
        for column, joint in enumerate(self.forest.classes_):
            if joint == OTHER:
                continue
            weight = probability[:, column] ** 2 * (probability[:, column] > 0.2)
            if weight.sum() > 0:
                joints[joint] = (points * weight[:, None]).sum(axis=0) / weight.sum()
                joints[joint, 2] += self.z_offsets[joint]
        return joints


def train_forest(out, frames: int = 3000, config: ForestConfig = ForestConfig()) -> dict:
    """Render `frames` fresh labelled frames (training noise as the networks get), fit, measure
    the per-frame speed, and save forest.joblib + forest.json in `out`."""
    import json
    from pathlib import Path

    import joblib

    from depth_pose_ros.learn.augment import TRAIN_NOISE_SIGMAS, add_depth_noise
    from depth_pose_ros.synth.generate import generate

    rng = np.random.default_rng(1_000_000 + config.seed)  # not the dataset's seeds
    scenes = generate(rng, frames, with_labels=True)
    sigma = np.where(np.arange(frames) % 2, *TRAIN_NOISE_SIGMAS).astype(np.float32)
    depth = add_depth_noise(scenes.depth, sigma, rng)
    model = ForestPoseEstimator(config)
    info = model.fit(depth, scenes.labels, scenes.joints3d)
    timings = []
    for frame in depth[:200]:
        started = time.perf_counter()
        model.estimate(frame)
        timings.append(time.perf_counter() - started)
    info.update({"format": "depth_pose_ros forest 1", "frames": frames,
                 "config": config.__dict__, "z_offsets_m": model.z_offsets.round(4).tolist(),
                 "estimate_ms": {"p50": round(1e3 * float(np.median(timings)), 2),
                                 "p99": round(1e3 * float(np.percentile(timings, 99)), 2)}})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "forest.joblib")
    (out / "forest.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def load_forest_predictor(folder):
    """A batch predictor for evaluate(): (N, H, W) -> joints3d (N, 7, 3), pixels (N, 7, 2).
    A joint without pixels is put at the frame's root estimate (a miss, but a finite one)."""
    from pathlib import Path

    import joblib

    # Forests saved before the sub-packages (issue 17) name this module by its old path.
    sys.modules.setdefault("depth_pose_ros.forest", sys.modules[__name__])
    model: ForestPoseEstimator = joblib.load(Path(folder) / "forest.joblib")

    def predict(depth):
        joints = np.array([model.estimate(frame) for frame in depth])
        centre = np.nanmean(joints, axis=1, keepdims=True)
        centre = np.where(np.isfinite(centre), centre, [0.0, 0.0, 2.5])
        joints = np.where(np.isfinite(joints), joints, centre)
        return joints.astype(np.float32), model.camera.project(joints).astype(np.float32)
    return predict

"""`depth-pose bench-smoothing`: does the One-Euro filter help pose_node's output?

Runs the node's pipeline (no ROS) at 30 Hz on the demo's 640 x 480 frames with fresh sensor
noise (sigma 1.875 cm) in every frame: a person holding still (one frame repeated) and the
moving loop. Reports the median 3D error against the rendered truth and the jitter: the RMS
of the estimate's frame-to-frame change minus the truth's (0 for a perfect or perfectly
steady-error estimator).
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.estimator import PoseEstimator
from depth_pose_ros.pipeline import PosePipeline
from depth_pose_ros.preprocess import TEST_NOISE_SIGMA, add_depth_noise
from depth_pose_ros.smoothing import OneEuroFilter
from depth_pose_ros.synth import DEMO_CAMERA, demo_sequence

RATE_HZ = 30.0
SETTINGS = {"off": None, "one-euro 0.5 Hz, beta 0.5": (0.5, 0.5),
            "one-euro 1.0 Hz, beta 0.5": (1.0, 0.5),
            "one-euro 2.0 Hz, beta 1.0 (node default)": (2.0, 1.0)}


def _estimates(pipeline, depth, seed):
    rng = np.random.default_rng(seed)
    joints = []
    for frame in depth:
        pose = pipeline.process(to_millimetres(add_depth_noise(frame, TEST_NOISE_SIGMA, rng)),
                                DEMO_CAMERA)
        joints.append(pose.joints3d)
    return np.array(joints)  # (T, 7, 3)


def run(seed: int = 0, model_dir=None) -> dict:
    pipeline = PosePipeline(PoseEstimator.load(model_dir))
    sequence = demo_sequence(seed)
    scenes = {"still": (np.repeat(sequence.depth[:1], 90, axis=0),
                        np.repeat(sequence.joints3d[:1], 90, axis=0)),
              "moving": (np.concatenate([sequence.depth] * 2),
                         np.concatenate([sequence.joints3d] * 2))}
    times = np.arange(200) / RATE_HZ
    result = {}
    for scene, (depth, truth) in scenes.items():
        raw = _estimates(pipeline, depth, seed + 1)
        for name, setting in SETTINGS.items():
            estimates = raw
            if setting is not None:
                smooth = OneEuroFilter(*setting)
                estimates = np.array([smooth(j, t) for j, t in zip(raw, times)])
            error = np.linalg.norm(estimates - truth, axis=2)
            wobble = np.diff(estimates, axis=0) - np.diff(truth, axis=0)
            result[f"{scene}, {name}"] = {
                "median_error_cm": round(100 * float(np.median(error)), 2),
                "jitter_rms_cm": round(100 * float(np.sqrt((wobble ** 2).sum(axis=2).mean())), 2)}
    return result


def report(result: dict) -> str:
    lines = ["| scene, smoothing | median 3D error | jitter (RMS frame-to-frame) |",
             "| --- | --- | --- |"]
    lines += [f"| {k} | {v['median_error_cm']:.2f} cm | {v['jitter_rms_cm']:.2f} cm |"
              for k, v in result.items()]
    return "\n".join(lines)

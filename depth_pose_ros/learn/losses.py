"""Training objectives over the network's normalised outputs (training and export).

- "mae": the paper's mean absolute error of the min-max normalised outputs. Each output is
  weighted by one over its training range, so a centimetre on a shoulder (range about 0.26 m
  relative to the root) costs five times a centimetre on a hand (about 1.38 m): the easy joints
  get the attention.
- "joints": what AP@10cm measures. The mean 3D distance in metres between estimated and true
  joints (root + relative offsets, so the root's error counts in every joint), plus the 2D pixel
  outputs' absolute error at PIXEL_WEIGHT metres per pixel: they serve the 2D figures and
  previews, not the 3D estimate.
With error scales (beyond the paper; joints.ERROR_SCALES), each joint's 3D error distance d is
modelled as Gamma(3, b): the distance of an error whose three axes are Laplace-like, density
d^2 exp(-d / b) / (2 b^3). Its negative log-likelihood d / b + 3 log b (constants dropped) is
added, on the detached distance and at ERROR_SCALE_WEIGHT: the scales learn how far off each
estimate is without reweighting the joints for the estimate itself (AdamW normalises each
weight's step, so the scale outputs' own weights learn at full speed whatever the weight; the
shared layers hear the likelihood only a tenth as loud as the joints). joints.error_confidence
(the runtime's side) turns a scale into the probability that the joint lies within 10 cm.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.joints import (
    ERROR_SCALES,
    NUM_JOINTS,
    NUM_TARGETS,
    PIXEL_TARGETS,
    RELATIVE_TARGETS,
    ROOT_TARGETS,
)

LOSSES = ("mae", "joints")
PIXEL_WEIGHT = 0.01  # m per pixel; one virtual pixel spans about 5.4 cm at 3 m
_EPS_M2 = 1e-6  # keeps the distance's gradient finite at zero error (1 mm)
ERROR_SHAPE = 3  # the Gamma shape of the error distance (three axes)
ERROR_SCALE_WEIGHT = 0.1
# Joints below this confidence are the unreliable ones (markers fade them; evaluate reports AP
# on the joints at or above it and the share kept).
CONFIDENCE_THRESHOLD = 0.5


def training_loss(name: str, target_min: np.ndarray, target_max: np.ndarray,
                  error_scales: bool = False):
    """loss(outputs, targets): normalised (N, 33) targets, outputs (N, 33) or, with
    error_scales, (N, 40); by name (see LOSSES)."""
    import torch  # here, so that the command line can list LOSSES without importing torch
    import torch.nn.functional as F

    if name not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    span = torch.as_tensor(np.asarray(target_max) - np.asarray(target_min), dtype=torch.float32)

    def joint_distances(error: torch.Tensor) -> torch.Tensor:
        """(N, 33) errors in metres and pixels -> (N, 7) 3D joint distances in metres."""
        root = error[:, None, ROOT_TARGETS]
        relative = error[:, RELATIVE_TARGETS].reshape(len(error), NUM_JOINTS - 1, 3)
        joints = torch.cat([root, relative + root], dim=1)
        return torch.sqrt((joints ** 2).sum(dim=2) + _EPS_M2)

    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        outputs = outputs.float()
        estimate = outputs[:, :NUM_TARGETS]
        error = (estimate - targets) * span  # metres and pixels
        if name == "mae":
            value = F.l1_loss(estimate, targets)
        else:
            value = (joint_distances(error).mean()
                     + PIXEL_WEIGHT * error[:, PIXEL_TARGETS].abs().mean())
        if error_scales:
            log_scale = outputs[:, ERROR_SCALES]
            distance = joint_distances(error.detach())
            nll = distance * torch.exp(-log_scale) + ERROR_SHAPE * log_scale
            value = value + ERROR_SCALE_WEIGHT * nll.mean()
        return value

    return loss

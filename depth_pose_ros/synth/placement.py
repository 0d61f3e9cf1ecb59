"""Placing posed bodies in front of a camera so that chosen parts of them are in view."""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.synth.body import CAPSULE_PARTS, ELLIPSOID_PARTS, Body, rotation_about

# Parts that must stay inside the image: everything but the arms.
_IN_VIEW_CAPSULES = [CAPSULE_PARTS.index(p) for p in (
    "shoulders", "right_thigh", "right_shin", "left_thigh", "left_shin", "right_foot", "left_foot")]
_HEAD, _PELVIS = ELLIPSOID_PARTS.index("head"), ELLIPSOID_PARTS.index("pelvis")


def keep_in_view_points(bodies: Body) -> np.ndarray:
    """(N, K, 3): top of the head, shoulder ends, hips, knees, ankles, heels, toes, pelvis."""
    head_up_axis = bodies.ellipsoid_axes[:, _HEAD, :, 1]
    head_top = bodies.ellipsoid_centres[:, _HEAD] + head_up_axis * bodies.ellipsoid_radii[:, _HEAD, 1:2]
    segment_ends = bodies.capsules[:, _IN_VIEW_CAPSULES].reshape(len(bodies), -1, 3)
    return np.concatenate(
        [head_top[:, None], segment_ends, bodies.ellipsoid_centres[:, _PELVIS, None]], axis=1)



def place_in_view(rng, camera: PinholeCamera, points: np.ndarray, z: np.ndarray, margin: float):
    """Uniform x, y shift of the root keeping all points (N, K, 3, root-relative) in view at z.

    Returns the (N, 3) root positions and (N,) whether any such shift exists.
    """
    depth = points[..., 2] + z[:, None]
    lo_u, hi_u = -0.5 + margin, camera.width - 0.5 - margin
    lo_v, hi_v = -0.5 + margin, camera.height - 0.5 - margin
    # u = fx (px + x) / depth + cx is linear in x for a fixed depth: intersect the intervals.
    x_lo = ((lo_u - camera.cx) * depth / camera.fx - points[..., 0]).max(axis=1)
    x_hi = ((hi_u - camera.cx) * depth / camera.fx - points[..., 0]).min(axis=1)
    y_lo = ((lo_v - camera.cy) * depth / camera.fy - points[..., 1]).max(axis=1)
    y_hi = ((hi_v - camera.cy) * depth / camera.fy - points[..., 1]).min(axis=1)
    ok = (x_lo <= x_hi) & (y_lo <= y_hi) & (depth.min(axis=1) > 0.3)
    x = x_lo + rng.uniform(size=len(z)) * np.where(ok, x_hi - x_lo, 0.0)
    y = y_lo + rng.uniform(size=len(z)) * np.where(ok, y_hi - y_lo, 0.0)
    return np.stack([x, y, z], axis=-1), ok


def body_to_camera(rng, yaw_deg: np.ndarray, pitch_deg: tuple[float, float],
                   roll_deg: tuple[float, float]) -> np.ndarray:
    """(N, 3, 3) rotations from the body frame (x left, y up, z forward) to the camera frame:
    turned by yaw_deg (N,) from facing the camera, the camera tilted by uniform pitch and roll."""
    n = len(yaw_deg)
    facing = np.diag([1.0, -1.0, -1.0])  # facing the camera: left -> +x, up -> -y, forward -> -z
    yaw = rotation_about("y", np.radians(yaw_deg))
    tilt = rotation_about("z", np.radians(rng.uniform(*roll_deg, n))) @ rotation_about(
        "x", np.radians(rng.uniform(*pitch_deg, n)))
    return tilt @ facing @ yaw

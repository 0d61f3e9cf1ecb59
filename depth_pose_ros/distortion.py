"""Lens distortion models of sensor_msgs/CameraInfo, as OpenCV and image_geometry define them
(PinholeCamera applies them to unrectified images: projection, back-projection and the
reprojection into the network's virtual cameras).

On normalised image coordinates (x / z, y / z): distort() takes an ideal ray to the coordinates
that a raw (unrectified) image shows it at, undistort() goes back by fixed-point iteration, as
OpenCV's undistortPoints does. D holds CameraInfo.d in its order:
- plumb_bob: k1, k2, p1, p2, k3;
- rational_polynomial: k1, k2, p1, p2, k3, k4, k5, k6;
- equidistant (fisheye): k1, k2, k3, k4.
"""
from __future__ import annotations

import numpy as np

MODELS = ("plumb_bob", "rational_polynomial", "equidistant")


def _coefficients(model: str, d, count: int) -> np.ndarray:
    if model not in MODELS:
        raise ValueError(f"distortion model {model!r} is not one of {', '.join(MODELS)}")
    d = np.asarray(d, dtype=np.float64).ravel()[:count]
    return np.pad(d, (0, count - len(d)))  # missing trailing coefficients are 0


def distort(xy: np.ndarray, model: str, d) -> np.ndarray:
    """(..., 2) ideal normalised coordinates -> (..., 2) distorted ones."""
    xy = np.asarray(xy, dtype=np.float64)
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    if model == "equidistant":
        k1, k2, k3, k4 = _coefficients(model, d, 4)
        r = np.sqrt(r2)
        theta = np.arctan(r)
        t2 = theta * theta
        theta_d = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
        scale = np.divide(theta_d, r, out=np.ones_like(r), where=r > 1e-12)
        return np.stack([x * scale, y * scale], axis=-1)
    if model == "plumb_bob":
        k1, k2, p1, p2, k3 = _coefficients(model, d, 5)
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    else:
        k1, k2, p1, p2, k3, k4, k5, k6 = _coefficients(model, d, 8)
        radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


def undistort(xy_distorted: np.ndarray, model: str, d, iterations: int = 30) -> np.ndarray:
    """(..., 2) distorted normalised coordinates -> the ideal ones (fixed-point iteration:
    exact to ~1e-9 for the distortions lenses have; not for ones that fold the image)."""
    target = np.asarray(xy_distorted, dtype=np.float64)
    xy = target.copy()
    for _ in range(iterations):
        xy = xy + (target - distort(xy, model, d))
    return xy

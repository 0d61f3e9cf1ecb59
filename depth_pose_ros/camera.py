"""Pinhole depth cameras: the network's virtual 60 x 50 camera and any real sensor's intrinsics.

Frame: the camera's optical frame (REP-103): x right, y down, z forward, metres.
Depth images hold z (distance along the optical axis), not range along the ray, as REP-118 says.

Pixel-centre convention (the one of ROS CameraInfo and OpenCV): the centre of the pixel in column i,
row j lies at the continuous image coordinates (u, v) = (i, j). The image therefore spans
u in [-0.5, width - 0.5] and v in [-0.5, height - 0.5], and its centre is ((width-1)/2, (height-1)/2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from depth_pose_ros import distortion as lens

VIRTUAL_WIDTH = 60
VIRTUAL_HEIGHT = 50
VIRTUAL_HFOV_DEG = 57.0


@dataclass(frozen=True)
class PinholeCamera:
    """Projection and back-projection for one camera: a pinhole, or a pinhole with a
    sensor_msgs/CameraInfo lens distortion (distortion.MODELS) for an unrectified image."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = ""  # "" (none) or one of distortion.MODELS
    distortion: tuple[float, ...] = ()  # CameraInfo.d

    @property
    def distorted(self) -> bool:
        return bool(self.distortion_model) and any(self.distortion)

    def pixels_of_rays(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) normalised ray coordinates (x / z, y / z) -> (..., 2) pixels (u, v)."""
        xy = lens.distort(xy, self.distortion_model, self.distortion) if self.distorted \
            else np.asarray(xy, dtype=np.float64)
        return np.stack([self.fx * xy[..., 0] + self.cx, self.fy * xy[..., 1] + self.cy], axis=-1)

    def rays_of_pixels(self, uv: np.ndarray) -> np.ndarray:
        """(..., 2) pixels (u, v) -> (..., 2) normalised ray coordinates (x / z, y / z)."""
        uv = np.asarray(uv, dtype=np.float64)
        xy = np.stack([(uv[..., 0] - self.cx) / self.fx, (uv[..., 1] - self.cy) / self.fy], -1)
        return lens.undistort(xy, self.distortion_model, self.distortion) if self.distorted else xy

    @classmethod
    def from_hfov(cls, width: int, height: int, hfov_deg: float) -> PinholeCamera:
        """Square pixels, principal point at the image centre, the given horizontal field of view."""
        f = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(width, height, f, f, (width - 1) / 2.0, (height - 1) / 2.0)

    @classmethod
    def virtual(cls) -> PinholeCamera:
        """The network's camera: 60 x 50 pixels, 57 degrees horizontal (fx = fy ~ 55.26 px)."""
        return cls.from_hfov(VIRTUAL_WIDTH, VIRTUAL_HEIGHT, VIRTUAL_HFOV_DEG)

    def zoomed(self, scale: float) -> PinholeCamera:
        """The same image size and principal point, the focal length times scale (> 1: a
        narrower field of view)."""
        return PinholeCamera(self.width, self.height, self.fx * scale, self.fy * scale, self.cx,
                             self.cy, self.distortion_model, self.distortion)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width): the shape of this camera's image arrays."""
        return (self.height, self.width)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) points in the camera frame -> (..., 2) pixel coordinates (u, v). Needs z > 0."""
        points = np.asarray(points)
        z = points[..., 2]
        if self.distorted:
            return self.pixels_of_rays(points[..., :2] / z[..., None])
        u = self.fx * points[..., 0] / z + self.cx
        v = self.fy * points[..., 1] / z + self.cy
        return np.stack([u, v], axis=-1)

    def back_project(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixel coordinates and z-depth (same shapes) -> (..., 3) points in the camera frame."""
        depth = np.asarray(depth)
        if self.distorted:
            xy = self.rays_of_pixels(np.stack(np.broadcast_arrays(u, v), axis=-1))
            return np.stack([xy[..., 0] * depth, xy[..., 1] * depth, depth], axis=-1)
        x = (np.asarray(u) - self.cx) / self.fx * depth
        y = (np.asarray(v) - self.cy) / self.fy * depth
        return np.stack([x, y, depth], axis=-1)

    def back_project_image(self, depth: np.ndarray) -> np.ndarray:
        """A (height, width) depth image -> (height, width, 3) points; 0 depth gives the origin."""
        v, u = np.indices(self.shape, dtype=np.float64)
        return self.back_project(u, v, depth)

    def pixel_rays(self) -> np.ndarray:
        """(height * width, 3) unit ray directions through the pixel centres, row-major."""
        v, u = np.indices(self.shape, dtype=np.float64)
        rays = self.back_project(u.ravel(), v.ravel(), np.ones(u.size))
        return rays / np.linalg.norm(rays, axis=1, keepdims=True)

    def in_view(self, pixels: np.ndarray) -> np.ndarray:
        """(..., 2) pixel coordinates -> boolean (...): inside the image area."""
        u, v = pixels[..., 0], pixels[..., 1]
        return (u >= -0.5) & (u <= self.width - 0.5) & (v >= -0.5) & (v <= self.height - 0.5)

    def to_dict(self) -> dict:
        pinhole = {"width": self.width, "height": self.height,
                   "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy}
        return pinhole if not self.distortion_model else \
            pinhole | {"distortion_model": self.distortion_model,
                       "distortion": list(self.distortion)}

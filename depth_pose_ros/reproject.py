"""Any depth camera -> the network's virtual 60 x 50 camera.

Both cameras share the optical centre and axes; only the intrinsics differ. The renderer that made
the training data samples the scene along the ray through each virtual pixel's centre, so the
reprojection does the same: it reads the source pixel that ray hits (nearest neighbour). z-depth
is unchanged by a change of intrinsics. Lens distortion is ignored: depth images from ROS drivers
are rectified (or nearly so) in practice.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_metres


class VirtualView:
    """Samples source depth images (any size and intrinsics) on the virtual camera's pixel grid.

    Built once per source camera (and region of interest); sampling is then a gather of 3000
    values. A source pixel without a return inside a surface (5 or more of the 8 pixels around it,
    a third of a virtual pixel away, have one) takes their median: real sensors drop isolated
    pixels that the training renders never lack.
    """

    def __init__(self, source: PinholeCamera, virtual: PinholeCamera | None = None,
                 roi: tuple[int, int, int, int] | None = None):
        self.source = source
        self.virtual = virtual or PinholeCamera.virtual()
        v, u = np.indices(self.virtual.shape, dtype=np.float64)
        src_u, src_v = self.to_source_pixels(np.stack([u, v], axis=-1)).transpose(2, 0, 1)
        # Region of interest in source pixels (x_offset, y_offset, width, height); 0 size = all.
        x0, y0, w, h = roi or (0, 0, 0, 0)
        x1 = x0 + w if w > 0 else source.width
        y1 = y0 + h if h > 0 else source.height
        # Hole filling needs several source pixels per virtual pixel; the stencil spans a third.
        spacing = max(1, round(source.fx / self.virtual.fx / 3.0))
        self._fill_holes = source.fx >= 3.0 * self.virtual.fx
        offsets = [(0, 0)] + [(du * spacing, dv * spacing) for dv in (-1, 0, 1) for du in (-1, 0, 1)
                              if (du, dv) != (0, 0)]
        cols = np.rint(src_u)[None] + np.array([o[0] for o in offsets])[:, None, None]
        rows = np.rint(src_v)[None] + np.array([o[1] for o in offsets])[:, None, None]
        inside = (cols >= max(x0, 0)) & (cols < min(x1, source.width)) & \
                 (rows >= max(y0, 0)) & (rows < min(y1, source.height))
        # Rays that leave the source image (or region) see nothing.
        self.observed = inside[0]  # (50, 60): virtual pixels that see the source image
        self._rows = np.clip(rows, 0, source.height - 1).astype(np.intp)
        self._cols = np.clip(cols, 0, source.width - 1).astype(np.intp)
        self._inside = inside

    def to_source_pixels(self, virtual_pixels: np.ndarray) -> np.ndarray:
        """(..., 2) pixel coordinates in the virtual image -> the same rays' source pixels."""
        vp = np.asarray(virtual_pixels, dtype=np.float64)
        u = self.source.cx + self.source.fx * (vp[..., 0] - self.virtual.cx) / self.virtual.fx
        v = self.source.cy + self.source.fy * (vp[..., 1] - self.virtual.cy) / self.virtual.fy
        return np.stack([u, v], axis=-1)

    def sample(self, raw: np.ndarray) -> np.ndarray:
        """A source image (H, W) in its raw dtype (see depth_image) -> (50, 60) float32 metres."""
        if raw.shape != self.source.shape:
            raise ValueError(f"image is {raw.shape[1]} x {raw.shape[0]}, its camera "
                             f"{self.source.width} x {self.source.height}")
        depth = to_metres(raw[self._rows[0], self._cols[0]])  # (50, 60): the centre samples
        depth[~self.observed] = 0.0
        missing = np.flatnonzero((depth == 0) & self.observed) if self._fill_holes else []
        if len(missing):  # only where the centre has no return
            flat = depth.reshape(-1)
            rows = self._rows[1:].reshape(len(self._rows) - 1, -1)[:, missing]
            cols = self._cols[1:].reshape(len(self._cols) - 1, -1)[:, missing]
            candidates = to_metres(raw[rows, cols])  # (8, M)
            candidates[~self._inside[1:].reshape(len(rows), -1)[:, missing]] = 0.0
            valid = np.count_nonzero(candidates > 0, axis=0)
            # A hole inside a surface (most neighbours valid) takes their median; an object's
            # edge or empty space (few valid) stays empty, so silhouettes do not grow.
            candidates[candidates == 0] = np.inf
            median = np.take_along_axis(np.sort(candidates, axis=0), (valid // 2)[None], 0)[0]
            flat[missing] = np.where(valid >= 5, median, 0.0)
        return depth

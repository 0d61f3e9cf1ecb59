"""The one place that knows depth encodings (REP-118), as image_pipeline's depth_image_proc does.

- 16UC1 (and mono16): uint16 millimetres, 0 = no return.
- 32FC1: float32 metres, 0 or non-finite = no return.

Everything after to_metres() works in float32 metres with 0 = no return. No ROS imports: the node
passes a sensor_msgs/Image's fields in, the dataset passes its uint16 arrays.
"""
from __future__ import annotations

import numpy as np

ENCODINGS = {"16UC1": np.dtype(np.uint16), "mono16": np.dtype(np.uint16),
             "32FC1": np.dtype(np.float32)}
MAX_PIXELS = 4096 * 4096  # larger frames are refused rather than risking the node's memory


class DepthImageError(ValueError):
    """An image that cannot be read as depth; the message says why."""


def image_array(encoding: str, height: int, width: int, step: int, is_bigendian: bool,
                data) -> np.ndarray:
    """A depth image's raw pixels as a (height, width) array view in the encoding's own dtype.

    data is anything exposing a buffer (bytes, array.array, memoryview, numpy). Rows may be padded
    (step > width * pixel size); either byte order. Raises DepthImageError on any inconsistency.
    """
    if encoding not in ENCODINGS:
        raise DepthImageError(f"unsupported encoding {encoding!r}; expected one of "
                              f"{', '.join(ENCODINGS)} (REP-118)")
    if height <= 0 or width <= 0:
        raise DepthImageError(f"empty image ({width} x {height})")
    if height * width > MAX_PIXELS:
        raise DepthImageError(f"image of {width} x {height} is larger than the "
                              f"{MAX_PIXELS:,} pixels accepted")
    dtype = ENCODINGS[encoding].newbyteorder(">" if is_bigendian else "<")
    row_bytes = width * dtype.itemsize
    if step < row_bytes:
        raise DepthImageError(f"step {step} is shorter than a row of {width} {encoding} pixels "
                              f"({row_bytes} bytes)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    needed = step * (height - 1) + row_bytes
    if buffer.size < needed:
        raise DepthImageError(f"truncated image: {buffer.size} bytes for {width} x {height} "
                              f"{encoding} with step {step} (needs {needed})")
    return np.ndarray((height, width), dtype=dtype, buffer=buffer, strides=(step, dtype.itemsize))


def to_metres(values: np.ndarray) -> np.ndarray:
    """Raw depth values (uint16 mm, or float metres) of any shape -> float32 metres, 0 = no return."""
    values = np.asarray(values)
    if values.dtype.kind in "ui":
        return values.astype(np.float32) / np.float32(1000.0)
    metres = values.astype(np.float32)
    metres[~np.isfinite(metres) | (metres < 0)] = 0.0
    return metres


def to_millimetres(depth_m: np.ndarray) -> np.ndarray:
    """Depth in metres -> uint16 millimetres (16UC1), 0 = no return; clipped to the uint16 range."""
    return np.round(np.clip(depth_m, 0.0, 65.535) * 1000.0).astype(np.uint16)


def encode(depth_m: np.ndarray, encoding: str) -> tuple[int, bytes]:
    """A (height, width) depth image in metres -> (step, data) for a little-endian image message."""
    if encoding not in ENCODINGS:
        raise DepthImageError(f"unsupported encoding {encoding!r}")
    raw = to_millimetres(depth_m) if ENCODINGS[encoding] == np.uint16 else \
        np.asarray(depth_m, dtype=np.float32)
    raw = np.ascontiguousarray(raw, dtype=ENCODINGS[encoding].newbyteorder("<"))
    return raw.shape[1] * raw.itemsize, raw.tobytes()

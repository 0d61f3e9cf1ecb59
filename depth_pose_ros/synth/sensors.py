"""Depth sensor models for the wide world, applied to a rendered source image (metres, 0 = none).

- "ideal": the renderer's perfect depth (the paper's frames).
- "structured_light" (Kinect v1, RealSense D4xx): the IR projector beside the camera leaves a
  shadow band on one side of every nearer surface (no return there); depth comes from disparity
  quantised to a fraction of a pixel, so steps grow with z squared; noise grows with z squared;
  returns drop out along the outline.
- "time_of_flight" (Kinect v2, Azure Kinect): pixels at a depth jump mix the two surfaces
  (flying pixels between the person and what is behind, most cut away by the isolation, the
  rest strung along the outline), noise about 0.1-0.2 % of z.
- Both: blobs of missing returns (dark or shiny cloth, hair) and a minimum range.
Parameters are drawn per frame from the ranges of those sensors' published figures.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.runtime.person import FROM_NEIGHBOURS, grow_by_neighbours

SENSOR_WEIGHTS = {"ideal": 0.15, "structured_light": 0.45, "time_of_flight": 0.40}
SENSORS = tuple(SENSOR_WEIGHTS)
EDGE_STEP_M = 0.05  # a neighbour this much farther (or no return) makes a pixel an edge pixel
ISOLATION_BEHIND_M = 0.3  # flying pixels farther behind the body than this are isolated away


def outline(depth: np.ndarray) -> np.ndarray:
    """(H, W) pixels with a return whose 4-neighbour has none or lies EDGE_STEP_M farther."""
    edge = np.zeros(depth.shape, bool)
    valid = depth > 0
    for to, source in FROM_NEIGHBOURS:
        neighbour = depth[source]
        edge[to] |= valid[to] & ((neighbour == 0) | (neighbour > depth[to] + EDGE_STEP_M))
    return edge


def projector_shadow(depth: np.ndarray, focal_baseline_px_m: float, direction: int) -> np.ndarray:
    """(H, W) pixels the projector cannot light: along each row, a point whose projector column
    (u + direction * f b / z) lies behind one already seen nearer the projector. The band falls
    beside each nearer surface, f b (1/z_near - 1/z_far) pixels wide."""
    if direction < 0:  # the projector on the other side: the mirror image's shadow
        return projector_shadow(depth[:, ::-1], focal_baseline_px_m, 1)[:, ::-1]
    h, w = depth.shape
    with np.errstate(divide="ignore"):
        projected = np.arange(w) + np.where(depth > 0, focal_baseline_px_m / depth, -np.inf)
    seen = np.maximum.accumulate(projected, axis=1)
    previous = np.concatenate([np.full((h, 1), -np.inf), seen[:, :-1]], axis=1)
    return (projected < previous - 0.5) & np.isfinite(projected)


def missing_blobs(valid: np.ndarray, rng: np.random.Generator, seeds_per_pixel: float,
                  max_radius: int) -> np.ndarray:
    """(H, W) blobs of missing returns on the valid pixels, radii 1..max_radius pixels."""
    holes = valid & (rng.random(valid.shape) < seeds_per_pixel)
    grown = holes
    for _ in range(int(rng.integers(1, max_radius + 1))):
        grown = grow_by_neighbours(grown)
    return grown & valid


def apply_sensor(name: str, depth: np.ndarray, camera: PinholeCamera,
                 rng: np.random.Generator) -> np.ndarray:
    """One source image (H, W) metres -> what the named sensor returns (a new array)."""
    out = depth.astype(np.float32, copy=True)
    if name == "ideal":
        return out
    scale = camera.fx / 55.25  # source pixels per virtual pixel: effect sizes follow it
    valid = out > 0
    if name == "structured_light":
        baseline = rng.uniform(0.05, 0.075)  # RealSense D4xx 50 mm, Kinect v1 75 mm
        out[projector_shadow(out, camera.fx * baseline, rng.choice([-1, 1]))] = 0.0
        valid = out > 0
        focal_real = rng.uniform(380.0, 600.0)  # the real sensor's focal length in pixels
        subpixel = rng.choice([8.0, 16.0])
        fb = focal_real * baseline
        disparity = np.where(valid, fb / np.where(valid, out, 1.0), 0.0)
        quantised = np.round(disparity * subpixel) / subpixel
        out = np.where(valid & (quantised > 0), fb / np.maximum(quantised, 1e-6), 0.0)
        out = out + rng.standard_normal(out.shape) * rng.uniform(0.0008, 0.002) * out ** 2
        edge = outline(out) & (rng.random(out.shape) < rng.uniform(0.2, 0.6))
        out[grow_by_neighbours(edge) if rng.random() < 0.5 else edge] = 0.0
        min_range = rng.uniform(0.3, 0.5)
    elif name == "time_of_flight":
        background = rng.uniform(3.5, 7.0)  # the room behind: flying pixels run towards it
        edge = outline(out)
        mix = rng.random(out.shape)
        flying = edge & (mix < rng.uniform(0.3, 0.7))
        farther = np.zeros_like(out)
        for to, source in FROM_NEIGHBOURS:
            neighbour = np.where(out[source] > 0, out[source], background)
            np.maximum(farther[to], neighbour, out=farther[to])
        alpha = rng.random(out.shape).astype(np.float32)
        flown = out + alpha * (farther - out)
        # The isolation keeps the flying pixels that stay close behind the body.
        out = np.where(flying, np.where(flown - out <= ISOLATION_BEHIND_M, flown, 0.0), out)
        # Just outside the outline: mixed returns strung along it.
        ring = grow_by_neighbours(valid) & ~valid & (rng.random(out.shape) < 0.15)
        nearest = np.zeros_like(out)
        for to, source in FROM_NEIGHBOURS:
            np.maximum(nearest[to], out[source], out=nearest[to])
        out = np.where(ring & (nearest > 0),
                       nearest + rng.random(out.shape) * ISOLATION_BEHIND_M, out)
        sigma = 0.0015 + rng.uniform(0.0008, 0.002) * out
        out = out + rng.standard_normal(out.shape) * sigma
        min_range = rng.uniform(0.25, 0.5)
    else:
        raise ValueError(f"unknown sensor {name!r}; expected one of {SENSORS}")
    valid = out > 0
    out[missing_blobs(valid, rng, 0.004 / scale ** 2, max(1, round(1.3 * scale)))] = 0.0
    out[out < min_range] = 0.0
    return out.astype(np.float32)

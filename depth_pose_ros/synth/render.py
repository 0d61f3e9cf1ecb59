"""Depth rendering of capsules and ellipsoids by analytic ray intersection, vectorised.

Rays start at the camera's optical centre through each pixel centre. For every frame, primitive
and pixel the nearest intersection is solved in closed form (a quadratic), so a frame costs a few
small matrix products and element-wise passes over (primitives x pixels): no triangles, no loops
over pixels. Output depth is z (along the optical axis) in metres; 0 where no ray hits (no return).
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.synth.body import Body


def _first_hit_capsules(rays, ends, radii):
    """Ray parameter (distance) of the first hit, (F, P, R); inf where the ray misses.

    rays (R, 3) unit directions from the origin; ends (F, P, 2, 3); radii (F, P).
    Intersects the infinite cylinder first; outside the segment, the end cap's sphere.
    Only the few (frame, part, ray) triples that meet the cylinder are solved further.
    """
    a, b = ends[:, :, 0], ends[:, :, 1]
    ba = b - a
    baba = np.einsum("fpi,fpi->fp", ba, ba)
    baoa = -np.einsum("fpi,fpi->fp", ba, a)
    r2 = radii ** 2
    aa, bb = np.einsum("fpi,fpi->fp", a, a), np.einsum("fpi,fpi->fp", b, b)
    qc = baba * aa - baoa * baoa - r2 * baba
    a_dot_ray = a @ rays.T  # (F, P, R)
    bard = b @ rays.T - a_dot_ray
    qa = baba[..., None] - bard * bard
    qb = -(baba[..., None] * a_dot_ray + baoa[..., None] * bard)
    h = qb * qb - qa * qc[..., None]
    t = np.full(h.shape, np.inf, dtype=h.dtype)

    hit = np.flatnonzero(h.ravel() >= 0)  # the ray meets the infinite cylinder
    fp = hit // h.shape[-1]  # index of (frame, part) in the flattened (F, P) scalars
    baba, baoa, r2, aa, bb = (x.ravel()[fp] for x in (baba, baoa, r2, aa, bb))
    ad, bard_h, qa_h, qb_h = (x.ravel()[hit] for x in (a_dot_ray, bard, qa, qb))
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-qb_h - np.sqrt(h.ravel()[hit])) / qa_h
        y = baoa + t_body * bard_h
        # Outside the segment: the end cap's sphere, at a where y <= 0, else at b.
        near_a = y <= 0
        cap_dot = np.where(near_a, ad, ad + bard_h)
        h_cap = cap_dot * cap_dot - (np.where(near_a, aa, bb) - r2)
        t_cap = np.where(h_cap > 0, cap_dot - np.sqrt(h_cap), np.inf)
    t_hit = np.where((y > 0) & (y < baba), t_body, t_cap)
    t.ravel()[hit] = np.where(t_hit > 0, t_hit, np.inf)
    return t


def _first_hit_ellipsoids(rays, centres, axes, radii):
    """Like _first_hit_capsules for ellipsoids: centres (F, P, 3), axes (F, P, 3, 3), radii (F, P, 3)."""
    # In the ellipsoid's unit-sphere coordinates a point p maps to M (p - c), M = diag(1/r) A^T.
    m = np.swapaxes(axes, -1, -2) / radii[..., :, None]
    q = np.swapaxes(m, -1, -2) @ m  # quadratic form of the ray direction
    quad = np.stack([q[..., 0, 0], q[..., 1, 1], q[..., 2, 2],
                     2 * q[..., 0, 1], 2 * q[..., 0, 2], 2 * q[..., 1, 2]], axis=-1)
    ray_products = np.stack([rays[:, 0] ** 2, rays[:, 1] ** 2, rays[:, 2] ** 2,
                             rays[:, 0] * rays[:, 1], rays[:, 0] * rays[:, 2],
                             rays[:, 1] * rays[:, 2]], axis=-1)
    qa = quad @ ray_products.T  # (F, P, R)
    m0 = -np.einsum("fpij,fpj->fpi", m, centres)  # the camera origin in unit-sphere coordinates
    qb = np.einsum("fpji,fpj->fpi", m, m0) @ rays.T
    qc = (np.einsum("fpi,fpi->fp", m0, m0) - 1.0)[..., None]
    h = qb * qb - qa * qc
    with np.errstate(invalid="ignore"):
        t = (-qb - np.sqrt(h)) / qa
    return np.where((h >= 0) & (t > 0), t, np.inf)


def bounding_boxes(camera: PinholeCamera, bodies: Body, margin_px: float = 2.0) -> np.ndarray:
    """(N, 4) int pixel bounds (col0, col1, row0, row1), end-exclusive, that hold every part of
    each body (from the parts' bounding spheres, widened for off-axis projection)."""
    centres = np.concatenate([bodies.capsules.reshape(len(bodies), -1, 3),
                              bodies.ellipsoid_centres], axis=1)
    radii = np.concatenate([np.repeat(bodies.capsule_radii, 2, axis=1),
                            bodies.ellipsoid_radii.max(axis=2)], axis=1)
    z = centres[..., 2] - radii
    ahead = z > 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        u = camera.fx * centres[..., 0] / centres[..., 2] + camera.cx
        v = camera.fy * centres[..., 1] / centres[..., 2] + camera.cy
        spread = 1.6 * camera.fx * radii / np.where(ahead, z, 1.0) + margin_px
    big = np.float64(1e9)
    col0 = np.where(ahead, u - spread, -big).min(axis=1)
    col1 = np.where(ahead, u + spread, big).max(axis=1)
    row0 = np.where(ahead, v - spread, -big).min(axis=1)
    row1 = np.where(ahead, v + spread, big).max(axis=1)
    bounds = np.stack([np.floor(col0), np.ceil(col1) + 1, np.floor(row0), np.ceil(row1) + 1], -1)
    limits = np.array([camera.width, camera.width, camera.height, camera.height])
    return np.clip(bounds, 0, limits).astype(int)


def render_depth_culled(camera: PinholeCamera, bodies: Body, with_labels: bool = False):
    """render_depth one frame at a time, tracing only the rays inside each body's bounding box
    (large images of small figures: several times faster)."""
    rays = camera.pixel_rays().astype(np.float32).reshape(camera.shape + (3,))
    n = len(bodies)
    depth = np.zeros((n,) + camera.shape, dtype=np.float32)
    labels = np.zeros((n,) + camera.shape, dtype=np.uint8) if with_labels else None
    for i, (c0, c1, r0, r1) in enumerate(bounding_boxes(camera, bodies)):
        if c1 <= c0 or r1 <= r0:
            continue
        inside = rays[r0:r1, c0:c1].reshape(-1, 3)
        t = np.concatenate([
            _first_hit_capsules(inside, bodies.capsules[i:i + 1].astype(np.float32),
                                bodies.capsule_radii[i:i + 1].astype(np.float32)),
            _first_hit_ellipsoids(inside, bodies.ellipsoid_centres[i:i + 1].astype(np.float32),
                                  bodies.ellipsoid_axes[i:i + 1].astype(np.float32),
                                  bodies.ellipsoid_radii[i:i + 1].astype(np.float32)),
        ], axis=1)[0]  # (P, R)
        nearest = t.min(axis=0)
        hit = np.isfinite(nearest)
        depth[i, r0:r1, c0:c1] = np.where(hit, nearest * inside[:, 2], 0.0).reshape(r1 - r0, c1 - c0)
        if with_labels:
            labels[i, r0:r1, c0:c1] = np.where(hit, t.argmin(axis=0) + 1, 0).reshape(
                r1 - r0, c1 - c0)
    return (depth, labels) if with_labels else depth


def render_depth(camera: PinholeCamera, bodies: Body, with_labels: bool = False,
                 batch: int = 64):
    """Render bodies (already in the camera frame) -> (F, H, W) float32 z-depth in metres.

    With with_labels, also returns (F, H, W) uint8 part labels: 1 + index in body.PART_NAMES,
    0 for background.
    """
    rays = camera.pixel_rays().astype(np.float32)
    n = len(bodies)
    depth = np.zeros((n,) + camera.shape, dtype=np.float32)
    labels = np.zeros((n,) + camera.shape, dtype=np.uint8) if with_labels else None
    for start in range(0, n, batch):
        sl = slice(start, start + batch)
        t = np.concatenate([
            _first_hit_capsules(rays, bodies.capsules[sl].astype(np.float32),
                                bodies.capsule_radii[sl].astype(np.float32)),
            _first_hit_ellipsoids(rays, bodies.ellipsoid_centres[sl].astype(np.float32),
                                  bodies.ellipsoid_axes[sl].astype(np.float32),
                                  bodies.ellipsoid_radii[sl].astype(np.float32)),
        ], axis=1)  # (F, P, R)
        nearest = t.min(axis=1)
        z = np.where(np.isfinite(nearest), nearest * rays[:, 2], 0.0)
        depth[sl] = z.reshape((-1,) + camera.shape)
        if with_labels:
            part = t.argmin(axis=1) + 1
            labels[sl] = np.where(np.isfinite(nearest), part, 0).reshape((-1,) + camera.shape)
    return (depth, labels) if with_labels else depth

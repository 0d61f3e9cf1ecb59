"""The renderer against geometry computed independently here."""
import numpy as np
import pytest

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.synth.body import CAPSULE_PARTS, ELLIPSOID_PARTS, PART_NAMES, Body
from depth_pose_ros.synth.render import render_depth

CAM = PinholeCamera.virtual()
FAR = np.array([0.0, 0.0, 1000.0])  # parks unused primitives far behind everything, tiny


def scene(capsules=(), ellipsoids=()):
    """One frame; capsules [(a, b, r)], ellipsoids [(centre, axes 3x3, radii)]; rest parked."""
    caps = np.tile(FAR, (len(CAPSULE_PARTS), 2, 1))
    caps[:, 1, 0] += 0.001
    cap_r = np.full(len(CAPSULE_PARTS), 1e-4)
    cen = np.tile(FAR, (len(ELLIPSOID_PARTS), 1))
    axes = np.tile(np.eye(3), (len(ELLIPSOID_PARTS), 1, 1))
    rad = np.full((len(ELLIPSOID_PARTS), 3), 1e-4)
    for i, (a, b, r) in enumerate(capsules):
        caps[i] = [a, b]
        cap_r[i] = r
    for i, (c, ax, r) in enumerate(ellipsoids):
        cen[i], axes[i], rad[i] = c, ax, r
    return Body(np.zeros((1, 7, 3)), caps[None], cap_r[None], cen[None], axes[None], rad[None])


def ray_hits(depth):
    points = CAM.back_project_image(depth)
    rays = CAM.pixel_rays().reshape(50, 60, 3)
    return points, rays


def test_sphere_depth_is_analytic():
    c, r = np.array([0.2, -0.1, 3.0]), 0.5
    depth = render_depth(CAM, scene(ellipsoids=[(c, np.eye(3), [r, r, r])]))[0]
    rays = CAM.pixel_rays().reshape(50, 60, 3)
    # Nearest intersection of the line t * d with the sphere, z = t * d_z.
    dc = rays @ c
    disc = dc ** 2 - c @ c + r ** 2
    expected = np.where(disc >= 0, (dc - np.sqrt(np.clip(disc, 0, None))) * rays[..., 2], 0.0)
    np.testing.assert_allclose(depth, expected, atol=1e-4)  # float32; files store mm
    assert (depth > 0).sum() > 50
    assert depth[depth > 0].min() == pytest.approx(2.5, abs=0.01)


def test_flat_slab_facing_the_camera():
    # A thin, wide ellipsoid: its front face is a plane at z = 3 - 0.02 near the axis.
    depth = render_depth(CAM, scene(ellipsoids=[((0, 0, 3.0), np.eye(3), [40, 40, 0.02])]))[0]
    np.testing.assert_allclose(depth, 2.98, atol=1e-4)


def test_rotated_ellipsoid_points_lie_on_its_surface():
    angle = np.radians(35)
    axes = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                     [0, 0, 1]])
    c, radii = np.array([0.1, 0.0, 2.5]), np.array([0.4, 0.15, 0.1])
    depth = render_depth(CAM, scene(ellipsoids=[(c, axes, radii)]))[0]
    points = CAM.back_project_image(depth)[depth > 0]
    local = (points - c) @ axes / radii
    np.testing.assert_allclose(np.linalg.norm(local, axis=1), 1.0, atol=1e-3)
    assert len(points) > 20


def _distance_to_segment(p, a, b):
    t = np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    return np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1)


def test_capsule_surface_and_silhouette():
    a, b, r = np.array([-0.4, -0.3, 2.6]), np.array([0.5, 0.2, 3.2]), 0.12
    depth = render_depth(CAM, scene(capsules=[(a, b, r)]))[0]
    hit = depth > 0
    points = CAM.back_project_image(depth)[hit]
    # Every rendered point is on the capsule's surface ...
    np.testing.assert_allclose(_distance_to_segment(points, a, b), r, atol=1e-3)
    # ... and it is the first one along the ray: a step towards the camera is outside.
    rays = CAM.pixel_rays().reshape(50, 60, 3)[hit]
    before = points - 0.01 * rays
    assert (_distance_to_segment(before, a, b) > r).all()
    # Silhouette: a ray hits exactly when it passes within r of the segment.
    all_rays = CAM.pixel_rays().reshape(50, 60, 3)
    ts = np.linspace(0.5, 5.0, 4000)
    closest = np.min([_distance_to_segment(all_rays * t, a, b) for t in ts], axis=0)
    clear = np.abs(closest - r) > 0.003  # leave out rays grazing the surface
    np.testing.assert_array_equal(hit[clear], (closest < r)[clear])


def test_nearer_primitive_occludes_and_labels_name_parts():
    body = scene(capsules=[((-0.3, 0, 2.0), (0.3, 0, 2.0), 0.05)],
                 ellipsoids=[((0, 0, 3.0), np.eye(3), [0.6, 0.6, 0.3])])
    depth, labels = render_depth(CAM, body, with_labels=True)
    row = 24
    centre = depth[0, row, 29]
    assert centre == pytest.approx(1.95, abs=0.01)  # the capsule in front
    assert PART_NAMES[int(labels[0, row, 29]) - 1] == CAPSULE_PARTS[0]
    assert PART_NAMES[int(labels[0, 15, 29]) - 1] == ELLIPSOID_PARTS[0]
    assert depth[0, 15, 29] > 2.6
    assert labels[0, 0, 0] == 0 and depth[0, 0, 0] == 0


def test_batches_give_the_same_frames():
    from depth_pose_ros.synth.generate import sample_bodies_in_view
    bodies = sample_bodies_in_view(np.random.default_rng(3), 10, CAM)
    one = render_depth(CAM, bodies, batch=64)
    small = render_depth(CAM, bodies, batch=3)
    np.testing.assert_array_equal(one, small)

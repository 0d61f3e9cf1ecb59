import math

import numpy as np
import pytest

from depth_pose_ros.camera import PinholeCamera


def test_virtual_camera_intrinsics():
    cam = PinholeCamera.virtual()
    assert (cam.width, cam.height) == (60, 50)
    assert cam.fx == pytest.approx(30 / math.tan(math.radians(28.5)))
    assert cam.fx == pytest.approx(55.26, abs=0.01)
    assert cam.fy == cam.fx
    assert (cam.cx, cam.cy) == (29.5, 24.5)  # pixel centres at integer coordinates
    # The outer edges of the outermost pixels span exactly 57 degrees.
    left = cam.back_project(-0.5, cam.cy, 1.0)
    right = cam.back_project(cam.width - 0.5, cam.cy, 1.0)
    angle = math.degrees(math.atan2(right[0], 1.0) - math.atan2(left[0], 1.0))
    assert angle == pytest.approx(57.0)


def test_projection_round_trip():
    cam = PinholeCamera(320, 240, 285.71, 285.71, 160.0, 120.0)
    rng = np.random.default_rng(0)
    points = rng.uniform([-2, -1.5, 0.5], [2, 1.5, 6.0], size=(1000, 3))
    pixels = cam.project(points)
    back = cam.back_project(pixels[:, 0], pixels[:, 1], points[:, 2])
    np.testing.assert_allclose(back, points, atol=1e-12)


def test_point_on_axis_projects_to_principal_point():
    cam = PinholeCamera.virtual()
    np.testing.assert_allclose(cam.project(np.array([0.0, 0.0, 2.0])), [cam.cx, cam.cy])
    # x right, y down (REP-103 optical frame).
    u, v = cam.project(np.array([0.1, 0.2, 2.0]))
    assert u > cam.cx and v > cam.cy


def test_pixel_rays_pass_through_pixel_centres():
    cam = PinholeCamera.virtual()
    rays = cam.pixel_rays()
    assert rays.shape == (50 * 60, 3)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=1), 1.0)
    pixels = cam.project(rays).reshape(50, 60, 2)
    v, u = np.indices((50, 60))
    np.testing.assert_allclose(pixels[..., 0], u, atol=1e-9)
    np.testing.assert_allclose(pixels[..., 1], v, atol=1e-9)


def test_back_project_image_matches_back_project():
    cam = PinholeCamera.virtual()
    depth = np.random.default_rng(1).uniform(1, 4, cam.shape)
    points = cam.back_project_image(depth)
    assert points.shape == (50, 60, 3)
    np.testing.assert_allclose(points[7, 11], cam.back_project(11, 7, depth[7, 11]))


def test_in_view_edges():
    cam = PinholeCamera.virtual()
    pixels = np.array([[-0.5, 0], [-0.51, 0], [59.5, 49.5], [59.6, 10], [10, 49.6], [30, 25]])
    np.testing.assert_array_equal(cam.in_view(pixels), [True, False, True, False, False, True])

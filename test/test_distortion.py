"""CameraInfo's distortion models (issue 16 groundwork) on points worked out by hand."""
import math

import numpy as np
import pytest

from depth_pose_ros.distortion import MODELS, distort, undistort


def test_each_model_on_a_known_point():
    # plumb_bob: k1 = 0.1, p1 = 0.01 at (0.2, 0.1): r^2 = 0.05, radial 1.005; tangential
    # 2 p1 x y = 0.0004 on x, p1 (r^2 + 2 y^2) = 0.0007 on y
    np.testing.assert_allclose(distort([0.2, 0.1], "plumb_bob", [0.1, 0, 0.01, 0, 0]),
                               [0.2 * 1.005 + 0.0004, 0.1 * 1.005 + 0.0007])
    # rational_polynomial: k1 = 0.2 over k4 = 0.1 at (0.2, 0.1): (1.01) / (1.005)
    np.testing.assert_allclose(
        distort([0.2, 0.1], "rational_polynomial", [0.2, 0, 0, 0, 0, 0.1, 0, 0]),
        np.array([0.2, 0.1]) * 1.01 / 1.005)
    # equidistant with no coefficients: the angle itself, r = 1 -> theta = pi / 4
    np.testing.assert_allclose(distort([1.0, 0.0], "equidistant", [0, 0, 0, 0]),
                               [math.pi / 4, 0.0])
    # equidistant k1 = 0.1 at r = 1: theta_d = pi/4 (1 + 0.1 (pi/4)^2)
    np.testing.assert_allclose(distort([0.0, 1.0], "equidistant", [0.1]),
                               [0.0, math.pi / 4 * (1 + 0.1 * (math.pi / 4) ** 2)])


@pytest.mark.parametrize("model", MODELS)
def test_no_coefficients_is_a_pinhole_except_fisheye(model):
    xy = np.random.default_rng(0).uniform(-0.5, 0.5, (100, 2))
    result = distort(xy, model, [])
    if model == "equidistant":
        r = np.linalg.norm(xy, axis=1)
        np.testing.assert_allclose(np.linalg.norm(result, axis=1), np.arctan(r))
    else:
        np.testing.assert_allclose(result, xy)
    assert distort([0.0, 0.0], model, [0.3, 0.1, 0.01, 0.01])[0] == 0.0  # the centre stays


@pytest.mark.parametrize("model, d", [
    ("plumb_bob", [-0.28, 0.07, 0.001, -0.0005, 0.0]),  # strong barrel distortion
    # strong radial terms over a rational denominator (made-up values of a wide lens)
    ("rational_polynomial", [0.55, -0.05, 0.0001, -0.0001, -0.002, 0.89, 0.11, -0.01]),
    ("equidistant", [0.1, -0.02, 0.003, -0.0004]),
])
def test_undistort_inverts_distort_over_a_wide_field(model, d):
    xy = np.stack(np.meshgrid(np.linspace(-0.7, 0.7, 15), np.linspace(-0.6, 0.6, 13)), -1)
    np.testing.assert_allclose(undistort(distort(xy, model, d), model, d), xy, atol=1e-7)


def test_an_unknown_model_is_refused_by_name():
    with pytest.raises(ValueError, match="'kannala' is not one of plumb_bob"):
        distort([0.1, 0.1], "kannala", [0.1])


# A camera of each model with clearly non-zero coefficients.
LENSES = {"plumb_bob": (0.12, -0.05, 0.002, -0.001, 0.01),
          "rational_polynomial": (0.4, -0.1, 0.001, 0.002, 0.0, 0.3, -0.05, 0.01),
          "equidistant": (0.05, -0.02, 0.004, 0.0)}


@pytest.mark.parametrize("model", MODELS)
def test_a_distorted_camera_projects_a_known_point_through_its_lens(model):
    from depth_pose_ros.camera import PinholeCamera
    from depth_pose_ros.runtime.pipeline import camera_from_intrinsics

    k = [300.0, 0, 320.0, 0, 310.0, 240.0, 0, 0, 1]
    camera = camera_from_intrinsics(640, 480, k, model, LENSES[model])
    point = np.array([0.6, -0.3, 2.0])
    expected = distort(point[:2] / point[2], model, LENSES[model]) * [300.0, 310.0] + [320, 240]
    np.testing.assert_allclose(camera.project(point), expected)
    np.testing.assert_allclose(camera.back_project(*camera.project(point), 2.0), point, atol=1e-7)
    assert camera.project(point)[0] != pytest.approx(PinholeCamera(640, 480, 300.0, 310.0, 320.0,
                                                                   240.0).project(point)[0])


@pytest.mark.parametrize("model", MODELS)
def test_the_reprojection_traces_rays_through_the_lens(model):
    """A raw image of a distorted camera: a wall at 3 m with a 20 cm cube face at 2 m, seen
    off-axis. The overview (distortion undone) and a virtual camera turned to the cube see it
    where a pinhole camera would put the cube's known centre, at its depth."""
    from depth_pose_ros.camera import PinholeCamera
    from depth_pose_ros.runtime.pipeline import camera_from_intrinsics
    from depth_pose_ros.runtime.reproject import VirtualView, look_at, overview_camera

    source = camera_from_intrinsics(640, 480, [300.0, 0, 320.0, 0, 300.0, 240.0, 0, 0, 1],
                                    model, LENSES[model])
    v, u = np.indices(source.shape, dtype=np.float64)
    rays = source.rays_of_pixels(np.stack([u, v], -1))  # x / z, y / z of each raw pixel
    centre = np.array([1.2, 0.5, 2.0])
    on_cube = (np.abs(rays[..., 0] * 2.0 - centre[0]) < 0.1) & \
        (np.abs(rays[..., 1] * 2.0 - centre[1]) < 0.1)
    raw = np.where(on_cube, 2.0, 3.0).astype(np.float32)
    virtual = PinholeCamera.virtual()
    for view in (VirtualView(source, overview_camera(source, virtual)),
                 VirtualView(source, virtual, rotation=look_at(centre))):
        depth = view.sample(raw)
        seen = (depth > 0) & (depth < 2.5)
        rows, cols = np.nonzero(seen)
        found = np.array([cols.mean(), rows.mean()])
        expected = view.virtual.project(view.rotation.T @ centre if view.rotation is not None
                                        else centre)
        np.testing.assert_allclose(found, expected, atol=0.75)
        # z along the virtual camera's own axis: the cube face is not square to a turned one
        z = view.rotation.T @ centre if view.rotation is not None else centre
        assert np.median(depth[seen]) == pytest.approx(z[2], abs=0.03)

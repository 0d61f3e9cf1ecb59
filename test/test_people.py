"""Everyone in the room (issue 16): people anywhere in a wide view, each with an ID, over the
real middleware with the ROS4HRI (REP-155) output on."""
import subprocess

import numpy as np
import pytest
from test_pose_node import FRAME, Harness, start_node

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import to_millimetres
from depth_pose_ros.runtime.pipeline import PosePipeline
from depth_pose_ros.runtime.reproject import zoom_level, zoom_scale
from depth_pose_ros.synth.render import render_depth_culled
from depth_pose_ros.synth.scenes import DEMO_CAMERA, PeopleScene, motion_bodies


def _standing(seed: int, x: float, z: float, camera_height: float = 1.0):
    """One posed person with the mid-hip at (x, z), the soles on the floor camera_height below
    the (level) camera."""
    body = motion_bodies(np.random.default_rng(seed), 2, 1).take([0])
    soles = body.capsules[..., 1].max() + 0.5 * body.capsule_radii.max() - body.joints[0, 0, 1]
    root = np.array([x, camera_height - soles, z])
    return body.transformed(np.eye(3)[None], (root - body.joints[0, 0])[None])


@pytest.fixture(scope="module")
def crowd():
    """A room with three people apart (2.4, 3.1 and 3.8 m away), and with two of them."""
    people = [_standing(1, -1.1, 2.4), _standing(2, 0.2, 3.1), _standing(3, 1.5, 3.8)]
    frames = {}
    for count in (3, 2):
        depth, joints, _, visible = PeopleScene(DEMO_CAMERA, people[:count], 1.0).frame(0)
        assert (visible > 0.9).all()
        frames[count] = (depth, joints)
    return DEMO_CAMERA, frames


def test_people_at_different_distances_each_get_their_own_zoom(shipped_estimator, crowd):
    """One batch, three zooms: each person's joints and pixels come back along their own
    camera's rays."""
    camera, frames = crowd
    people = PosePipeline(shipped_estimator).process_all(to_millimetres(frames[3][0]), camera)
    assert len(people) == 3
    virtual = shipped_estimator.camera
    zooms = set()
    for person in people:
        zoom = float(zoom_scale(zoom_level(np.linalg.norm(person.centre), 2.2)))
        zooms.add(zoom)
        raw = shipped_estimator.estimate_virtual(person.network_input)
        xy = (raw.pixels[1:] - [virtual.cx, virtual.cy]) / (virtual.fx * zoom)
        rays = np.concatenate([xy, np.ones((6, 1))], axis=1) @ person.view_rotation.T
        np.testing.assert_allclose(person.pixels[1:], camera.project(rays), atol=0.1)
        np.testing.assert_allclose(person.pixels[0], camera.project(person.joints3d[0]),
                                   atol=0.1)
    assert len(zooms) == 3


def test_a_person_in_a_wide_cameras_periphery_is_found(shipped_estimator):
    """120 degrees wide (Azure Kinect WFOV-like), a person 45 degrees off the axis: outside the
    middle 57 degrees the node used to see."""
    wide = PinholeCamera.from_hfov(640, 480, 120.0)
    body = motion_bodies(np.random.default_rng(1), 2, 1).take([0])
    root = body.joints[0, 0]
    target = np.array([2.5 * np.tan(np.radians(45)), root[1], 2.5])
    body = body.transformed(np.eye(3)[None], (target - root)[None])
    depth = render_depth_culled(wide, body)[0]
    people = PosePipeline(shipped_estimator).process_all(to_millimetres(depth), wide)
    assert len(people) == 1
    error = np.linalg.norm(people[0].joints3d - body.joints[0], axis=1)
    assert error[[0, 1, 4]].max() < 0.15, error  # root and shoulders
    angle = np.degrees(np.arctan2(people[0].joints3d[0, 0], people[0].joints3d[0, 2]))
    assert angle > 40


def test_everyone_is_found_in_one_batch_and_max_people_caps_the_work(shipped_estimator, crowd):
    camera, frames = crowd
    depth, joints = frames[3]
    pipeline = PosePipeline(shipped_estimator, max_people=4)
    people = pipeline.process_all(to_millimetres(depth), camera)
    assert len(people) == 3
    found = np.array([p.joints3d[0] for p in people])
    for truth in joints[:, 0]:  # each true mid-hip has an estimate near it
        assert np.linalg.norm(found - truth, axis=1).min() < 0.25
    assert [p.joints3d[0, 2] for p in people] == sorted(p.joints3d[0, 2] for p in people)
    pipeline.configure(pipeline.person_filter, None, max_people=2)
    assert len(pipeline.process_all(to_millimetres(depth), camera)) == 2
    assert pipeline.process(to_millimetres(depth), camera).detected  # the one-person case


@pytest.fixture(scope="module")
def ros():
    import rclpy
    rclpy.init()
    yield
    rclpy.shutdown()


def test_bodies_ids_tf_and_rep155_over_the_middleware(ros, crowd, tmp_path):
    from hri_msgs.msg import IdsList

    camera, frames = crowd
    log = tmp_path / "stderr.log"
    process = start_node(log, "-p", "hri.enabled:=true", "-p", "smoothing:=false",
                         "-p", "lost_timeout:=0.8", "-p", "markers_max_rate:=0.0",
                         topics="/people")
    harness = Harness("/people")
    tracked = []
    harness.node.create_subscription(IdsList, "/humans/bodies/tracked", tracked.append, 10)

    def send(count, t):
        """The frame with `count` people (0: nobody) stamped t seconds into a 30 Hz stream."""
        depth = frames[count][0] if count else np.zeros_like(frames[3][0])
        image = harness.ros_messages.depth_image(harness.header(), depth)
        image.header.stamp = harness.rclpy.time.Time(seconds=5000 + t).to_msg()
        assert harness.send(image, harness.info(camera)) is not None
        return [b for b in harness.bodies[Harness._key(image.header)].bodies]

    try:
        harness.wait_for_node(process)
        first = sorted(b.id for b in send(3, 0.0))
        assert len(first) == 3 == len(set(first))
        for k in range(1, 3):  # the same people, frame after frame: the same IDs
            assert sorted(b.id for b in send(3, k / 30)) == first
        for k in range(3, 18):  # the farthest person hidden for 0.5 s: listed as lost
            bodies = send(2, k / 30)
            assert sorted(b.id for b in bodies) == first
            assert sum(b.state == b.LOST for b in bodies) == 1
        bodies = send(3, 18 / 30)  # back: the ID they had
        assert sorted(b.id for b in bodies if b.state == b.TRACKED) == first
        key = max(harness.bodies)
        assert harness.joints[key].person_detected  # /body_joints carries one of them
        ids = first
        tf = harness.tf[key]
        names = {t.child_frame_id: t.header.frame_id for t in tf.transforms}
        for i in ids:
            assert names[f"body_{i}_root"] == FRAME and names[f"body_{i}_left_hand"] == FRAME
            assert names[f"body_b{i}"] == FRAME  # REP-155: body_<body ID> at the mid-hip
            for link in ("r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist"):
                assert names[f"{link}_b{i}"] == f"body_b{i}"
        harness.spin(1.0, until=lambda: any(sorted(m.ids) == [f"b{i}" for i in ids]
                                            for m in tracked))
        assert any(sorted(m.ids) == sorted(f"b{i}" for i in ids) for m in tracked)
        types = dict(harness.node.get_topic_names_and_types())
        for i in ids:
            assert types[f"/humans/bodies/b{i}/skeleton2d"] == ["hri_msgs/msg/Skeleton2D"]
            assert types[f"/humans/bodies/b{i}/roi"] == ["sensor_msgs/msg/RegionOfInterest"]
            assert types[f"/humans/bodies/b{i}/cropped"] == ["sensor_msgs/msg/Image"]
        # Everyone gone for longer than lost_timeout: the bodies' topics go with them.
        for k in range(4):
            send(0, 1.0 + 0.3 * k)
        harness.spin(3.0, until=lambda: not any(
            harness.node.count_publishers(f"/humans/bodies/b{i}/roi") for i in ids))
        assert not any(harness.node.count_publishers(f"/humans/bodies/b{i}/roi") for i in ids)
        assert tracked[-1].ids == []
        assert process.poll() is None and "Traceback" not in log.read_text()
    finally:
        process.send_signal(2)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        harness.node.destroy_node()


def test_rep155_body_frame_skeleton_slots_and_crop():
    from hri_msgs.msg import Skeleton2D

    from depth_pose_ros.ros import messages as ros_messages
    from depth_pose_ros.ros.hri_output import body_rotation, crop, skeleton2d
    from depth_pose_ros.runtime.pipeline import PersonPose

    # Facing the camera, upright: the person's left shoulder is on the image's right (+x),
    # up is -y; REP-155's body frame has x forward (towards the camera, -z), y left, z up.
    joints = np.array([[0, 0, 3], [-0.2, -0.5, 3], [-0.3, -0.2, 3], [-0.3, 0.0, 3],
                       [0.2, -0.5, 3], [0.3, -0.2, 3], [0.3, 0.0, 3]], dtype=float)
    np.testing.assert_allclose(body_rotation(joints), [[0, 1, 0], [0, 0, -1], [-1, 0, 0]],
                               atol=1e-12)
    pixels = DEMO_CAMERA.project(joints)
    pixels[3] = [-50.0, 10.0]  # the right wrist outside the image
    pose = PersonPose(True, (), joints, pixels, DEMO_CAMERA.in_view(pixels), np.zeros((50, 60)),
                      np.full(7, 0.8, np.float32))
    skeleton = skeleton2d(ros_messages.Header(), pose, DEMO_CAMERA).skeleton
    left = skeleton[Skeleton2D.LEFT_SHOULDER]
    assert (left.x, left.y) == pytest.approx(((pixels[4, 0] + 0.5) / 640, (pixels[4, 1] + 0.5) / 480))
    assert left.c == pytest.approx(0.8)
    assert skeleton[Skeleton2D.RIGHT_WRIST].c == 0 and skeleton[Skeleton2D.RIGHT_WRIST].x == 0
    assert skeleton[Skeleton2D.NECK].x == pytest.approx((pixels[1, 0] + pixels[4, 0] + 1) / 2 / 640)
    assert skeleton[Skeleton2D.NOSE].c == 0 and skeleton[Skeleton2D.RIGHT_HIP].c == 0
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = ros_messages.depth_image(ros_messages.Header(), depth, "32FC1")
    part = crop(image, (1, 1, 2, 2))
    assert (part.width, part.height, part.step) == (2, 2, 8)
    np.testing.assert_array_equal(np.frombuffer(bytes(part.data), "<f4").reshape(2, 2),
                                  depth[1:3, 1:3])


def test_person_like_clutter_stays_within_max_people(shipped_estimator):
    """Eight person-sized posts 3 m away before a wall: each passes for a person; the work
    stops at max_people, closest first."""
    rays = DEMO_CAMERA.rays_of_pixels(np.stack(np.indices(DEMO_CAMERA.shape)[::-1], -1))
    x, y = rays[..., 0] * 3.0, rays[..., 1] * 3.0  # where each ray meets the plane z = 3 m
    depth = np.full(DEMO_CAMERA.shape, 5.0, np.float32)
    for k, centre in enumerate(np.linspace(-1.5, 1.5, 8)):
        post = (np.abs(x - centre) < 0.12) & (y > -0.9) & (y < 0.8)
        depth[post] = 3.0 - 0.05 * k  # a little nearer from left to right
    pipeline = PosePipeline(shipped_estimator, max_people=4)
    people = pipeline.process_all(to_millimetres(depth), DEMO_CAMERA)
    assert len(people) == 4
    assert [round(p.box[0] / 10) for p in people] == sorted(
        (round(p.box[0] / 10) for p in people), reverse=True)  # the nearest four: the right

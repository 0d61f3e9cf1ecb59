"""The wide world: posture families within the joint limits, sensor models that change only
what they should, the dataset's labels, and the paper's world left byte for byte as it was."""
import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import ROOT, SHOULDERS
from depth_pose_ros.synth.body import (
    ELBOW_MAX_FLEXION_DEG,
    SHOULDER_MAX_EXTENSION_DEG,
    _arm_collides,
    build_bodies,
    sample_shapes,
    shoulder_positions,
)
from depth_pose_ros.synth.dataset import load_dataset, load_frame_labels
from depth_pose_ros.synth.generate import world_config, write_dataset
from depth_pose_ros.synth.placement import body_to_camera
from depth_pose_ros.synth.render import render_depth_culled
from depth_pose_ros.synth.postures import (
    BEHIND_MAX_EXTENSION_DEG,
    FAMILIES,
    sample_actions,
    sample_family_arms,
    sample_legs,
)
from depth_pose_ros.synth.sensors import (
    ISOLATION_BEHIND_M,
    SENSORS,
    apply_sensor,
    outline,
    projector_shadow,
)
from depth_pose_ros.synth.wide import (
    OTHER_PERSON,
    WideConfig,
    _body_up,
    _floor_height,
    _foot_points,
    _room,
    generate_wide,
    sample_yaw,
    source_camera,
)

# sha256 of the paper world's files for 700 frames, seed 3, written by the generator as it was
# before the wide world existed (commit 657e6b1): `--world paper` must stay byte for byte.
PAPER_WORLD_SHA256 = {
    "depth.npy": "dc8204acbdccf809f0c82e3434b52c23f4355a35ea4448c1eaf6eb8c181974b0",
    "joints3d.npy": "5ac2c70a4c951455775bd95de59a99f786e4c078f395080554031c16295c8388",
    "pixels.npy": "8160684ff062c4a0b145f9ee67bd5a9ea3ff10229931252794b6fceaa1af0a3c",
}


def test_paper_world_is_byte_identical_to_the_generator_before_the_wide_world(tmp_path):
    write_dataset(tmp_path, 700, seed=3, progress=False)
    for name, digest in PAPER_WORLD_SHA256.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name
    assert json.loads((tmp_path / "meta.json").read_text())["world"] == "paper"
    assert load_frame_labels(tmp_path) is None


def _angle_deg(u, v):
    cos = np.einsum("...i,...i", u, v) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.mark.parametrize("family", FAMILIES)
def test_each_posture_family_holds_the_joint_limits(family):
    rng = np.random.default_rng(FAMILIES.index(family))
    n = 400
    shape = sample_shapes(rng, n, (1.4, 2.0))
    index = np.full(n, FAMILIES.index(family))
    actions = sample_actions(rng, index)
    _, thighs = sample_legs(rng, shape, np.full(n, family == "seated"))
    arms = sample_family_arms(rng, shape, actions, thighs)
    shoulders = shoulder_positions(shape)
    upper_dir, fore_dir = arms.elbows - shoulders, arms.wrists - arms.elbows
    for bone, length in ((upper_dir, shape.upper_arm), (fore_dir, shape.forearm)):
        np.testing.assert_allclose(np.linalg.norm(bone, axis=-1),
                                   np.broadcast_to(length[:, None], (n, 2)))
    assert _angle_deg(upper_dir, fore_dir).max() <= ELBOW_MAX_FLEXION_DEG + 1e-6
    behind = np.degrees(np.arcsin(np.clip(-upper_dir[..., 2] / shape.upper_arm[:, None], -1, 1)))
    limit = np.where(actions == "behind", BEHIND_MAX_EXTENSION_DEG, SHOULDER_MAX_EXTENSION_DEG)
    assert (behind <= limit + 1e-6).all()
    for arm in range(2):
        assert not _arm_collides(shape, shoulders[:, arm], arms.elbows[:, arm],
                                 arms.wrists[:, arm], thighs).any()
    # And each family looks like its name: where the acting wrists are, relative to the body.
    wrist, shoulder = arms.wrists, shoulders
    acting = {"hanging": "hang", "spread": "spread", "behind_back": "behind", "waving": "wave",
              "head": "head", "folded": "fold"}.get(family)
    if acting:
        w, s = wrist[actions == acting], shoulder[actions == acting]
        check = {
            "hang": w[:, 1] < s[:, 1] - 0.4,  # far below the shoulder
            "spread": np.abs(w[:, 0]) > np.abs(s[:, 0]) + 0.3,  # far out to the side
            "behind": w[:, 2] < -0.05,  # behind the back
            "wave": w[:, 1] > s[:, 1],  # above the shoulder
            "head": w[:, 1] > s[:, 1],
            "fold": np.sign(w[:, 0]) != np.sign(s[:, 0]),  # across to the other side
        }[acting]
        assert check.mean() > 0.95, (family, check.mean())


def _step_scene():
    """A near box (2 m) in front of a far plane (3 m), 90 x 60 pixels."""
    depth = np.full((60, 90), 3.0, np.float32)
    depth[20:40, 30:50] = 2.0
    return depth


def test_projector_shadow_falls_on_one_side_only_as_wide_as_the_geometry():
    depth = _step_scene()
    fb = 100.0  # px m: the shadow is fb (1/2 - 1/3) = 16.7 px wide
    right = projector_shadow(depth, fb, +1)
    left = projector_shadow(depth, fb, -1)
    rows = right.any(axis=1)
    assert (np.flatnonzero(rows) == np.arange(20, 40)).all()  # only beside the box
    cols = np.flatnonzero(right[30])
    assert cols.min() >= 50 and abs(len(cols) - fb * (1 / 2 - 1 / 3)) <= 1.5
    assert np.flatnonzero(left[30]).max() < 30  # the other projector side: the other side
    assert not right[20:40, 30:50].any()  # never on the nearer surface itself


def test_outline_is_the_pixels_at_a_depth_jump():
    depth = _step_scene()
    depth[:, :5] = 0.0
    edge = outline(depth)
    assert edge[20:40, 30:50].sum() == 2 * 20 + 2 * 18  # the box's border ring
    assert edge[:, 5].all()  # beside the missing returns
    assert not edge[45:, 10:80].any()  # inside the plane


@pytest.mark.parametrize("sensor", SENSORS)
def test_sensor_models_change_only_what_they_should(sensor):
    rng = np.random.default_rng(SENSORS.index(sensor))
    depth = np.zeros((150, 180), np.float32)
    depth[30:120, 60:120] = 2.5  # a person-sized slab in empty space
    out = apply_sensor(sensor, depth, source_camera(PinholeCamera.virtual()), rng)
    if sensor == "ideal":
        np.testing.assert_array_equal(out, depth)
        return
    body = depth > 0
    changed_far = (out > 0) & ~body
    ring = np.zeros_like(body)
    ring[29:121, 59:121] = True
    assert (changed_far <= ring).all()  # nothing appears away from the outline
    inner = np.zeros_like(body)
    inner[40:110, 70:110] = True
    kept = out[inner & (out > 0)]
    assert len(kept) > 0.9 * inner.sum()  # the interior keeps most returns (holes are few)
    assert np.abs(np.median(kept) - 2.5) < 0.03  # and its depth, give or take noise and steps
    if sensor == "time_of_flight":
        # Flying pixels lie between the surface and the room behind it, within what the
        # isolation keeps.
        edge_values = out[outline(depth) & (out > 0)]
        assert edge_values.max() <= 2.5 + ISOLATION_BEHIND_M + 0.05
    if sensor == "structured_light":
        # Disparity steps: depth takes few distinct values before the noise (at 2.5 m a
        # 1/8-pixel step is 1 to 3 cm), so the spread stays near the noise of 0.5-1.3 cm.
        assert np.std(kept) < 0.03
    lost = body & (out == 0)
    border = outline(depth)
    assert lost[border].mean() > lost[inner].mean()  # returns drop along the outline


@pytest.fixture(scope="module")
def wide_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("wide")
    write_dataset(out, 600, seed=4, workers=1, config=WideConfig(), progress=False)
    return out


def test_wide_dataset_labels_and_ranges(wide_dataset):
    depth, joints3d, pixels, meta = load_dataset(wide_dataset)
    labels = load_frame_labels(wide_dataset)
    assert meta["world"] == "wide" and meta["label_names"]["family"] == list(FAMILIES)
    assert set(labels) == {"family", "sensor", "occluder", "yaw_deg", "zoom"}
    assert (labels["zoom"] == 1).all()  # no --zoom: the network's own camera
    assert all(len(v) == len(depth) for v in labels.values())
    assert len(np.unique(labels["family"])) == len(FAMILIES)  # every family in 600 frames
    assert len(np.unique(labels["sensor"])) == len(SENSORS)
    assert np.abs(labels["yaw_deg"]).max() > 120  # seen from behind too
    cam = PinholeCamera.virtual()
    # Labelled in the camera turned to the person: the mid-hip's distance from the optical
    # centre spans the sensor's 0.8-5 m in z, off axis up to its corners' angle.
    corner = np.hypot(cam.cx + 0.5, cam.cy + 0.5) / cam.fx
    reach = np.linalg.norm(joints3d[:, 0], axis=1)
    assert 0.8 <= reach.min() and reach.max() <= 5.0 * np.hypot(1.0, corner)
    assert reach.min() < 1.3 and reach.max() > 4.5
    assert not cam.in_view(pixels[:, 0]).all()  # near people's hips leave the picture
    np.testing.assert_allclose(pixels, cam.project(joints3d.astype(np.float64)), atol=1e-3)
    assert ((depth > 0).sum(axis=(1, 2)) > 0).all()


def test_wide_parts_switch_off():
    rng = np.random.default_rng(0)
    plain = generate_wide(rng, 40, WideConfig(postures=False, facing=False, framing=False,
                                              room=False, sensors=False, centred=False))
    assert (plain.family == FAMILIES.index("reach")).all() and (plain.sensor == 0).all()
    assert (plain.occluder == 0).all() and np.abs(plain.yaw_deg).max() <= 25
    z = plain.joints3d[:, 0, 2]
    assert z.min() >= 1.9 and z.max() <= 3.6


def test_a_person_in_front_hides_one_side_and_leaves_a_gap():
    """The same people with and without someone passing in front (drawn after the people, so
    both runs place the same bodies): the passer-by takes pixels away on one side of each row,
    changes no depth it leaves, and moves no joint. (A hand reaching nearer than them, or a
    far leg beside their legs, may show beyond them: most rows, not all.)"""
    plain = WideConfig(postures=False, facing=False, bodies=False, framing=False, room=False,
                       sensors=False, centred=False)
    alone = generate_wide(np.random.default_rng(5), 30, plain)
    passed = generate_wide(np.random.default_rng(5), 30, replace(plain, person_occluder_share=1.0))
    assert (passed.occluder == OTHER_PERSON).all()
    np.testing.assert_array_equal(passed.joints3d, alone.joints3d)
    kept = passed.depth > 0
    assert not (kept & (alone.depth == 0)).any()  # a gap, not a surface
    np.testing.assert_array_equal(passed.depth[kept], alone.depth[kept])
    hidden = (alone.depth > 0) & ~kept
    share = hidden.sum(axis=(1, 2)) / (alone.depth > 0).sum(axis=(1, 2))
    assert (share > 0).mean() > 0.8 and share.max() < 0.8 and 0.05 < share.mean() < 0.5
    cols = np.arange(kept.shape[2])
    for k in range(len(alone.depth)):  # in a row, the hidden pixels lie beyond the kept
        rows = np.flatnonzero(hidden[k].any(axis=1) & kept[k].any(axis=1))
        left = [cols[hidden[k, r]].max() < cols[kept[k, r]].min() for r in rows]
        right = [cols[hidden[k, r]].min() > cols[kept[k, r]].max() for r in rows]
        assert max(np.mean(left), np.mean(right)) >= 0.75 if len(rows) else True


def test_the_feet_cut_takes_only_what_lies_near_the_floor_as_the_nodes_floor_removal():
    """The same people with and without the feet cut (its draw comes after the people): where
    the feet are in the picture, most frames lose a few of their lowest pixels; nothing is
    added, no joint moves, and the body above the shins is untouched."""
    plain = WideConfig(postures=False, facing=False, bodies=False, framing=False, room=False,
                       sensors=False, zoom_reference=2.2)
    whole = generate_wide(np.random.default_rng(5), 30, plain)
    cut = generate_wide(np.random.default_rng(5), 30, replace(plain, feet_cut_share=1.0))
    np.testing.assert_array_equal(cut.joints3d, whole.joints3d)
    assert not ((cut.depth > 0) & (whole.depth == 0)).any()
    body = whole.depth > 0
    lost = body & (cut.depth == 0)
    feet_in_view = ~body[:, -1].any(axis=1)  # the rest reach the bottom border
    assert lost.any(axis=(1, 2))[feet_in_view].mean() > 0.6
    assert lost.sum() / body.sum() < 0.05
    rows = np.arange(body.shape[1])[:, None]
    for k in range(len(body)):
        top, bottom = rows[body[k].any(axis=1)].min(), rows[body[k].any(axis=1)].max()
        upper = rows < top + 0.7 * (bottom - top)  # the head to the thighs, in the picture
        np.testing.assert_array_equal(cut.depth[k] * upper, whole.depth[k] * upper)
        if lost[k].any():
            assert np.nonzero(lost[k])[0].min() >= top + 0.8 * (bottom - top)
    unused = generate_wide(np.random.default_rng(5), 30, replace(plain, feet_cut_share=0.0))
    np.testing.assert_array_equal(unused.depth, whole.depth)


def test_the_chest_cut_puts_the_image_top_between_the_shoulders_and_the_mid_hip():
    """Someone close to a low camera: the mid-hip 0.6-1.4 m away and in view, the shoulders'
    middle above the image, the body running out of the top row. Turned to the person as the
    node turns its camera, the shoulders' middle falls where the sensor saw nothing (but for a
    pixel or so at the cut's edge)."""
    plain = WideConfig(room=False, sensors=False, centred=False, chest_cut_share=1.0)
    frames = generate_wide(np.random.default_rng(3), 40, plain)
    camera = PinholeCamera.virtual()
    shoulders = frames.pixels[:, SHOULDERS].mean(axis=1)
    assert (shoulders[:, 1] < -0.5).all()
    assert camera.in_view(frames.pixels[:, ROOT]).all()
    assert ((0.6 <= frames.joints3d[:, ROOT, 2]) & (frames.joints3d[:, ROOT, 2] <= 1.4)).all()
    assert (frames.depth[:, 0] > 0).any(axis=1).all()
    turned = generate_wide(np.random.default_rng(3), 40, replace(plain, centred=True,
                                                                  zoom_reference=2.2))
    shoulders = np.round(turned.pixels[:, SHOULDERS].mean(axis=1)).astype(int)
    inside = camera.in_view(shoulders)
    assert inside.any()
    assert (turned.depth[inside, shoulders[inside, 1], shoulders[inside, 0]] == 0).mean() > 0.9
    mixed = generate_wide(np.random.default_rng(3), 120, replace(plain, chest_cut_share=0.3))
    above = mixed.pixels[:, SHOULDERS].mean(axis=1)[:, 1] < -0.5
    assert 0.15 < above.mean() < 0.45


def test_back_views_turn_their_share_away_and_leave_the_others_as_the_mixture_drew_them():
    """(At 0 nothing is drawn: test_the_floor_remnant_..._version_2_stays_as_it_was hashes
    frames drawn with the yaw mixture.)"""
    plain = WideConfig(room=False, sensors=False, centred=False)
    away = generate_wide(np.random.default_rng(4), 40, replace(plain, back_view_share=1.0))
    assert (np.abs(away.yaw_deg) >= 90).all() and (away.yaw_deg < 0).any() \
        and (away.yaw_deg > 0).any()
    mixed = generate_wide(np.random.default_rng(4), 200, replace(plain, back_view_share=0.4))
    # the mixture alone turns a tenth away
    assert 0.35 < (np.abs(mixed.yaw_deg) >= 90).mean() < 0.65
    drawn = sample_yaw(np.random.default_rng(4), 500, plain)
    turned = sample_yaw(np.random.default_rng(4), 500, replace(plain, back_view_share=0.4))
    changed = turned != drawn  # the rest keep the mixture's yaw; each keeps its side
    assert 0.3 < changed.mean() < 0.5 and (np.abs(turned[changed]) >= 90).all()
    np.testing.assert_array_equal(np.sign(turned), np.sign(drawn))


def test_a_training_record_names_the_world_options_a_dataset_was_drawn_with(tmp_path):
    from depth_pose_ros.synth.dataset import describe_dataset
    wide = write_dataset(tmp_path / "wide", 8, seed=2, progress=False,
                         config=WideConfig(zoom_reference=2.2, chest_cut_share=0.5))
    assert describe_dataset(wide) == {"count": 8, "seed": 2, "generator_version": 3,
                                      "zoom_reference": 2.2, "chest_cut_share": 0.5}
    paper = write_dataset(tmp_path / "paper", 8, seed=3, progress=False)
    assert describe_dataset(paper) == {"count": 8, "seed": 3, "generator_version": 1,
                                       "zoom_reference": 0.0}


# sha256 of wide frames (60, seed 9, zoomed, people in front, feet cut) written by version 2,
# before the floor moved to the soles (commit b557897): floor_under_feet False must keep them.
WIDE_VERSION_2_SHA256 = ("fb0328daecf2568faeb43a788648701d8c887c23eb6be2ee91bcfa8f10f76776",
                         "1119b0a4304665266db485b3b0c3ee288c1e9b917b6f461337776aeee09f3810")


def test_the_floor_remnant_lies_at_the_soles_and_version_2_stays_as_it_was(tmp_path):
    """Version 3 lays the floor patch at the soles of the lowest foot, also when the other foot
    steps; version 2 laid it through the highest foot point, so a raised foot lifted it. With
    floor_under_feet False (synth --generator-version 2) version 2's frames stay byte for byte."""
    rng = np.random.default_rng(4)
    n = 40
    shape = sample_shapes(rng, n, (1.5, 2.0))
    legs, thighs = sample_legs(rng, shape, np.zeros(n, bool))
    arms = sample_family_arms(rng, shape, sample_actions(rng, np.zeros(n, int)), thighs)
    upright = body_to_camera(rng, np.zeros(n), (0.0, 0.0), (0.0, 0.0))
    bodies = build_bodies(rng, shape, arms, legs).transformed(upright, np.tile([0, 0.2, 3.5], (n, 1)))
    camera = source_camera(PinholeCamera.virtual())
    person = render_depth_culled(camera, bodies)
    feet, up = _foot_points(bodies), _body_up(bodies)
    np.testing.assert_allclose(up, np.tile([0, -1.0, 0], (n, 1)), atol=1e-9)  # y down: up is -y
    highest = (feet @ up[:, :, None])[..., 0].max(axis=1)
    assert np.ptp(feet @ up[:, :, None], axis=(1, 2)).max() > 0.05  # someone steps
    v, u = np.indices(camera.shape)
    for floor_under_feet in (True, False):
        depth = person.copy()
        config = WideConfig(floor_share=1.0, wall_share=0.0, floor_under_feet=floor_under_feet)
        _room(np.random.default_rng(0), depth, bodies, camera, config)
        for i in range(n):
            floor = depth[i] != person[i]
            assert floor.sum() > 50
            heights = camera.back_project(u[floor], v[floor], depth[i][floor]) @ up[i]
            sole = _floor_height(bodies, feet, up, i)
            np.testing.assert_allclose(heights, sole if floor_under_feet else highest[i],
                                       atol=2e-3)
            assert highest[i] - sole > 0.01  # so the two versions' floors differ
    frames = generate_wide(np.random.default_rng(9), 60, WideConfig(
        zoom_reference=2.2, person_occluder_share=0.15, feet_cut_share=0.5, floor_under_feet=False))
    assert (hashlib.sha256(frames.depth.tobytes()).hexdigest(),
            hashlib.sha256(frames.joints3d.tobytes()).hexdigest()) == WIDE_VERSION_2_SHA256
    # meta.json says which: version 2's frames are labelled version 2, and read back as such
    for version, floor_under_feet in ((2, False), (3, True)):
        out = tmp_path / f"v{version}"
        write_dataset(out, 4, seed=1, config=WideConfig(floor_under_feet=floor_under_feet),
                      progress=False)
        meta = json.loads((out / "meta.json").read_text())
        assert meta["generator_version"] == version
        assert world_config(meta).floor_under_feet is floor_under_feet
        del meta["scene"]["floor_under_feet"]  # as a version 2 dataset's meta.json has it
        assert world_config(meta).floor_under_feet is (version == 3)


def test_centred_view_looks_at_the_person_and_leaves_the_sensors_unseen_part_empty():
    """As the node's turned camera: the person's visible surface in the middle, whatever their
    place in the sensor's view; unturned (centred=False) they lie anywhere in it."""
    from depth_pose_ros.runtime.reproject import look_at
    from depth_pose_ros.synth.wide import _seen_by_sensor

    cam = PinholeCamera.virtual()
    v, u = np.indices(cam.shape)

    def surface_columns(scenes):
        body = scenes.depth > 0
        return np.array([u[b].mean() for b in body])

    centred = generate_wide(np.random.default_rng(8), 60, WideConfig(room=False))
    loose = generate_wide(np.random.default_rng(8), 60, WideConfig(room=False, centred=False))
    assert np.median(np.abs(surface_columns(centred) - cam.cx)) < 2.0
    assert np.median(np.abs(surface_columns(loose) - cam.cx)) > 5.0
    assert np.abs(centred.pixels[:, 0, 0] - cam.cx).max() < np.abs(loose.pixels[:, 0, 0] -
                                                                    cam.cx).max()
    # Turned 20 degrees right: along the middle row, the sensor's right edge falls inside.
    seen = _seen_by_sensor(cam, cam, look_at(np.array([np.tan(np.radians(20.0)), 0.0, 1.0])))
    edge = cam.cx + cam.fx * np.tan(np.arctan((cam.cx + 0.5) / cam.fx) - np.radians(20.0))
    middle = seen[int(cam.cy)]
    assert middle[: int(edge) - 1].all() and not middle[int(edge) + 2:].any()
    assert seen[:, :20].all() and not seen[:, 50:].any()


def test_zoom_gives_far_people_the_pixels_near_ones_have():
    """synth --zoom: the same people (same seed) in the same turned frame, each seen through
    the network's camera zoomed to their distance, as the node does for such a model."""
    from depth_pose_ros.runtime.reproject import ZOOM_LEVELS, zoom_level, zoom_scale

    cam = PinholeCamera.virtual()
    plain = generate_wide(np.random.default_rng(9), 120, WideConfig(room=False))
    zoomed = generate_wide(np.random.default_rng(9), 120, WideConfig(room=False,
                                                                      zoom_reference=2.2))
    np.testing.assert_array_equal(zoomed.joints3d, plain.joints3d)  # zoom moves no joint
    assert (plain.zoom == 1).all()
    distance = np.linalg.norm(plain.joints3d[:, 0], axis=1)
    # the zoom follows the distance, in steps, within its range
    assert np.corrcoef(np.log(zoomed.zoom), np.log(distance))[0, 1] > 0.9
    assert zoom_scale(ZOOM_LEVELS[0]) - 1e-6 <= zoomed.zoom.min()
    assert zoomed.zoom.max() <= zoom_scale(ZOOM_LEVELS[1]) + 1e-6
    assert zoom_level(2.2, 2.2) == 0 and zoom_level(4.4, 2.2) == 14 and zoom_level(9.0, 0) == 0
    # labels: each frame's pixels are its zoomed camera's projection
    for i in range(0, 120, 7):
        np.testing.assert_allclose(zoomed.pixels[i], cam.zoomed(float(zoomed.zoom[i])).project(
            zoomed.joints3d[i].astype(np.float64)), atol=1e-3)
    body = (plain.depth > 0).sum(axis=(1, 2)), (zoomed.depth > 0).sum(axis=(1, 2))
    far, near = distance > 3.5, distance < 1.5
    assert np.median(body[1][far]) > 2.5 * np.median(body[0][far])
    assert np.median(body[1][near]) < np.median(body[0][near])
    # the people's sizes in pixels spread less than without zoom
    spread = [np.std(np.log(b[distance > 1.5])) for b in body]
    assert spread[1] < 0.7 * spread[0]


def test_each_chunk_renders_on_one_blas_thread(tmp_path, blas_threads_in):
    """The wide world's renders are products OpenBLAS would spread over every core, where its
    idle threads then spin against synth's other workers (two workers were slower than one)."""
    from depth_pose_ros.synth import generate

    threads = blas_threads_in(generate, "generate_wide")
    write_dataset(tmp_path, 4, seed=1, config=WideConfig(), progress=False)
    assert threads == [{1}]

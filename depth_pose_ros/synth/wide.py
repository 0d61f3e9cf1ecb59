"""The wide synthetic world (`depth-pose synth --world wide`): what a robot's depth camera sees.

The paper's world (synth.SceneConfig) is one isolated person reaching forward, near-frontal, 1.9
to 3.6 m away, drawn with a perfect outline. Here, each part its own switch (WideConfig):
- postures: the named families of postures.py mixed with the paper's reaching;
- facing: yaw over the full circle, weighted towards the camera; with back_view_share > 0, that
  share of frames turned away (90 to 180 degrees), where the model is weakest;
- bodies: heights 1.4 to 2.0 m, wider girth, loose sleeves, coats, skirts and dresses, hair, and
  a nose (the face's one depth cue; with the toes and the knees it tells front from back);
- framing: the mid-hip 0.8 to 5 m away; near the camera only the torso need be in the picture;
  with chest_cut_share > 0, someone close to a low camera, cut by the image's top at the chest;
- room: what the node's person isolation leaves of a real room: a floor remnant under the feet,
  a piece of wall touching the outline, an occluder in front (a table edge, a chair back,
  another person's arm) kept or cut away;
- sensors: structured light and time of flight (sensors.py) applied at SOURCE_SCALE times the
  network's resolution, then through the node's own reprojection (reproject.VirtualView) into
  60 x 50, the path real frames take;
- centred: as the node does (pipeline.PosePipeline), the network's camera is turned about the
  optical centre to look at the mean of the person's visible surface; what the sensor (the
  unturned camera) does not see stays empty. Joints are labelled in the turned camera's frame.
- zoom (zoom_reference > 0, needs centred): that camera zoomed to the person's distance, as the
  node does for a model trained so (reproject.zoom_level); the sensor models then work at the
  zoomed camera's SOURCE_SCALE times its resolution.
Per-frame labels (family, sensor, yaw, occluder) are returned for evaluation by bins.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import ROOT, SHOULDERS
from depth_pose_ros.runtime.person import PersonFilter
from depth_pose_ros.runtime.reproject import VirtualView, look_at, zoom_level, zoom_scale
from depth_pose_ros.synth.body import (
    CAPSULE_PARTS,
    ELLIPSOID_PARTS,
    Body,
    build_bodies,
    sample_shapes,
)
from depth_pose_ros.synth.placement import body_to_camera, keep_in_view_points, place_in_view
from depth_pose_ros.synth.postures import (
    FAMILIES,
    FAMILY_WEIGHTS,
    sample_actions,
    sample_family_arms,
    sample_legs,
)
from depth_pose_ros.synth.render import render_depth_culled
from depth_pose_ros.synth.sensors import SENSOR_WEIGHTS, SENSORS, apply_sensor

SOURCE_SCALE = 3  # source pixels per virtual pixel along each axis (real sensors: 7 to 11)
# Yaw mixture: (weight, half-width in degrees) of uniform ranges about facing the camera.
YAW_MIXTURE = ((0.45, 30.0), (0.35, 90.0), (0.20, 180.0))
OCCLUDERS = ("none", "table_edge", "chair_back", "other_arm", "other_person")
OTHER_PERSON = OCCLUDERS.index("other_person")  # the kinds before it are the room's
# Chest-cut framing: the mid-hip this far away (m) and this far inside the image (pixels); the
# image's top crosses the body this far (a share) from the shoulders' middle to the mid-hip.
CHEST_CUT_DISTANCE = (0.6, 1.4)
CHEST_CUT_MARGIN_PX = 4.0
CHEST_CUT_DEPTH = (0.0, 0.8)
FOOT_CAPSULES = [CAPSULE_PARTS.index("right_foot"), CAPSULE_PARTS.index("left_foot")]
# Extra primitives appended to every body (unused ones shrink to nothing inside the pelvis).
EXTRA_CAPSULES = ("occluder_capsule", "stool_leg")
EXTRA_ELLIPSOIDS = ("nose", "hair", "skirt", "held_object", "seat", "chair_back",
                    "occluder_ellipsoid")


@dataclass(frozen=True)
class WideConfig:
    """The wide world's parts (each can be switched off) and its ranges."""

    postures: bool = True
    facing: bool = True
    bodies: bool = True
    framing: bool = True
    room: bool = True
    sensors: bool = True
    centred: bool = True
    # > 0: each person seen through a camera zoomed to their distance (reproject.zoom_level),
    # as the node does for a model trained so; 0: the network's own camera (as version 2 had it)
    zoom_reference: float = 0.0
    height_range: tuple[float, float] = (1.4, 2.0)
    girth_range: tuple[float, float] = (0.8, 1.6)
    root_distance: tuple[float, float] = (0.8, 5.0)
    camera_pitch: tuple[float, float] = (-15.0, 15.0)  # robots' cameras look up or down
    camera_roll: tuple[float, float] = (-5.0, 5.0)
    whole_figure_share: float = 0.6  # frames placed with all but the arms in view, when it fits
    torso_margin_px: float = 6.0  # otherwise the neck and chest stay this far inside the image
    floor_share: float = 0.35
    wall_share: float = 0.25
    occluder_share: float = 0.25
    cut_occluder_share: float = 0.5  # occluders the isolation removes (leaving a gap)
    # someone passing in front, to one side (the node removes them: always a gap); on its own
    # share, room or not; 0 draws nothing, so earlier frames stay as they were
    person_occluder_share: float = 0.0
    # the feet cut away as the node's floor removal cuts them (all within its tolerance of the
    # floor, the floor remnant too); 0 draws nothing, so earlier frames stay as they were
    feet_cut_share: float = 0.0
    # someone close to a low camera (a robot's, about 1 m up): the image's top cuts them between
    # the shoulders and the mid-hip, so the head and shoulders are out of the picture; 0 draws
    # nothing, so earlier frames stay as they were
    chest_cut_share: float = 0.0
    # this share of frames turned away from the camera, |yaw| 90-180 degrees (needs facing); 0
    # draws nothing, so earlier frames stay as they were
    back_view_share: float = 0.0
    floor_tolerance: float = PersonFilter.floor_tolerance
    # the floor remnant lies at the soles under the lowest foot (version 3); False: through the
    # highest foot's axis point, as version 2 drew it (a stepping foot lifted the floor)
    floor_under_feet: bool = True

    def weights(self) -> dict:
        """What meta.json records of the mix."""
        return {"families": FAMILY_WEIGHTS if self.postures else {"reach": 1.0},
                "yaw_mixture_deg": [list(m) for m in YAW_MIXTURE] if self.facing else [[1.0, 25.0]],
                "sensors": SENSOR_WEIGHTS if self.sensors else {"ideal": 1.0},
                "occluders": OCCLUDERS,
                "person_occluder_share": self.person_occluder_share,
                "feet_cut_share": self.feet_cut_share,
                "chest_cut_share": self.chest_cut_share,
                "back_view_share": self.back_view_share}


@dataclass(frozen=True)
class WideScenes:
    depth: np.ndarray  # (N, 50, 60) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, 7, 3) float32
    pixels: np.ndarray  # (N, 7, 2) float32
    family: np.ndarray  # (N,) uint8 index into postures.FAMILIES
    sensor: np.ndarray  # (N,) uint8 index into sensors.SENSORS
    occluder: np.ndarray  # (N,) uint8 index into OCCLUDERS
    yaw_deg: np.ndarray  # (N,) float32, 0 = facing the camera
    zoom: np.ndarray  # (N,) float32: the frame's camera is the network's, its focal times this


def source_camera(virtual: PinholeCamera, scale: int = SOURCE_SCALE) -> PinholeCamera:
    """The virtual camera's field of view at scale x its resolution; its pixel centres sit at
    the centres of scale x scale blocks of the virtual pixels, so the reprojection reads the
    block's centre (nearest neighbour), as the node does with a real sensor."""
    return PinholeCamera(virtual.width * scale, virtual.height * scale, virtual.fx * scale,
                         virtual.fy * scale, virtual.cx * scale + (scale - 1) / 2,
                         virtual.cy * scale + (scale - 1) / 2)


def sample_yaw(rng: np.random.Generator, n: int, config: WideConfig) -> np.ndarray:
    """(N,) degrees: the mixture of YAW_MIXTURE (facing), back_view_share of them turned away,
    or the paper's +-25."""
    if not config.facing:
        return rng.uniform(-25.0, 25.0, n)
    weights, half = np.array(YAW_MIXTURE).T
    pick = rng.choice(len(weights), n, p=weights / weights.sum())
    yaw = rng.uniform(-1.0, 1.0, n) * half[pick]
    if config.back_view_share > 0:  # (0 draws nothing: earlier frames stay as they were)
        away = rng.random(n) < config.back_view_share
        yaw = np.where(away, np.copysign(rng.uniform(90.0, 180.0, n), yaw), yaw)
    return yaw


def _widen_shapes(rng, shape, config: WideConfig):
    if not config.bodies:
        return shape
    girth = rng.uniform(*config.girth_range, len(shape))
    return replace(shape, torso_girth=girth, limb_girth=girth * rng.uniform(0.9, 1.1, len(shape)))


def _foot_points(bodies: Body) -> np.ndarray:
    """(N, 4, 3) both feet's capsule ends (heel and toe of each)."""
    return bodies.capsules[:, FOOT_CAPSULES].reshape(len(bodies), -1, 3)


def _body_up(bodies: Body) -> np.ndarray:
    """(N, 3) the body's up in the camera frame (the pelvis's axes are the body's, y up)."""
    return bodies.ellipsoid_axes[:, ELLIPSOID_PARTS.index("pelvis"), :, 1]


def _floor_height(bodies: Body, feet: np.ndarray, up: np.ndarray, i: int) -> float:
    """Where the floor is under person i, as a height along up: at the soles of the lowest
    foot (its lowest axis point less half the foot's radius, as scenes.render_room stands them)."""
    return (feet[i] @ up[i]).min() - 0.5 * bodies.capsule_radii[i, FOOT_CAPSULES].max()


def _unit_axes(n):
    return np.broadcast_to(np.eye(3), (n, 3, 3)).copy()


def _dress(rng, bodies: Body, family: np.ndarray, config: WideConfig) -> Body:
    """Append EXTRA_CAPSULES and EXTRA_ELLIPSOIDS (body frame): clothing, hair, nose, the held
    object, the chair; loose sleeves widen the arms. Unused extras get no size."""
    n = len(bodies)
    names = np.asarray(FAMILIES)[family]
    head = ELLIPSOID_PARTS.index("head")
    pelvis = ELLIPSOID_PARTS.index("pelvis")
    root = bodies.ellipsoid_centres[:, pelvis]
    caps = np.repeat(root[:, None, None], 2, axis=2).repeat(len(EXTRA_CAPSULES), axis=1)
    cap_r = np.full((n, len(EXTRA_CAPSULES)), 1e-4)
    centres = np.repeat(root[:, None], len(EXTRA_ELLIPSOIDS), axis=1).copy()
    axes = np.repeat(_unit_axes(n)[:, None], len(EXTRA_ELLIPSOIDS), axis=1)
    radii = np.full((n, len(EXTRA_ELLIPSOIDS), 3), 1e-4)
    capsule_radii = bodies.capsule_radii.copy()
    ell_radii = bodies.ellipsoid_radii.copy()

    def put(name, centre, radius, axis=None, where=None):
        k = EXTRA_ELLIPSOIDS.index(name)
        where = np.ones(n, bool) if where is None else where
        centres[where, k] = centre[where]
        radii[where, k] = radius[where]
        if axis is not None:
            axes[where, k] = axis[where]

    head_c, head_axes = bodies.ellipsoid_centres[:, head], bodies.ellipsoid_axes[:, head]
    head_r = bodies.ellipsoid_radii[:, head]
    if config.bodies:
        # Nose: on the face, along the head's forward axis.
        nose = head_c + head_axes[..., 2] * (0.93 * head_r[:, 2:3]) - head_axes[..., 1] * 0.015
        put("nose", nose, np.tile([0.013, 0.022, 0.02], (n, 1)), head_axes)
        # Hair: short (a slightly larger head) or long (down the back of the head and neck).
        long_hair = rng.random(n) < 0.35
        hair = rng.random(n) < 0.75
        grow = np.where(long_hair[:, None], [1.12, 1.35, 1.1], [1.07, 1.04, 1.06])
        shift = np.where(long_hair[:, None], [0.0, -0.06, -0.035], [0.0, 0.012, -0.012])
        put("hair", head_c + np.einsum("nij,nj->ni", head_axes, shift), head_r * grow, head_axes,
            hair)
        # Loose sleeves and coats widen the outline; skirts and dresses hide the thighs' gap.
        sleeves = rng.random(n) < 0.4
        arm_parts = [CAPSULE_PARTS.index(p) for p in ("right_upper_arm", "right_forearm",
                                                      "left_upper_arm", "left_forearm")]
        capsule_radii[:, arm_parts] *= np.where(sleeves, rng.uniform(1.15, 1.6, n), 1.0)[:, None]
        coat = rng.random(n) < 0.3
        torso = [ELLIPSOID_PARTS.index(p) for p in ("chest", "abdomen", "pelvis")]
        ell_radii[:, torso] *= np.where(coat[:, None], rng.uniform(1.05, 1.2, (n, 1)),
                                        1.0)[:, None]
        thighs = [CAPSULE_PARTS.index("right_thigh"), CAPSULE_PARTS.index("left_thigh")]
        knees = bodies.capsules[:, thighs, 1].mean(axis=1)
        hips = bodies.capsules[:, thighs, 0].mean(axis=1)
        skirt = (rng.random(n) < 0.22) & (names != "seated")
        length = rng.uniform(0.5, 1.1, n)[:, None]
        hem = hips + (knees - hips) * length
        skirt_r = np.stack([bodies.ellipsoid_radii[:, pelvis, 0] + rng.uniform(0.02, 0.1, n),
                            np.linalg.norm(hem - hips, axis=1) / 2 + 0.08,
                            bodies.ellipsoid_radii[:, pelvis, 2] + rng.uniform(0.02, 0.08, n)], -1)
        put("skirt", (hips + hem) / 2, skirt_r, where=skirt)
    holding = names == "holding"
    hands = [ELLIPSOID_PARTS.index("right_hand"), ELLIPSOID_PARTS.index("left_hand")]
    between = bodies.ellipsoid_centres[:, hands].mean(axis=1) + np.array([0.0, 0.0, 0.03])
    held = np.stack([rng.uniform(0.05, 0.15, n), rng.uniform(0.03, 0.12, n),
                     rng.uniform(0.02, 0.08, n)], -1)
    put("held_object", between, held, where=holding)
    seated = names == "seated"
    if seated.any():
        pr = bodies.ellipsoid_radii[:, pelvis]
        seat_c = root + np.stack([np.zeros(n), -(pr[:, 1] * 0.9 + 0.035), 0.08 * np.ones(n)], -1)
        put("seat", seat_c, np.tile([0.23, 0.035, 0.23], (n, 1)), where=seated)
        back = seated & (rng.random(n) < 0.6)
        back_c = root + np.stack([np.zeros(n), 0.28 * np.ones(n), -(pr[:, 2] + 0.07)], -1)
        put("chair_back", back_c, np.tile([0.21, 0.22, 0.025], (n, 1)), where=back)
        floor_y = _foot_points(bodies)[..., 1].min(axis=1)
        leg = np.stack([seat_c, np.stack([seat_c[:, 0], floor_y, seat_c[:, 2]], -1)], axis=1)
        k = EXTRA_CAPSULES.index("stool_leg")
        caps[seated, k] = leg[seated]
        cap_r[seated, k] = 0.03
    return Body(bodies.joints,
                np.concatenate([bodies.capsules, caps], axis=1),
                np.concatenate([capsule_radii, cap_r], axis=1),
                np.concatenate([bodies.ellipsoid_centres, centres], axis=1),
                np.concatenate([bodies.ellipsoid_axes, axes], axis=1),
                np.concatenate([ell_radii, radii], axis=1))


def _place_occluders(rng, bodies: Body, config: WideConfig) -> np.ndarray:
    """In the camera frame, between the camera and the person: sets the occluder extras'
    geometry in place and returns (N,) OCCLUDERS indices."""
    n = len(bodies)
    kind = np.where(rng.random(n) < config.occluder_share if config.room else np.zeros(n, bool),
                    rng.integers(1, OTHER_PERSON, n), 0)
    if config.person_occluder_share > 0:
        kind[rng.random(n) < config.person_occluder_share] = OTHER_PERSON
    root = bodies.joints[:, 0]
    shoulders = bodies.joints[:, SHOULDERS].mean(axis=1)
    cap = len(CAPSULE_PARTS) + EXTRA_CAPSULES.index("occluder_capsule")
    ell = len(ELLIPSOID_PARTS) + EXTRA_ELLIPSOIDS.index("occluder_ellipsoid")
    for i in np.flatnonzero(kind):
        name = OCCLUDERS[kind[i]]
        if name == "other_person":
            _place_person_in_front(rng, bodies, i, root[i], shoulders[i], cap, ell)
            continue
        gap = rng.uniform(0.15, 0.6)
        z = max(root[i, 2] - gap, 0.45)
        if name == "table_edge":  # a horizontal edge at the hips to the chest
            y = root[i, 1] - rng.uniform(0.0, 0.6) * abs(root[i, 1] - shoulders[i, 1])
            half = rng.uniform(0.5, 2.0)
            bodies.capsules[i, cap] = [[root[i, 0] - half, y, z], [root[i, 0] + half, y, z]]
            bodies.capsule_radii[i, cap] = rng.uniform(0.025, 0.05)
        elif name == "chair_back":  # a chair back in front of the lower body
            centre = root[i] + [rng.uniform(-0.2, 0.2), rng.uniform(-0.1, 0.1), 0.0]
            centre[2] = z
            bodies.ellipsoid_centres[i, ell] = centre
            bodies.ellipsoid_axes[i, ell] = np.eye(3)
            bodies.ellipsoid_radii[i, ell] = [rng.uniform(0.15, 0.25), rng.uniform(0.12, 0.25),
                                              0.025]
        else:  # another person's arm across the picture at chest height
            side = rng.choice([-1.0, 1.0])
            start = shoulders[i] + [side * rng.uniform(0.5, 1.0), rng.uniform(-0.2, 0.3), 0.0]
            end = shoulders[i] + [side * rng.uniform(-0.2, 0.2), rng.uniform(-0.1, 0.4), 0.0]
            start[2], end[2] = z, z + rng.uniform(-0.1, 0.1)
            bodies.capsules[i, cap] = [start, end]
            bodies.capsule_radii[i, cap] = rng.uniform(0.035, 0.055)
    return kind.astype(np.uint8)


def _place_person_in_front(rng, bodies: Body, i: int, root: np.ndarray, shoulders: np.ndarray,
                           cap: int, ell: int) -> None:
    """Frame i's occluder extras (given its mid-hip and shoulders' middle) as a person standing
    0.3-1.5 m nearer, to one side: a torso ellipsoid and a legs capsule whose inner edge falls
    between the person's middle and 0.3 m out (at the person's depth, along the ray), so that
    up to about half of them is hidden."""
    z = max(root[2] - rng.uniform(0.3, 1.5), 0.45)
    side = rng.choice([-1.0, 1.0])
    edge = (root[0] + side * rng.uniform(-0.05, 0.3)) * z / root[2]
    half_width, half_height = rng.uniform(0.17, 0.25), rng.uniform(0.35, 0.5)
    # Heights above a shared floor keep their camera y whatever the depth (y points down).
    centre = np.array([edge + side * half_width,
                       (shoulders[1] + root[1]) / 2 + rng.normal(0.0, 0.1), z])
    bodies.ellipsoid_centres[i, ell] = centre
    bodies.ellipsoid_axes[i, ell] = np.eye(3)
    bodies.ellipsoid_radii[i, ell] = [half_width, half_height, rng.uniform(0.12, 0.18)]
    hips = centre + [0.0, 0.8 * half_height, 0.0]
    bodies.capsules[i, cap] = [hips, hips + [0.0, 0.9, 0.0]]
    bodies.capsule_radii[i, cap] = rng.uniform(0.1, 0.15)


def _orient_and_place(rng, bodies: Body, yaw_deg, config: WideConfig, camera: PinholeCamera):
    """Rotate into the camera frame and shift into view; returns (placed bodies, ok)."""
    n = len(bodies)
    rotation = body_to_camera(rng, yaw_deg, config.camera_pitch, config.camera_roll)
    oriented = bodies.transformed(rotation, np.zeros((n, 3)))
    z = rng.uniform(*(config.root_distance if config.framing else (1.9, 3.6)), n)
    whole_root, whole_ok = place_in_view(rng, camera, keep_in_view_points(oriented), z, 0.5)
    chest = oriented.ellipsoid_centres[:, ELLIPSOID_PARTS.index("chest")]
    torso = np.stack([oriented.joints[:, SHOULDERS].mean(axis=1), chest], axis=1)
    torso_root, torso_ok = place_in_view(rng, camera, torso, z, config.torso_margin_px)
    whole = whole_ok & (rng.random(n) < config.whole_figure_share if config.framing else True)
    root = np.where(whole[:, None], whole_root, torso_root)
    ok = whole | (torso_ok & config.framing)
    if config.chest_cut_share > 0:
        cut = rng.random(n) < config.chest_cut_share
        cut_root, cut_ok = _place_chest_cut(rng, camera, oriented)
        root = np.where(cut[:, None], cut_root, root)
        ok = np.where(cut, cut_ok, ok)
    return oriented.transformed(_unit_axes(n), root), ok


def _place_chest_cut(rng, camera: PinholeCamera, oriented: Body):
    """(N, 3) root positions, (N,) ok: the mid-hip CHEST_CUT_DISTANCE away and in view, the
    image's top edge crossing the line from the shoulders' middle to the mid-hip (root-relative
    bodies in the camera's axes)."""
    n = len(oriented)
    z = rng.uniform(*CHEST_CUT_DISTANCE, n)
    mid_hip = oriented.joints[:, ROOT]
    root, ok = place_in_view(rng, camera, mid_hip[:, None], z, CHEST_CUT_MARGIN_PX)
    shoulders = oriented.joints[:, SHOULDERS].mean(axis=1)
    crossing = shoulders + rng.uniform(*CHEST_CUT_DEPTH, n)[:, None] * (mid_hip - shoulders)
    # v = fy y / z + cy is the image's top (-0.5) at the crossing point
    root[:, 1] = (-0.5 - camera.cy) * (crossing[:, 2] + z) / camera.fy - crossing[:, 1]
    hip_v = camera.fy * (mid_hip[:, 1] + root[:, 1]) / (mid_hip[:, 2] + z) + camera.cy
    nearest = (keep_in_view_points(oriented)[..., 2] + z[:, None]).min(axis=1)
    return root, ok & (hip_v <= camera.height - 0.5 - CHEST_CUT_MARGIN_PX) & (nearest > 0.3)


def _turn_to_person(rng, bodies: Body, camera: PinholeCamera, body_only_labels):
    """(N, 3, 3) the rotations (turned axes as columns) that look at each person's visible
    surface mean, measured in a render at the camera's own resolution (as the node measures it
    in its overview), without the occluder extras; a centimetre of jitter for the isolation's.
    Also (N,) that mean's distance (what the node's zoom follows)."""
    depth, labels = render_depth_culled(camera, bodies, with_labels=True)
    v, u = np.indices(camera.shape, dtype=np.float64)
    rotations, distances = np.empty((len(bodies), 3, 3)), np.empty(len(bodies))
    for i in range(len(bodies)):
        seen = (depth[i] > 0) & np.isin(labels[i], body_only_labels)
        centre = (camera.back_project(u[seen], v[seen], depth[i][seen]).mean(axis=0)
                  if seen.any() else bodies.joints[i, 0].copy())
        centre[:2] += rng.normal(0.0, 0.01, 2)
        rotations[i], distances[i] = look_at(centre), np.linalg.norm(centre)
    return rotations, distances


def _seen_by_sensor(turned: PinholeCamera, sensor: PinholeCamera,
                    rotation: np.ndarray) -> np.ndarray:
    """(H, W) bool: the turned camera's pixels whose rays fall inside the sensor's image (the
    unturned, unzoomed camera's field of view)."""
    v, u = np.indices(turned.shape, dtype=np.float64)
    rays = turned.back_project(u, v, np.ones(turned.shape)) @ rotation.T
    ahead = rays[..., 2] > 1e-6
    at = sensor.project(np.where(ahead[..., None], rays, 1.0))
    return ahead & sensor.in_view(at)


def _room(rng, depth, bodies: Body, camera: PinholeCamera, config: WideConfig):
    """What the person isolation leaves of a room, composited behind the body (in place):
    a floor patch around the feet, and a fronto-parallel piece of wall beside the outline."""
    n = len(depth)
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    feet = _foot_points(bodies)
    up = _body_up(bodies)
    for i in np.flatnonzero(rng.random(n) < config.floor_share):
        if config.floor_under_feet:
            height = _floor_height(bodies, feet, up, i)
        else:  # version 2: through the foot axis point highest up
            height = (feet[i] @ up[i]).max()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = height / (rays @ up[i])
        point = rays * t[..., None]
        centre = feet[i].mean(axis=0)
        near = np.linalg.norm(point - centre, axis=-1) < rng.uniform(0.2, 0.6)
        floor = np.where((t > 0) & near, point[..., 2], 0.0).astype(np.float32)
        _behind(depth[i], floor)
    body = depth > 0
    for i in np.flatnonzero((rng.random(n) < config.wall_share) & body.any(axis=(1, 2))):
        rows, cols = np.nonzero(body[i])
        h, w = camera.shape
        side = rng.integers(0, 2)
        width = int(rng.uniform(0.05, 0.35) * w)
        edge = cols.min() if side == 0 else cols.max()
        c0, c1 = (max(edge - width, 0), edge + 2) if side == 0 else (edge - 1, min(edge + width, w))
        top = int(rng.uniform(rows.min(), rows.max()))
        r0, r1 = top, min(h, top + int(rng.uniform(0.1, 0.6) * h))
        wall = np.zeros(camera.shape, np.float32)
        wall[r0:r1, c0:c1] = np.median(depth[i][body[i]]) + rng.uniform(0.02, 0.15)
        _behind(depth[i], wall)


def _cut_feet(depth, bodies: Body, camera: PinholeCamera, tolerance: float, frames) -> None:
    """In the given frames, remove (in place) what lies within tolerance of the floor under the
    lowest foot, as the node's floor removal does: the soles and ankles, and any floor remnant."""
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    feet = _foot_points(bodies)
    up = _body_up(bodies)
    for i in frames:
        height = (rays * depth[i][..., None]) @ up[i] - _floor_height(bodies, feet, up, i)
        depth[i][(depth[i] > 0) & (height <= tolerance)] = 0.0


def _behind(depth, surface):
    """Composite surface (0 = absent) behind depth, in place."""
    fill = (surface > 0) & ((depth == 0) | (surface < depth))
    depth[fill] = surface[fill]


def generate_wide(rng: np.random.Generator, n: int, config: WideConfig = WideConfig(),
                  camera: PinholeCamera | None = None, scale: int = SOURCE_SCALE) -> WideScenes:
    """Sample, dress, place and render n frames of the wide world."""
    camera = camera or PinholeCamera.virtual()
    source = source_camera(camera, scale)
    parts: list[tuple] = []
    remaining = n
    while remaining > 0:
        batch = remaining + remaining // 3 + 8
        shape = _widen_shapes(rng, sample_shapes(rng, batch, config.height_range
                                                 if config.bodies else (1.5, 2.0)), config)
        weights = np.array(list(FAMILY_WEIGHTS.values()))
        family = (rng.choice(len(FAMILIES), batch, p=weights / weights.sum()) if config.postures
                  else np.zeros(batch, int))
        legs, thighs = sample_legs(rng, shape, np.asarray(FAMILIES)[family] == "seated")
        arms = sample_family_arms(rng, shape, sample_actions(rng, family), thighs)
        bodies = _dress(rng, build_bodies(rng, shape, arms, legs, lean_deg=(-5.0, 15.0)),
                        family, config)
        yaw = sample_yaw(rng, batch, config)
        placed, ok = _orient_and_place(rng, bodies, yaw, config, camera)
        keep = np.flatnonzero(ok)[:remaining]
        parts.append((placed.take(keep), family[keep], yaw[keep]))
        remaining -= keep.size
    bodies = Body.concatenate([p[0] for p in parts])
    family = np.concatenate([p[1] for p in parts])
    yaw = np.concatenate([p[2] for p in parts])
    occluder = _place_occluders(rng, bodies, config)
    occluder_labels = [1 + len(CAPSULE_PARTS) + EXTRA_CAPSULES.index("occluder_capsule"),
                       1 + len(CAPSULE_PARTS) + len(EXTRA_CAPSULES) + len(ELLIPSOID_PARTS)
                       + EXTRA_ELLIPSOIDS.index("occluder_ellipsoid")]
    rotation, level = None, np.zeros(n, int)
    if config.centred:  # into the frame of the camera turned to look at the person
        parts = 1 + len(CAPSULE_PARTS) + len(EXTRA_CAPSULES) + len(ELLIPSOID_PARTS) + \
            len(EXTRA_ELLIPSOIDS)
        body_only = np.setdiff1d(np.arange(1, parts), occluder_labels)
        rotation, distance = _turn_to_person(rng, bodies, camera, body_only)
        bodies = bodies.transformed(rotation.transpose(0, 2, 1), np.zeros((n, 3)))
        level = np.array([zoom_level(d, config.zoom_reference) for d in distance], int)
    # Occluders the isolation removes leave a gap where they hide the body.
    cut = (occluder > 0) & (rng.random(n) < config.cut_occluder_share)
    cut |= occluder == OTHER_PERSON
    feet_cut = (rng.random(n) < config.feet_cut_share if config.feet_cut_share > 0
                else np.zeros(n, bool))
    # Each zoom is its own camera: its frames are rendered, given a room and seen through
    # a sensor together (one group, in frame order, without zoom).
    groups = [np.flatnonzero(level == z) for z in np.unique(level)]
    zoomed = [camera.zoomed(zoom_scale(level[group[0]])) for group in groups]
    sources = [source_camera(cam, scale) for cam in zoomed]
    rendered = []
    for group, source in zip(groups, sources):
        people = bodies.take(group)
        depth_src, labels = render_depth_culled(source, people, with_labels=True)
        depth_src[cut[group][:, None, None] & np.isin(labels, occluder_labels)] = 0.0
        if config.room:
            _room(rng, depth_src, people, source, config)
        _cut_feet(depth_src, people, source, config.floor_tolerance,
                  np.flatnonzero(feet_cut[group]))
        rendered.append(depth_src)
    sensor = (rng.choice(len(SENSORS), n, p=np.array(list(SENSOR_WEIGHTS.values())))
              if config.sensors else np.zeros(n, int))
    depth = np.empty((n,) + camera.shape, np.float32)
    pixels = np.empty(bodies.joints.shape[:2] + (2,), np.float32)
    for group, cam, source, depth_src in zip(groups, zoomed, sources, rendered):
        view = VirtualView(source, cam)
        for i, frame in zip(group, depth_src):
            depth[i] = view.sample(apply_sensor(SENSORS[sensor[i]], frame, source, rng))
            if rotation is not None:
                depth[i][~_seen_by_sensor(cam, camera, rotation[i])] = 0.0
        pixels[group] = cam.project(bodies.joints[group])
    return WideScenes(depth, bodies.joints.astype(np.float32), pixels, family.astype(np.uint8),
                      sensor.astype(np.uint8), occluder, yaw.astype(np.float32),
                      zoom_scale(level).astype(np.float32))

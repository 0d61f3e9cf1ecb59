"""A parametric human figure: adult body shapes, plausible upper-body poses, and its solid parts.

Everything here is vectorised over N people and lives in the body frame: origin at the root
(mid-hip), x to the person's own left, y up, z forward (out of the chest). synth.py places
bodies in front of the camera; render.py turns their parts into depth.

The figure is built from two kinds of primitives that rays can hit analytically:
capsules (limbs, neck, shoulder girdle, feet) and ellipsoids (head, chest, abdomen, pelvis, hands).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.joints import JOINT_NAMES, NUM_JOINTS

CAPSULE_PARTS = (
    "neck", "shoulders",
    "right_upper_arm", "right_forearm", "left_upper_arm", "left_forearm",
    "right_thigh", "right_shin", "left_thigh", "left_shin", "right_foot", "left_foot",
)
ELLIPSOID_PARTS = ("head", "chest", "abdomen", "pelvis", "right_hand", "left_hand")
# Part label of a pixel = 1 + index in PART_NAMES; 0 is background.
PART_NAMES = CAPSULE_PARTS + ELLIPSOID_PARTS

# Joint limits of the arm model (checked by the tests).
ELBOW_MAX_FLEXION_DEG = 150.0  # 0 = straight arm
SWIVEL_RANGE_DEG = (-20.0, 100.0)  # elbow around the shoulder-wrist axis: 0 down/back, 90 outward
SHOULDER_MAX_EXTENSION_DEG = 40.0  # how far the upper arm may point behind the frontal plane
WRIST_MIN_FORWARD_M = -0.05  # wrists stay in front of (or just behind) the shoulders' plane
# Where along a bone the collision check starts: the upper arm leaves the torso at the shoulder.
_ARM_SAMPLES = np.linspace(0.0, 1.0, 7)
_UPPER_ARM_SAMPLES = np.linspace(0.45, 1.0, 5)


@dataclass(frozen=True)
class BodyShape:
    """Dimensions of N people (metres), each field an (N,) array."""

    height: np.ndarray
    spine: np.ndarray  # root to the shoulder line, vertically
    shoulder_half_width: np.ndarray
    hip_half_width: np.ndarray
    upper_arm: np.ndarray
    forearm: np.ndarray
    hand: np.ndarray
    thigh: np.ndarray
    shin: np.ndarray
    foot: np.ndarray
    head_scale: np.ndarray
    torso_girth: np.ndarray  # 1 = average build
    limb_girth: np.ndarray

    def __len__(self) -> int:
        return len(self.height)

    def take(self, index) -> BodyShape:
        """The people selected by an index array (or repeated, to pose one person many times)."""
        return BodyShape(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @property
    def scale(self) -> np.ndarray:
        return self.height / 1.75


def sample_shapes(rng: np.random.Generator, n: int,
                  height_range: tuple[float, float] = (1.5, 2.0)) -> BodyShape:
    """Adult variation: height uniform in height_range, each segment +-4..8 % on its own."""
    h = rng.uniform(*height_range, n)

    def part(fraction, spread):
        return h * fraction * np.clip(rng.normal(1.0, spread, n), 1 - 2 * spread, 1 + 2 * spread)

    torso_girth = rng.uniform(0.85, 1.35, n)
    return BodyShape(
        height=h,
        spine=part(0.295, 0.04),
        shoulder_half_width=part(0.105, 0.06),
        hip_half_width=part(0.05, 0.08),
        upper_arm=part(0.172, 0.04),
        forearm=part(0.150, 0.04),
        hand=part(0.105, 0.05),
        thigh=part(0.245, 0.03),
        shin=part(0.240, 0.03),
        foot=part(0.150, 0.05),
        head_scale=np.sqrt(h / 1.75) * rng.uniform(0.92, 1.08, n),
        torso_girth=torso_girth,
        limb_girth=torso_girth * rng.uniform(0.9, 1.1, n),
    )


@dataclass(frozen=True)
class Body:
    """N posed bodies in the body frame: ground-truth joints and the solid parts."""

    joints: np.ndarray  # (N, 7, 3), JOINT_NAMES order
    capsules: np.ndarray  # (N, len(CAPSULE_PARTS), 2, 3): the two end points of each segment
    capsule_radii: np.ndarray  # (N, len(CAPSULE_PARTS))
    ellipsoid_centres: np.ndarray  # (N, len(ELLIPSOID_PARTS), 3)
    ellipsoid_axes: np.ndarray  # (N, len(ELLIPSOID_PARTS), 3, 3): columns are the unit axes
    ellipsoid_radii: np.ndarray  # (N, len(ELLIPSOID_PARTS), 3): semi-axis lengths

    def __len__(self) -> int:
        return len(self.joints)

    def take(self, index) -> Body:
        return Body(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @staticmethod
    def concatenate(bodies: list[Body]) -> Body:
        return Body(*(np.concatenate([getattr(b, f) for b in bodies])
                      for f in Body.__dataclass_fields__))

    def transformed(self, rotation: np.ndarray, translation: np.ndarray) -> Body:
        """Apply p -> R p + t per body; rotation (N, 3, 3), translation (N, 3)."""
        def move(points):  # (N, ..., 3)
            flat = points.reshape(len(points), -1, 3)
            moved = np.einsum("nij,nkj->nki", rotation, flat) + translation[:, None]
            return moved.reshape(points.shape)

        return Body(
            joints=move(self.joints),
            capsules=move(self.capsules),
            capsule_radii=self.capsule_radii,
            ellipsoid_centres=move(self.ellipsoid_centres),
            ellipsoid_axes=np.einsum("nij,npjk->npik", rotation, self.ellipsoid_axes),
            ellipsoid_radii=self.ellipsoid_radii,
        )


# --- small vectorised geometry helpers ---------------------------------------------------------

def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def rotation_about(axis: str, angle: np.ndarray) -> np.ndarray:
    """(N,) angles in radians -> (N, 3, 3) right-handed rotations about the x, y or z axis."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(c), np.zeros_like(c)
    rows = {
        "x": [[o, z, z], [z, c, -s], [z, s, c]],
        "y": [[c, z, s], [z, o, z], [-s, z, c]],
        "z": [[c, -s, z], [s, c, z], [z, z, o]],
    }[axis]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def _inside_ellipsoid(points, centre, radii, margin):
    """points (N, K, 3), axis-aligned ellipsoid centre/radii (N, 3), margin (N,) -> (N, K)."""
    q = (points - centre[:, None]) / (radii + margin[:, None])[:, None]
    return np.einsum("nki,nki->nk", q, q) < 1.0


def _near_segment(points, a, b, distance):
    """points (N, K, 3), segment ends a, b (N, 3), distance (N,) -> (N, K) within distance."""
    ab = b - a
    t = np.einsum("nki,ni->nk", points - a[:, None], ab) / np.einsum("ni,ni->n", ab, ab)[:, None]
    closest = a[:, None] + np.clip(t, 0.0, 1.0)[..., None] * ab[:, None]
    return np.linalg.norm(points - closest, axis=-1) < distance[:, None]


# --- the upright skeleton and its solid parts ---------------------------------------------------

def _torso_ellipsoids(shape: BodyShape):
    """Centres and radii (N, 3) of the chest, abdomen and pelvis in the upright body frame."""
    s, g, spine = shape.scale, shape.torso_girth, shape.spine
    n = len(shape)
    zero = np.zeros(n)
    chest = (np.stack([zero, 0.70 * spine, zero], -1),
             np.stack([0.16 * s * (0.9 + 0.1 * g), 0.32 * spine, 0.105 * s * g], -1))
    abdomen = (np.stack([zero, 0.36 * spine, zero], -1),
               np.stack([0.145 * s * (0.85 + 0.15 * g), 0.24 * spine, 0.10 * s * g], -1))
    pelvis = (np.stack([zero, zero, -0.01 * s], -1),
              np.stack([shape.hip_half_width + 0.075 * s * np.sqrt(g), 0.12 * s, 0.10 * s * g], -1))
    return chest, abdomen, pelvis


def _head(shape: BodyShape):
    n = len(shape)
    centre = np.stack([np.zeros(n), shape.spine + 0.115 * shape.height, 0.01 * shape.scale], -1)
    radii = np.stack([0.078 * np.ones(n), 0.11 * np.ones(n), 0.095 * np.ones(n)], -1)
    return centre, radii * shape.head_scale[:, None]


def shoulder_positions(shape: BodyShape) -> np.ndarray:
    """(N, 2, 3): right then left shoulder joint in the upright body frame."""
    w, y = shape.shoulder_half_width, shape.spine
    zero = np.zeros(len(shape))
    return np.stack([np.stack([-w, y, zero], -1), np.stack([w, y, zero], -1)], axis=1)


def _arm_radii(shape: BodyShape):
    s, g = shape.scale, shape.limb_girth
    return 0.045 * s * g, 0.036 * s * g  # upper arm, forearm


def _leg_radii(shape: BodyShape):
    s, g = shape.scale, shape.limb_girth
    return 0.072 * s * g, 0.05 * s * g  # thigh, shin


# --- poses -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArmPose:
    """(N, 2, 3) right/left elbow and wrist positions, and (N, 2, 3) hand directions."""

    elbows: np.ndarray
    wrists: np.ndarray
    hand_directions: np.ndarray
    palm_normals: np.ndarray


def _elbow_on_circle(shoulder, wrist, upper, fore, swivel, side):
    """Two-bone inverse kinematics: the elbow for a wrist target and a swivel angle.

    shoulder, wrist (K, 3); upper, fore, swivel, side (K,); side = -1 right arm, +1 left arm.
    Swivel 0 puts the elbow down (backward for a hanging arm), positive turns it outward.
    """
    d_vec = wrist - shoulder
    d = np.linalg.norm(d_vec, axis=-1)
    axis = d_vec / d[:, None]
    along = (upper ** 2 - fore ** 2 + d ** 2) / (2 * d)
    radius = np.sqrt(np.clip(upper ** 2 - along ** 2, 0.0, None))
    reference = _normalize(np.array([0.0, -1.0, -0.3]))
    e0 = _normalize(reference - (axis @ reference)[:, None] * axis)
    e1 = side[:, None] * np.cross(axis, e0)
    centre = shoulder + along[:, None] * axis
    return centre + radius[:, None] * (np.cos(swivel)[:, None] * e0 + np.sin(swivel)[:, None] * e1)


def _arm_candidates(rng, shape: BodyShape, side: float):
    """One candidate pose per person for one arm; returns elbow, wrist (N, 3) and validity (N,)."""
    n = len(shape)
    shoulder = shoulder_positions(shape)[:, 0 if side < 0 else 1]
    upper, fore = shape.upper_arm, shape.forearm
    reach = upper + fore
    # Wrist uniform over the ball the arm can reach (volume-uniform radius), then constrained.
    direction = _normalize(rng.normal(size=(n, 3)))
    distance = reach * rng.uniform(0.0, 1.0, n) ** (1.0 / 3.0)
    wrist = shoulder + direction * distance[:, None]
    min_distance = np.sqrt(upper ** 2 + fore ** 2
                           - 2 * upper * fore * np.cos(np.radians(180.0 - ELBOW_MAX_FLEXION_DEG)))
    swivel = np.radians(rng.uniform(*SWIVEL_RANGE_DEG, n))
    sides = np.full(n, side)
    elbow = _elbow_on_circle(shoulder, wrist, upper, fore, swivel, sides)

    upper_dir = (elbow - shoulder) / upper[:, None]
    valid = (distance >= min_distance) & (wrist[:, 2] - shoulder[:, 2] >= WRIST_MIN_FORWARD_M)
    valid &= upper_dir[:, 2] >= -np.sin(np.radians(SHOULDER_MAX_EXTENSION_DEG))
    valid &= ~_arm_collides(shape, shoulder, elbow, wrist)
    return elbow, wrist, valid


def _arm_collides(shape: BodyShape, shoulder, elbow, wrist, thighs=None) -> np.ndarray:
    """(N,) True where the upper arm, forearm or wrist passes through torso, head or thighs.

    thighs: (N, 2, 2, 3) hip and knee of the right and left thigh; default straight down."""
    upper_r, fore_r = _arm_radii(shape)
    t_up = _UPPER_ARM_SAMPLES[None, :, None]
    t_fore = _ARM_SAMPLES[None, :, None]
    upper_pts = shoulder[:, None] + t_up * (elbow - shoulder)[:, None]
    fore_pts = elbow[:, None] + t_fore * (wrist - elbow)[:, None]
    hits = np.zeros(len(shape), dtype=bool)
    volumes = list(_torso_ellipsoids(shape)) + [_head(shape)]
    for points, r in ((upper_pts, upper_r), (fore_pts, fore_r)):
        for centre, radii in volumes:
            hits |= _inside_ellipsoid(points, centre, radii, r).any(axis=1)
    # Thighs, by default taken straight down from the hips (standing legs move little).
    thigh_r = _leg_radii(shape)[0]
    for leg, side in enumerate((-1.0, 1.0)):
        if thighs is None:
            hip = np.stack([side * shape.hip_half_width, np.zeros(len(shape)),
                            np.zeros(len(shape))], -1)
            knee = hip - np.stack([np.zeros(len(shape)), shape.thigh, np.zeros(len(shape))], -1)
        else:
            hip, knee = thighs[:, leg, 0], thighs[:, leg, 1]
        hits |= _near_segment(fore_pts, hip, knee, thigh_r + fore_r).any(axis=1)
    return hits


def sample_arm_poses(rng: np.random.Generator, shape: BodyShape, max_rounds: int = 200) -> ArmPose:
    """Plausible arm poses by rejection: each wrist uniform over the reachable space in front."""
    n = len(shape)
    elbows = np.zeros((n, 2, 3))
    wrists = np.zeros((n, 2, 3))
    for arm, side in enumerate((-1.0, 1.0)):
        todo = np.arange(n)
        for _ in range(max_rounds):
            elbow, wrist, valid = _arm_candidates(rng, shape.take(todo), side)
            elbows[todo[valid], arm] = elbow[valid]
            wrists[todo[valid], arm] = wrist[valid]
            todo = todo[~valid]
            if todo.size == 0:
                break
        assert todo.size == 0, f"no valid arm pose for {todo.size} bodies in {max_rounds} rounds"
    forearm_dir = _normalize(wrists - elbows)
    # The hand follows the forearm, bent at the wrist by up to about 30 degrees.
    hand_dir = _normalize(forearm_dir + 0.35 * _normalize(rng.normal(size=(n, 2, 3))))
    palm = _normalize(np.cross(hand_dir, rng.normal(size=(n, 2, 3))))
    return ArmPose(elbows, wrists, hand_dir, palm)


def _leg(shape: BodyShape, side: float, hip_flexion, abduction, knee_bend, toe_out):
    """One leg's (hip, knee, ankle, heel, toe), each (N, 3); angles (N,) in degrees. Flexion
    swings the thigh forward, knee_bend folds the shin back from the thigh's line."""
    n = len(shape)
    zero = np.zeros(n)
    hip = np.stack([side * shape.hip_half_width, zero, zero], -1)
    turn = rotation_about("z", side * np.radians(abduction)) @ rotation_about(
        "x", -np.radians(hip_flexion))
    thigh_dir = np.einsum("nij,j->ni", turn, [0.0, -1.0, 0.0])
    knee = hip + shape.thigh[:, None] * thigh_dir
    bend = rotation_about("x", np.radians(knee_bend))
    shin_dir = np.einsum("nij,j->ni", turn @ bend, [0.0, -1.0, 0.0])
    ankle = knee + shape.shin[:, None] * shin_dir
    # The foot stays level whatever the thigh does: it points along the body's forward axis.
    forward = np.einsum("nij,j->ni", rotation_about("y", side * np.radians(toe_out)), [0.0, 0.0, 1.0])
    sole = ankle - np.stack([zero, 0.04 * shape.height - 0.035 * shape.scale, zero], -1)
    heel = sole - 0.2 * shape.foot[:, None] * forward
    toe = sole + 0.8 * shape.foot[:, None] * forward
    return hip, knee, ankle, heel, toe


def standing_legs(rng: np.random.Generator, shape: BodyShape) -> list:
    """Both legs standing, with a little hip flexion, abduction, knee bend and toe-out."""
    n = len(shape)
    legs = []
    for side in (-1.0, 1.0):
        abduction = rng.uniform(-3.0, 8.0, n)
        flexion = np.clip(rng.normal(0.0, 5.0, n), -12, 12)
        legs.append(_leg(shape, side, flexion, abduction, rng.uniform(0.0, 15.0, n),
                         rng.uniform(0.0, 20.0, n)))
    return legs


def build_bodies(rng: np.random.Generator, shape: BodyShape, arms: ArmPose | None = None,
                 legs: list | None = None, lean_deg: tuple[float, float] = (-5.0, 8.0)) -> Body:
    """Pose N bodies and build their parts: by default the paper's world (arms free in front,
    legs standing); arms and legs (standing_legs' layout) can be given. The upper body leans
    forward by lean_deg (degrees) and a little sideways; the head turns."""
    n = len(shape)
    arms = sample_arm_poses(rng, shape) if arms is None else arms
    shoulders = shoulder_positions(shape)
    s = shape.scale
    zero = np.zeros(n)
    leg_points = standing_legs(rng, shape) if legs is None else legs

    # The upper body (torso, shoulders, arms, head) leans a little about the root.
    lean = rotation_about("x", -np.radians(rng.uniform(*lean_deg, n))) @ rotation_about(
        "z", np.radians(rng.uniform(-4.0, 4.0, n)))

    def upper(points):  # (N, ..., 3) upright -> leaned
        flat = points.reshape(n, -1, 3)
        return np.einsum("nij,nkj->nki", lean, flat).reshape(points.shape)

    shoulders_l = upper(shoulders)
    elbows_l = upper(arms.elbows)
    wrists_l = upper(arms.wrists)
    hand_dir = upper(arms.hand_directions)
    palm = upper(arms.palm_normals)

    joints = np.zeros((n, NUM_JOINTS, 3))  # the root (the mid-hip) is the origin
    for side, sided in enumerate(("right", "left")):  # arms' index 0 is the right
        for part, points in (("shoulder", shoulders_l), ("elbow", elbows_l),
                             ("hand", wrists_l)):
            joints[:, JOINT_NAMES.index(f"{sided}_{part}")] = points[:, side]

    (chest_c, chest_r), (abd_c, abd_r), (pelvis_c, pelvis_r) = _torso_ellipsoids(shape)
    head_c, head_r = _head(shape)
    neck_base = np.stack([zero, shape.spine - 0.01 * s, zero], -1)
    neck_top = head_c - np.stack([zero, 0.5 * head_r[:, 1], zero], -1)
    girdle_lift = np.stack([zero, 0.01 * s, -0.005 * s], -1)
    upper_r, fore_r = _arm_radii(shape)
    thigh_r, shin_r = _leg_radii(shape)

    (r_hip, r_knee, r_ankle, r_heel, r_toe), (l_hip, l_knee, l_ankle, l_heel, l_toe) = leg_points
    capsule_ends = [
        (upper(neck_base), upper(neck_top)),
        (shoulders_l[:, 0] + upper(girdle_lift), shoulders_l[:, 1] + upper(girdle_lift)),
        (shoulders_l[:, 0], elbows_l[:, 0]), (elbows_l[:, 0], wrists_l[:, 0]),
        (shoulders_l[:, 1], elbows_l[:, 1]), (elbows_l[:, 1], wrists_l[:, 1]),
        (r_hip, r_knee), (r_knee, r_ankle), (l_hip, l_knee), (l_knee, l_ankle),
        (r_heel, r_toe), (l_heel, l_toe),
    ]
    capsules = np.stack([np.stack(ends, axis=1) for ends in capsule_ends], axis=1)
    capsule_radii = np.stack([
        0.055 * s * np.sqrt(shape.torso_girth), 0.052 * s * np.sqrt(shape.torso_girth),
        upper_r, fore_r, upper_r, fore_r, thigh_r, shin_r, thigh_r, shin_r,
        0.035 * s, 0.035 * s], axis=1)
    assert capsules.shape[1] == len(CAPSULE_PARTS) == capsule_radii.shape[1]

    # Head: turned and nodded a little; torso ellipsoids lean with the upper body.
    head_turn = lean @ rotation_about("y", np.radians(rng.uniform(-30, 30, n))) @ rotation_about(
        "x", np.radians(rng.uniform(-15, 15, n)))
    identity = np.broadcast_to(np.eye(3), (n, 3, 3))
    hand_axes = []
    for arm in range(2):
        along = hand_dir[:, arm]
        normal = palm[:, arm]
        hand_axes.append(np.stack([np.cross(along, normal), along, normal], axis=-1))
    hand_len = shape.hand
    hand_radii = np.stack([0.045 * s, 0.5 * hand_len, 0.017 * s], -1)
    hand_centres = wrists_l + 0.45 * hand_len[:, None, None] * hand_dir
    ellipsoid_centres = np.stack([upper(head_c), upper(chest_c), upper(abd_c), pelvis_c,
                                  hand_centres[:, 0], hand_centres[:, 1]], axis=1)
    ellipsoid_axes = np.stack([head_turn, lean, lean, identity, hand_axes[0], hand_axes[1]], axis=1)
    ellipsoid_radii = np.stack([head_r, chest_r, abd_r, pelvis_r, hand_radii, hand_radii], axis=1)
    assert ellipsoid_centres.shape[1] == len(ELLIPSOID_PARTS)
    return Body(joints, capsules, capsule_radii, ellipsoid_centres, ellipsoid_axes, ellipsoid_radii)

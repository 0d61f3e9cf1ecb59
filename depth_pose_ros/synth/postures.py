"""The postures people hold in front of a robot (the wide world, beyond the paper).

The paper's people reach for points in front of them. Ours also stand with their arms hanging,
spread them, put their hands on their hips or their head, fold their arms, point, wave, hide an
arm behind the back, hold something, and sit. Each family names what each arm does (an arm
action: a wrist target in the body frame and an elbow swivel range); the elbow comes from the
same two-bone inverse kinematics as the paper's poses, and the same joint limits and
no-limb-through-body checks reject candidates until each arm has a valid pose.

Body frame as in body.py: origin at the mid-hip, x to the person's own left, y up, z forward.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.synth.body import (
    ELBOW_MAX_FLEXION_DEG,
    SHOULDER_MAX_EXTENSION_DEG,
    WRIST_MIN_FORWARD_M,
    ArmPose,
    BodyShape,
    _arm_collides,
    _arm_radii,
    _elbow_on_circle,
    _head,
    _leg,
    _leg_radii,
    _normalize,
    _torso_ellipsoids,
    shoulder_positions,
    standing_legs,
)

# Family -> weight in the mix (meta.json records them). "reach" is the paper's world.
FAMILY_WEIGHTS = {
    "reach": 0.16, "hanging": 0.12, "spread": 0.06, "hips": 0.07, "folded": 0.07,
    "together": 0.06, "head": 0.06, "pointing": 0.08, "waving": 0.06, "behind_back": 0.06,
    "holding": 0.06, "seated": 0.14,
}
FAMILIES = tuple(FAMILY_WEIGHTS)
# What the other arm does in the one-arm families, and what seated people do with theirs.
_FREE_ARM = ("hang", "hang", "hips", "reach")
_SEATED_ARMS = ("lap", "together", "fold", "hold", "reach", "point", "hang")
# An arm behind the back points its upper arm further back than the paper's limit.
BEHIND_MAX_EXTENSION_DEG = 75.0
STEPPING_SHARE = 0.25  # standing people with one foot forward


@dataclass(frozen=True)
class Landmarks:
    """Per-person body-frame landmarks the arm actions aim at, each (N,) or (N, 3)."""

    shoulders: np.ndarray  # (N, 2, 3) right, left
    pelvis_rx: np.ndarray
    pelvis_ry: np.ndarray
    pelvis_rz: np.ndarray
    abdomen_cy: np.ndarray
    abdomen_rx: np.ndarray
    abdomen_rz: np.ndarray
    chest_cy: np.ndarray
    chest_rz: np.ndarray
    head_c: np.ndarray  # (N, 3)
    head_r: np.ndarray  # (N, 3)

    @classmethod
    def of(cls, shape: BodyShape) -> Landmarks:
        (chest_c, chest_r), (abd_c, abd_r), (_, pelvis_r) = _torso_ellipsoids(shape)
        head_c, head_r = _head(shape)
        return cls(shoulder_positions(shape), pelvis_r[:, 0], pelvis_r[:, 1], pelvis_r[:, 2],
                   abd_c[:, 1], abd_r[:, 0], abd_r[:, 2], chest_c[:, 1], chest_r[:, 2],
                   head_c, head_r)


def _u(rng, lo, hi, n):
    return rng.uniform(lo, hi, n)


def _wrist_target(action: str, rng, shape: BodyShape, marks: Landmarks, side: float):
    """Candidate wrists (N, 3) and swivels (N,) in degrees for one arm action.

    side -1 is the right arm, +1 the left (x is the person's left)."""
    n = len(shape)
    shoulder = marks.shoulders[:, 0 if side < 0 else 1]
    reach = shape.upper_arm + shape.forearm
    fore_r = _arm_radii(shape)[1]
    if action == "reach":  # the paper's: uniform over the reachable ball, kept in front
        direction = _normalize(rng.normal(size=(n, 3)))
        wrist = shoulder + direction * (reach * rng.uniform(0, 1, n) ** (1 / 3))[:, None]
        return wrist, _u(rng, -20, 100, n)
    if action == "hang":  # relaxed beside the thighs, a little in front or behind
        lateral = np.maximum(0.0, marks.pelvis_rx + fore_r - shape.shoulder_half_width) \
            + _u(rng, 0.015, 0.09, n)
        forward = _u(rng, -0.10, 0.05, n)
        length = reach * _u(rng, 0.9, 0.985, n)
        down = np.sqrt(np.maximum(length ** 2 - lateral ** 2 - forward ** 2, 0.0))
        return shoulder + np.stack([side * lateral, -down, forward], -1), _u(rng, 40, 150, n)
    if action == "spread":  # out to the side: a T, or lower, or a little forward
        up, ahead = np.radians(_u(rng, -40, 25, n)), np.radians(_u(rng, -15, 35, n))
        direction = np.stack([side * np.cos(up) * np.cos(ahead), np.sin(up),
                              np.cos(up) * np.sin(ahead)], -1)
        return shoulder + direction * (reach * _u(rng, 0.85, 0.99, n))[:, None], _u(rng, 0, 90, n)
    if action == "hips":  # the wrist on the side of the waist, elbow out
        y = _u(rng, 0.02, 0.16, n) * shape.scale
        surface = np.maximum(marks.pelvis_rx * np.sqrt(np.clip(1 - (y / marks.pelvis_ry) ** 2, 0, 1)),
                             marks.abdomen_rx)
        x = side * (surface + fore_r + _u(rng, 0.005, 0.03, n))
        return np.stack([x, y, _u(rng, -0.07, 0.07, n)], -1), _u(rng, 65, 115, n)
    if action == "fold":  # across the chest towards the other elbow, forearms stacked
        x = -side * _u(rng, 0.04, 0.17, n) * shape.scale
        y = marks.chest_cy + _u(rng, -0.15, 0.0, n) * shape.scale
        z = marks.chest_rz + fore_r + _u(rng, 0.02, 0.09, n)
        return np.stack([x, y, z], -1), _u(rng, 60, 150, n)
    if action == "together":  # both hands meet in front, waist to chest
        y = _u(rng, 0.1, 0.85, n) * shape.spine
        return np.stack([side * _u(rng, 0.02, 0.06, n), y, _u(rng, 0.2, 0.45, n)], -1), \
            _u(rng, 40, 150, n)
    if action == "head":  # a hand on the head or behind it, elbow out
        offset = np.stack([side * _u(rng, 0.5, 1.4, n), _u(rng, -0.2, 0.9, n),
                           _u(rng, -1.6, -0.2, n)], -1) * marks.head_r
        return marks.head_c + offset, _u(rng, -160, -90, n)
    if action == "point":  # the arm stretched in any direction but behind (also at the camera)
        direction = _normalize(rng.normal(size=(n, 3)) + np.array([0.0, 0.0, 0.5]))
        direction[:, 0] = np.where(direction[:, 0] * side < -0.3, -direction[:, 0], direction[:, 0])
        return shoulder + direction * (reach * _u(rng, 0.9, 0.99, n))[:, None], _u(rng, 0, 70, n)
    if action == "wave":  # the hand raised above the shoulder, elbow out to the side
        x = side * (shape.shoulder_half_width + _u(rng, 0.05, 0.35, n))
        y = shoulder[:, 1] + _u(rng, 0.1, 1.0, n) * shape.forearm
        return np.stack([x, y, _u(rng, -0.1, 0.2, n)], -1), _u(rng, 50, 110, n)
    if action == "behind":  # the wrist behind the back at the waist (hidden from the front)
        x = side * _u(rng, -0.06, 0.1, n) * shape.scale
        y = marks.abdomen_cy + _u(rng, -0.15, 0.05, n) * shape.scale
        z = -(np.maximum(marks.abdomen_rz, marks.pelvis_rz) + fore_r + _u(rng, 0.02, 0.07, n))
        return np.stack([x, y, z], -1), _u(rng, -120, -20, n)
    if action == "hold":  # holding something in front of the chest with both hands
        x = side * _u(rng, 0.05, 0.16, n) * shape.scale
        y = _u(rng, 0.45, 0.85, n) * shape.spine
        return np.stack([x, y, marks.chest_rz + _u(rng, 0.12, 0.3, n)], -1), _u(rng, 30, 100, n)
    if action == "lap":  # seated: the hand resting on the thigh
        thigh_r = _leg_radii(shape)[0]
        x = side * _u(rng, 0.03, 0.15, n)
        return np.stack([x, thigh_r + fore_r + _u(rng, 0.01, 0.05, n),
                         _u(rng, 0.12, 0.35, n) * shape.scale], -1), _u(rng, 40, 150, n)
    raise ValueError(f"unknown arm action {action!r}")


def _valid(action: str, shape: BodyShape, shoulder, elbow, wrist, distance, thighs):
    """The paper's joint limits (elbow flexion, shoulder extension, no limb through the body);
    only "reach" keeps the paper's wrists-in-front rule, only "behind" a larger extension."""
    upper, fore = shape.upper_arm, shape.forearm
    min_distance = np.sqrt(upper ** 2 + fore ** 2
                           - 2 * upper * fore * np.cos(np.radians(180.0 - ELBOW_MAX_FLEXION_DEG)))
    extension = BEHIND_MAX_EXTENSION_DEG if action == "behind" else SHOULDER_MAX_EXTENSION_DEG
    upper_dir = (elbow - shoulder) / upper[:, None]
    valid = (distance >= min_distance) & (distance <= upper + fore)
    valid &= upper_dir[:, 2] >= -np.sin(np.radians(extension))
    if action == "reach":
        valid &= wrist[:, 2] - shoulder[:, 2] >= WRIST_MIN_FORWARD_M
    return valid & ~_arm_collides(shape, shoulder, elbow, wrist, thighs)


def sample_actions(rng: np.random.Generator, family: np.ndarray) -> np.ndarray:
    """(N,) family indices -> (N, 2) arm actions (right, left) as strings."""
    n = len(family)
    names = np.asarray(FAMILIES)[family]
    actions = np.empty((n, 2), dtype=object)
    both = {"reach": "reach", "hanging": "hang", "spread": "spread", "hips": "hips",
            "folded": "fold", "together": "together", "head": "head", "holding": "hold"}
    one = {"pointing": "point", "waving": "wave", "behind_back": "behind"}
    active = rng.integers(0, 2, n)  # which arm acts in the one-arm families
    free = rng.choice(np.asarray(_FREE_ARM, dtype=object), n)
    seated = rng.choice(np.asarray(_SEATED_ARMS, dtype=object), (n, 2))
    one_handed = rng.random(n) < 0.3  # hands on hips or head: sometimes only one
    for i, name in enumerate(names):
        if name in both:
            actions[i] = both[name]
            if name in ("hips", "head") and one_handed[i]:
                actions[i, 1 - active[i]] = "hang"
        elif name in one:
            actions[i, active[i]], actions[i, 1 - active[i]] = one[name], free[i]
        else:  # seated: both arms do the same when it takes two hands
            left = seated[i, 0] if seated[i, 0] in ("together", "hold", "fold") else seated[i, 1]
            actions[i] = (seated[i, 0], left)
    return actions


def sample_legs(rng: np.random.Generator, shape: BodyShape, seated: np.ndarray):
    """Standing legs (a quarter stepping: one thigh forward, one back) or seated ones (thighs
    forward, shins down). Returns standing_legs' layout and the (N, 2, 2, 3) thigh segments."""
    n = len(shape)
    legs = standing_legs(rng, shape)
    stepping = ~seated & (rng.random(n) < STEPPING_SHARE)
    forward_leg = rng.integers(0, 2, n)
    for leg, side in enumerate((-1.0, 1.0)):
        step = np.where(forward_leg == leg, _u(rng, 10, 30, n), _u(rng, -20, -5, n))
        sit = _u(rng, 70, 100, n)
        flexion = np.where(seated, sit, np.where(stepping, step, 0.0))
        bend = np.where(seated, sit + _u(rng, -15, 15, n), _u(rng, 0, 25, n))
        moved = _leg(shape, side, flexion, _u(rng, -3, 15, n), bend, _u(rng, 0, 25, n))
        pick = seated | stepping
        legs[leg] = tuple(np.where(pick[:, None], new, old) for new, old in zip(moved, legs[leg]))
    thighs = np.stack([np.stack([legs[k][0], legs[k][1]], axis=1) for k in range(2)], axis=1)
    return legs, thighs


def sample_family_arms(rng: np.random.Generator, shape: BodyShape, actions: np.ndarray,
                       thighs: np.ndarray, max_rounds: int = 400) -> ArmPose:
    """Arm poses for (N, 2) actions by rejection, within the joint limits (see _valid)."""
    n = len(shape)
    elbows, wrists = np.zeros((n, 2, 3)), np.zeros((n, 2, 3))
    for arm, side in enumerate((-1.0, 1.0)):
        for action in np.unique(actions[:, arm]):
            todo = np.flatnonzero(actions[:, arm] == action)
            for _ in range(max_rounds):
                sub = shape.take(todo)
                sub_marks = Landmarks.of(sub)
                wrist, swivel = _wrist_target(action, rng, sub, sub_marks, side)
                shoulder = sub_marks.shoulders[:, arm]
                distance = np.linalg.norm(wrist - shoulder, axis=-1)
                elbow = _elbow_on_circle(shoulder, wrist, sub.upper_arm, sub.forearm,
                                         np.radians(swivel), np.full(len(todo), side))
                ok = _valid(action, sub, shoulder, elbow, wrist, distance, thighs[todo])
                elbows[todo[ok], arm], wrists[todo[ok], arm] = elbow[ok], wrist[ok]
                todo = todo[~ok]
                if todo.size == 0:
                    break
            if todo.size:
                raise RuntimeError(f"no valid {action!r} arm pose for {todo.size} bodies in "
                                   f"{max_rounds} rounds")
    forearm_dir = _normalize(wrists - elbows)
    hand_dir = _normalize(forearm_dir + 0.35 * _normalize(rng.normal(size=(n, 2, 3))))
    palm = _normalize(np.cross(hand_dir, rng.normal(size=(n, 2, 3))))
    return ArmPose(elbows, wrists, hand_dir, palm)

"""Scenes for the node, the demo and bags: a person moving, or people walking and crossing, in a
room seen by a 640 x 480 camera, and their truth as the tracker should report it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.synth.body import Body, build_bodies, sample_shapes
from depth_pose_ros.synth.generate import SceneConfig
from depth_pose_ros.synth.placement import body_to_camera, keep_in_view_points, place_in_view
from depth_pose_ros.synth.render import render_depth, render_depth_culled

DEMO_CAMERA = PinholeCamera(640, 480, 525.0, 525.0, 319.5, 239.5)
_LEVEL = SceneConfig(camera_pitch=(0.0, 0.0), camera_roll=(0.0, 0.0), root_distance=(2.3, 3.0))


@dataclass(frozen=True)
class Sequence:
    """A looping motion: one person, keyframe poses blended linearly, rendered with a room."""

    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, 7, 3) camera frame
    pixels: np.ndarray  # (N, 7, 2) in the sequence's camera


def motion_bodies(rng: np.random.Generator, keyframes: int, steps: int,
                  camera: PinholeCamera = PinholeCamera.virtual(),
                  config: SceneConfig = _LEVEL) -> Body:
    """keyframes random poses of one person standing still, each blended into the next over
    steps frames (keyframes * steps bodies, looping), placed so that the network's virtual camera
    sees all of them but the arms. Blending bends bone lengths a little between keyframes."""
    shape = sample_shapes(rng, 1, config.height_range).take(np.zeros(keyframes, dtype=int))
    keys = build_bodies(rng, shape)
    rotation = np.repeat(body_to_camera(rng, rng.uniform(*config.yaw_range, 1),
                                           config.camera_pitch, config.camera_roll), keyframes, axis=0)
    keys = keys.transformed(rotation, np.zeros((keyframes, 3)))
    points = keep_in_view_points(keys).reshape(1, -1, 3)
    root, ok = place_in_view(rng, camera, points, rng.uniform(*config.root_distance, 1), 2.0)
    if not ok[0]:
        raise ValueError("no placement keeps every keyframe in view; try another seed")
    keys = keys.transformed(np.broadcast_to(np.eye(3), (keyframes, 3, 3)),
                            np.repeat(root, keyframes, axis=0))
    weight = (np.arange(steps) / steps)[:, None]  # (steps, 1)
    fields = {}
    for field in Body.__dataclass_fields__:
        value = getattr(keys, field)
        following = np.roll(value, -1, axis=0)
        w = weight.reshape((1, steps) + (1,) * (value.ndim - 1))
        blended = value[:, None] * (1 - w) + following[:, None] * w
        fields[field] = blended.reshape((keyframes * steps,) + value.shape[1:])
    u, _, vt = np.linalg.svd(fields["ellipsoid_axes"])  # blended rotations -> nearest rotations
    fields["ellipsoid_axes"] = u @ vt
    return Body(**fields)


def render_room(camera: PinholeCamera, bodies: Body, wall_distance: float = 4.0) -> np.ndarray:
    """Render bodies standing on a floor in front of a back wall (z = wall_distance): real
    sensors' scenes, which the person extraction must cope with. The floor touches the lowest
    point of each body."""
    depth = render_depth(camera, bodies, batch=1)
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    lowest = bodies.capsules[..., 1].max(axis=(1, 2)) + bodies.capsule_radii.max(axis=1) * 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        # Floor y = lowest (camera level, y down): hit at t = y / ray_y for rays going down.
        floor_z = lowest[:, None, None] / rays[None, ..., 1] * rays[None, ..., 2]
    floor_z = np.where(rays[None, ..., 1] > 0, floor_z, np.inf)
    room = np.minimum(floor_z, wall_distance).astype(np.float32)
    return np.where((depth > 0) & (depth < room), depth, room)


def demo_sequence(seed: int = 0, keyframes: int = 4, steps: int = 20,
                  camera: PinholeCamera = DEMO_CAMERA) -> Sequence:
    """The synthetic camera's loop: keyframes * steps frames (at 30 Hz, 20 steps = 2/3 s each)."""
    bodies = motion_bodies(np.random.default_rng(seed), keyframes, steps)
    depth = render_room(camera, bodies)
    return Sequence(depth, bodies.joints.astype(np.float32),
                    camera.project(bodies.joints).astype(np.float32))


# --- several people walking in a room: the multi-person demo, bags and benchmark ------------------

VISIBLE_TO_COUNT = 0.7  # a person this much in view and unoccluded is one a tracker must find


def truth_bodies(joints3d: np.ndarray, pixels: np.ndarray, visible: np.ndarray,
                 camera: PinholeCamera) -> list[dict]:
    """A synthetic frame's truth as the fields of /bodies_gt's Body messages (the node's and
    the bag writer's message types differ; the rule is this one): person p has ID p + 1,
    `tracked` while at least VISIBLE_TO_COUNT of them is visible (the message's TRACKED, LOST
    otherwise), confidence 1."""
    return [dict(id=p + 1, tracked=bool(visible[p] >= VISIBLE_TO_COUNT), names=list(JOINT_NAMES),
                 positions=np.asarray(joints3d[p], np.float64),
                 pixel_u=pixels[p, :, 0].astype(np.float32),
                 pixel_v=pixels[p, :, 1].astype(np.float32),
                 in_view=camera.in_view(pixels[p]).astype(bool),
                 confidence=np.ones(len(JOINT_NAMES), np.float32))
            for p in range(len(joints3d))]


@dataclass(frozen=True)
class PeopleScene:
    """People walking to and fro across the camera's view, each in a lane of their own depth, so
    that they cross and hide one another; their arms move through poses as in demo_sequence.
    Frames are rendered on demand (frame(k)): a minute at 640 x 480 would not fit in memory."""

    camera: PinholeCamera
    people: list[Body]  # one per person, a body per frame
    floor_y: float  # the floor plane y = floor_y in the camera frame (level camera)
    wall_distance: float = 6.0

    @property
    def frames(self) -> int:
        return len(self.people[0])

    def room(self) -> np.ndarray:
        """The empty room's depth (H, W) float32 metres: the floor and the back wall."""
        return _room(self.camera, self.floor_y, self.wall_distance)

    def frame(self, k: int, each_alone: bool = False):
        """Frame k -> (depth (H, W) float32 metres, joints3d (P, 7, 3), pixels (P, 7, 2),
        visible (P,)): each person's share of their pixels that the camera sees (inside the
        image and not hidden by another); with each_alone, also (P, H, W): each person alone
        in the same room."""
        bodies = [person.take([k]) for person in self.people]
        alone = [render_depth_culled(self.camera, b)[0] for b in bodies]
        room = self.room()
        depth = room
        for person in alone:
            depth = np.where((person > 0) & (person < depth), person, depth)
        wide = _widened(self.camera, VISIBILITY_SCALE)
        visible = np.zeros(len(self.people), np.float32)
        for p, (b, person) in enumerate(zip(bodies, alone)):
            everywhere = np.count_nonzero(render_depth_culled(wide, b)[0]) * VISIBILITY_SCALE ** 2
            visible[p] = min(1.0, np.count_nonzero((person > 0) & (person == depth))
                             / max(everywhere, 1))
        joints = np.stack([b.joints[0] for b in bodies]).astype(np.float32)
        result = (depth.astype(np.float32), joints,
                  self.camera.project(joints).astype(np.float32), visible)
        if each_alone:
            result += (np.stack([np.where((p > 0) & (p < room), p, room) for p in alone]),)
        return result


@dataclass(frozen=True)
class PeopleSequence:
    """Rendered frames of several people with their truth (a PeopleScene's, or one person's)."""

    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no return
    joints3d: np.ndarray  # (N, P, 7, 3) camera frame; person p has ID p + 1
    pixels: np.ndarray  # (N, P, 7, 2)
    visible: np.ndarray  # (N, P) share of each person the camera sees (PeopleScene.frame)

    @classmethod
    def of_one(cls, sequence: Sequence) -> PeopleSequence:
        """demo_sequence's one person, whole in view."""
        return cls(sequence.depth, sequence.joints3d[:, None], sequence.pixels[:, None],
                   np.ones((len(sequence.depth), 1), np.float32))


def render_people(scene: PeopleScene, progress: bool = False) -> PeopleSequence:
    """Every frame of a scene, in memory (for loops of a few seconds)."""
    from tqdm import tqdm
    frames = [scene.frame(k) for k in tqdm(range(scene.frames), desc="render", unit="frame",
                                           disable=not progress)]
    return PeopleSequence(*(np.stack(part) for part in zip(*frames)))


PEOPLE_LOOP_FRAMES = 150  # a 5 s loop at 30 Hz


def people_loop(seed: int, people: int, progress: bool = False) -> PeopleSequence:
    """The synthetic camera's people:=N loop (and the demo's): PEOPLE_LOOP_FRAMES frames in
    which everyone's walk and arms come back to where they started."""
    return render_people(people_scene(seed, people, PEOPLE_LOOP_FRAMES,
                                      period_s=PEOPLE_LOOP_FRAMES / 30.0), progress)


_WIDE_PLACEMENT = PinholeCamera.from_hfov(60, 50, 120.0)
VISIBILITY_SCALE = 4  # a person's whole extent is counted at a quarter of the resolution


def _widened(camera: PinholeCamera, scale: int) -> PinholeCamera:
    """The camera's view grown by its own size on every side, at 1/scale of its resolution."""
    return PinholeCamera(3 * camera.width // scale, 3 * camera.height // scale, camera.fx / scale,
                         camera.fy / scale, (camera.cx + camera.width + 0.5) / scale - 0.5,
                         (camera.cy + camera.height + 0.5) / scale - 0.5)


def _room(camera: PinholeCamera, floor_y: float, wall_distance: float) -> np.ndarray:
    """A level floor at y = floor_y and a back wall at z = wall_distance (as render_room)."""
    rays = camera.pixel_rays().reshape(camera.shape + (3,))
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_z = np.where(rays[..., 1] > 0, floor_y / rays[..., 1] * rays[..., 2], np.inf)
    return np.minimum(floor_z, wall_distance).astype(np.float32)


APPROACH_NEAREST_M = 0.8  # people_scene(approach=True): the first person's nearest mid-hip
LEAVE_BEYOND_M = 0.6  # people_scene(leave=True): the mid-hip's farthest beyond the image's side


def people_scene(seed: int = 0, people: int = 2, frames: int = 240, rate: float = 30.0,
                 camera: PinholeCamera = DEMO_CAMERA, camera_height: float = 1.0,
                 period_s: float | None = None, approach: bool = False,
                 leave: bool = False) -> PeopleScene:
    """people walking to and fro in lanes 0.7 m apart in depth (from 2.4 m), each along a
    sine of 8 to 12 s (or period_s, for a seamless loop of that length), paths and phases drawn
    so that they cross and hide one another and reach the image's sides. approach: the first
    person walks up to the camera instead, on the optical axis, their mid-hip from their lane
    to APPROACH_NEAREST_M and back (near a robot the image cuts their head and legs); the
    others walk as they would. leave: everyone walks out of the image at its sides, until
    LEAVE_BEYOND_M beyond them, and comes back (people who enter a robot's view)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    half_fov = (camera.width / 2) / camera.fx  # tan of half the horizontal field of view
    walkers = []
    for p in range(people):
        steps = 30  # the arms' loop: keyframes * steps frames
        keyframes = max(2, min(8, -(-frames // steps)))
        if period_s and frames % steps == 0:
            keyframes = frames // steps  # the arms loop with the walk
        try:
            body = motion_bodies(rng, keyframes, steps)
        except ValueError:  # arms too wide for the network's view: placed below anyway
            body = motion_bodies(rng, keyframes, steps, camera=_WIDE_PLACEMENT)
        body = body.take(np.arange(frames) % len(body))
        z = 2.4 + 0.7 * p + rng.uniform(-0.1, 0.1)
        period = period_s or rng.uniform(8.0, 12.0)
        # Turning back 0.45 m inside the image's side: a person cut by the border a little,
        # never leaving the view (a tracker cannot know someone who comes back from outside);
        # leave: beyond the side.
        phase = 2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)
        x = (half_fov * z + (LEAVE_BEYOND_M if leave else -0.45)) * np.sin(phase)
        z = np.full(frames, z)
        if approach and p == 0:
            x = np.zeros(frames)
            z = APPROACH_NEAREST_M + (z - APPROACH_NEAREST_M) * 0.5 * (1 + np.cos(phase))
        lowest = (body.capsules[..., 1].max(axis=(1, 2)) + 0.5 * body.capsule_radii.max(axis=1)
                  - body.joints[:, 0, 1])  # the soles below the mid-hip
        root = np.stack([x, np.full(frames, camera_height) - lowest.max(), z], -1)
        walkers.append(body.transformed(np.broadcast_to(np.eye(3), (frames, 3, 3)),
                                        root - body.joints[:, 0]))
    return PeopleScene(camera, walkers, camera_height)

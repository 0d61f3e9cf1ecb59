"""Who is who over time: an ID per person that lasts while they are seen, survives short misses,
and is never reused within a run (issue 16's tracker; ROS-free).

Each frame's people are matched to the tracks by one assignment (scipy's
linear_sum_assignment) on a cost in metres: the distance of the person's anchor from where the
track's constant-velocity prediction puts it, plus pose_weight times the mean distance of the
other joints relative to the mid-hip. The anchor is a point measured on the person: the mean of
their visible surface (pipeline.PersonPose.centre), steadier than the network's mid-hip when
they are half hidden or far; without one, the mid-hip. Pairs costing more than the gate
(gate_m, widening while a track is unseen) are never matched: such a person starts a new
track. The velocity is a slow average of the anchor's steps, capped at a walking speed: while
someone is being hidden their visible surface, and so the anchor, jumps, and a prediction
flung by those jumps had handed a hidden person's ID to their neighbour. An unseen track's
prediction walks on for at most prediction_horizon_s, then waits where it got to: someone who
walks out of the image turns round and comes back where they left, and a prediction that
walked on for the seconds they were out had put them metres beyond the widened gate. Joint
smoothing (One-Euro) is kept per track.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from depth_pose_ros.runtime.smoothing import OneEuroFilter

NEW, TRACKED, LOST = "new", "tracked", "lost"  # a track's state in the frame just processed
VELOCITY_GAIN = 0.2  # the share of each new step in the velocity's running average
# One-Euro (min_cutoff Hz, beta per m/s): smooth at rest, quick when moving. Chosen by
# bench-smoothing and bench-people --tracked (BENCHMARKS.md, session 23): against 2 Hz / 1 the
# same jitter at rest, less error in motion, tracked AP +0.01.
SMOOTHING = (1.0, 10.0)
# Defaults the node's parameters (lost_timeout, tracking_gate and its description) share;
# PeopleTracker says why.
LOST_TIMEOUT_S = 3.0  # seconds an unseen person keeps their ID
GATE_M = 0.8  # metres from the prediction beyond which a person starts a new ID
GATE_GROWTH_M_S = 1.0  # the gate widens by this much per second a track is unseen
POSE_WEIGHT = 0.2  # metres of matching cost per metre of mean joint difference from the mid-hip
PREDICTION_HORIZON_S = 0.5  # seconds an unseen track's prediction keeps walking


@dataclass
class Track:
    id: int
    joints3d: np.ndarray  # (7, 3) metres, smoothed when the tracker smooths
    state: str
    last_seen: float  # seconds
    anchor: np.ndarray = field(default_factory=lambda: np.zeros(3))  # where it was last seen
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))  # of the anchor, m/s
    smoother: OneEuroFilter | None = None
    # what the caller passed with this frame's person (for example its PersonPose), the last
    # one seen while the track is lost
    detection: object = None

    def predicted_anchor(self, stamp: float, horizon_s: float) -> np.ndarray:
        """Where the anchor walked to at its velocity, for at most horizon_s since last seen."""
        return self.anchor + self.velocity * min(stamp - self.last_seen, horizon_s)


class PeopleTracker:
    def __init__(self, lost_timeout_s: float = LOST_TIMEOUT_S, gate_m: float = GATE_M,
                 pose_weight: float = POSE_WEIGHT, smoothing: tuple[float, float] | None = SMOOTHING,
                 gate_growth_m_s: float = GATE_GROWTH_M_S, max_speed_m_s: float = 2.0,
                 prediction_horizon_s: float = PREDICTION_HORIZON_S):
        """smoothing: One-Euro (min_cutoff Hz, beta) per track, or None for raw joints.
        gate_growth_m_s: a track's gate widens by this much per second unseen: someone hidden
        behind another may have changed pace, by up to a walking speed (1 m/s).
        max_speed_m_s: the fastest a track's prediction moves (a brisk walk).
        prediction_horizon_s: how long an unseen track's prediction keeps walking.
        The defaults were chosen on two synthetic scenes of three people crossing (the 60 s
        benchmark bag and another): a larger pose weight or a tighter gate broke tracks
        whenever arms moved fast; lost_timeout_s and prediction_horizon_s on scenes of people
        who leave the image for about 2 to 3 s and come back (BENCHMARKS.md)."""
        if lost_timeout_s < 0 or gate_m <= 0 or pose_weight < 0 or gate_growth_m_s < 0 or \
                max_speed_m_s < 0 or prediction_horizon_s < 0:
            raise ValueError("need lost_timeout_s >= 0, gate_m > 0, pose_weight >= 0, "
                             "gate_growth_m_s >= 0, max_speed_m_s >= 0, "
                             "prediction_horizon_s >= 0")
        self.lost_timeout_s, self.gate_m, self.pose_weight = lost_timeout_s, gate_m, pose_weight
        self.gate_growth_m_s, self.max_speed_m_s = gate_growth_m_s, max_speed_m_s
        self.prediction_horizon_s = prediction_horizon_s
        self.smoothing = smoothing
        self.tracks: list[Track] = []
        self._next_id = 1

    def clear(self) -> None:
        """Forget every track (IDs still never come back)."""
        self.tracks = []

    def set_smoothing(self, smoothing: tuple[float, float] | None) -> None:
        """New One-Euro settings, for the tracks there are and those to come."""
        self.smoothing = smoothing
        for track in self.tracks:
            track.smoother = OneEuroFilter(*smoothing) if smoothing else None

    def _cost(self, track: Track, joints3d: np.ndarray, anchor: np.ndarray, stamp: float) -> float:
        root = np.linalg.norm(anchor - track.predicted_anchor(stamp, self.prediction_horizon_s))
        pose = np.linalg.norm((joints3d[1:] - joints3d[0]) - (track.joints3d[1:] - track.joints3d[0]),
                              axis=1)
        return float(root + self.pose_weight * np.nanmean(pose)) if np.isfinite(pose).any() \
            else float(root)

    def update(self, stamp: float, people: list[np.ndarray], detections: list | None = None,
               anchors: list[np.ndarray] | None = None) -> list[Track]:
        """This frame's people ((7, 3) joints each, mid-hip first; anchors (3,) each, default
        their mid-hips) -> the tracks: new and tracked ones carry this frame's joints (and
        detections[j], whatever the caller keeps of person j); lost ones are held until
        lost_timeout_s has passed since they were last seen, then dropped for good."""
        detections = detections if detections is not None else [None] * len(people)
        anchors = anchors if anchors is not None else [joints3d[0] for joints3d in people]
        cost = np.full((len(self.tracks), len(people)), np.inf)
        for i, track in enumerate(self.tracks):
            for j, joints3d in enumerate(people):
                cost[i, j] = self._cost(track, joints3d, anchors[j], stamp)
        gate = np.array([[self.gate_m + self.gate_growth_m_s * (stamp - t.last_seen)]
                         for t in self.tracks]).reshape(len(self.tracks), 1)
        feasible = np.where(cost <= gate, cost, 1e6)  # assignment needs finite costs
        rows, cols = linear_sum_assignment(feasible) if cost.size else ((), ())
        matched = {j: i for i, j in zip(rows, cols) if cost[i, j] <= gate[i, 0]}
        for i, track in enumerate(self.tracks):
            if i not in matched.values():
                track.state = LOST
        for j, joints3d in enumerate(people):
            if j in matched:
                track = self.tracks[matched[j]]
                self._follow(track, joints3d, anchors[j], stamp)
            else:
                track = self._start(joints3d, anchors[j], stamp)
                self.tracks.append(track)
            track.detection = detections[j]
        self.tracks = [t for t in self.tracks
                       if t.state != LOST or stamp - t.last_seen <= self.lost_timeout_s]
        return list(self.tracks)

    def _start(self, joints3d: np.ndarray, anchor: np.ndarray, stamp: float) -> Track:
        smoother = OneEuroFilter(*self.smoothing) if self.smoothing else None
        track = Track(self._next_id, np.array(joints3d, dtype=np.float64), NEW, stamp,
                      np.array(anchor, dtype=np.float64), smoother=smoother)
        if smoother is not None:
            track.joints3d = smoother(joints3d, stamp)
        self._next_id += 1  # never reused within a run
        return track

    def _follow(self, track: Track, joints3d: np.ndarray, anchor: np.ndarray,
                stamp: float) -> None:
        track.joints3d = track.smoother(joints3d, stamp) if track.smoother is not None \
            else np.array(joints3d, dtype=np.float64)
        dt = stamp - track.last_seen
        if dt > 0:
            step = (anchor - track.anchor) / dt
            # a new track's first step is all it knows of its pace
            velocity = step if track.state == NEW else \
                (1 - VELOCITY_GAIN) * track.velocity + VELOCITY_GAIN * step
            speed = np.linalg.norm(velocity)
            track.velocity = velocity * min(1.0, self.max_speed_m_s / speed) if speed > 0 \
                else velocity
        track.anchor = np.array(anchor, dtype=np.float64)
        track.state, track.last_seen = TRACKED, stamp


CHOICES = ("central", "nearest")


def choose_one(tracks: list[Track], current: int | None, rule: str = "central") -> Track | None:
    """The one person for a single-person consumer (/body_joints): the current one while it is
    still seen; otherwise, of those seen now, the one nearest the optical axis (rule "central":
    the smallest angle between the axis and the mid-hip) or nearest the camera ("nearest")."""
    seen = [t for t in tracks if t.state != LOST]
    for track in seen:
        if track.id == current:
            return track
    if not seen:
        return None
    if rule == "central":
        return min(seen, key=lambda t: np.arctan2(np.hypot(*t.joints3d[0, :2]), t.joints3d[0, 2]))
    if rule == "nearest":
        return min(seen, key=lambda t: float(np.linalg.norm(t.joints3d[0])))
    raise ValueError(f"rule must be one of {CHOICES}, got {rule!r}")


def track_pose(track: Track):
    """A track's PersonPose with the track's (smoothed) joints."""
    return replace(track.detection, joints3d=track.joints3d)

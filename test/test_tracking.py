"""IDs that last (issue 16's tracker), on hand-made walks."""
import numpy as np
import pytest

from depth_pose_ros.runtime.tracking import LOST, NEW, TRACKED, PeopleTracker

POSE = np.array([[0, 0, 0], [-0.2, -0.45, 0], [-0.3, -0.2, 0], [-0.3, 0.05, 0],
                 [0.2, -0.45, 0], [0.3, -0.2, 0], [0.3, 0.05, 0]], dtype=float)


def person(x, z=3.0, arms=0.0):
    joints = POSE.copy()
    joints[[3, 6], 1] -= arms  # hands raised by arms metres
    return joints + [x, 0.0, z]


def ids(tracks, state=None):
    return [t.id for t in tracks if state is None or t.state == state]


def test_two_people_walking_keep_their_ids_and_states_move_on():
    tracker = PeopleTracker(smoothing=None)
    first = tracker.update(0.0, [person(-1.0), person(1.0)])
    assert ids(first, NEW) == [1, 2]
    for k in range(1, 30):  # 30 Hz, walking apart at 1 m/s
        tracks = tracker.update(k / 30, [person(-1.0 - k / 30), person(1.0 + k / 30)])
        assert ids(tracks, TRACKED) == [1, 2]
    by_id = {t.id: t for t in tracks}
    assert by_id[1].joints3d[0, 0] < 0 < by_id[2].joints3d[0, 0]


def test_people_crossing_keep_their_ids():
    """Side by side in depth, walking through each other's place at 1 m/s each."""
    tracker = PeopleTracker(smoothing=None)
    for k in range(61):
        t = k / 30
        left, right = person(-1.0 + t, z=3.0, arms=0.3), person(1.0 - t, z=3.3)
        tracks = tracker.update(t, [right, left] if k % 2 else [left, right])
    by_id = {t.id: t.joints3d[0, 0] for t in tracks}
    assert set(by_id) == {1, 2}
    assert by_id[1] == pytest.approx(1.0) and by_id[2] == pytest.approx(-1.0)


def test_an_id_survives_a_short_occlusion_and_is_never_reused():
    tracker = PeopleTracker(lost_timeout_s=1.0, smoothing=None)
    tracker.update(0.0, [person(0.0)])
    tracker.update(0.1, [person(0.0)])
    for k in range(1, 16):  # hidden for 0.5 s
        tracks = tracker.update(0.1 + k / 30, [])
        assert ids(tracks, LOST) == [1]
    assert ids(tracker.update(0.65, [person(0.05)]), TRACKED) == [1]
    tracker.update(0.7, [])
    assert tracker.update(1.8, []) == []  # lost for longer than the timeout: dropped
    assert ids(tracker.update(1.9, [person(0.0)]), NEW) == [2]  # the same place, a new ID


def test_a_far_detection_starts_a_new_track_instead_of_stealing_an_id():
    tracker = PeopleTracker(gate_m=0.6, smoothing=None)
    tracker.update(0.0, [person(0.0)])
    tracks = tracker.update(0.033, [person(2.0)])
    assert ids(tracks, LOST) == [1] and ids(tracks, NEW) == [2]


def test_state_stays_bounded_when_many_come_and_go():
    tracker = PeopleTracker(lost_timeout_s=0.5, smoothing=None)
    for k in range(300):
        tracker.update(k * 0.1, [person(5.0 * (k % 7)), person(-5.0 * (k % 5) - 40)][:k % 3])
    assert len(tracker.tracks) <= 12


def test_smoothing_is_kept_per_track():
    tracker = PeopleTracker(smoothing=(1.0, 0.0))
    tracker.update(0.0, [person(-1.0), person(1.0)])
    tracks = tracker.update(0.1, [person(-1.0, arms=0.2), person(1.0)])
    by_id = {t.id: t for t in tracks}
    assert 0.0 < -(by_id[1].joints3d[3, 1] - person(-1.0)[3, 1]) < 0.2  # lagging the raise
    np.testing.assert_allclose(by_id[2].joints3d, person(1.0))  # the other, untouched


def test_detections_ride_with_their_tracks_and_one_person_is_chosen_and_held():
    from depth_pose_ros.runtime.tracking import choose_one
    tracker = PeopleTracker(smoothing=None)
    near_side, far_centre = person(1.2, z=2.0), person(0.05, z=4.0)
    tracks = tracker.update(0.0, [near_side, far_centre], ["near", "far"])
    assert [t.detection for t in tracks] == ["near", "far"]
    central = choose_one(tracks, None, "central")
    assert central.detection == "far"
    assert choose_one(tracks, None, "nearest").detection == "near"
    # Held while seen, even once another person is more central.
    tracks = tracker.update(0.1, [person(1.2, z=2.0), person(0.05, z=4.0), person(0.0, 2.5)],
                            ["near", "far", "new"])
    assert choose_one(tracks, central.id, "central").id == central.id
    # Gone: the most central of those still seen takes over; the lost track keeps its last.
    tracks = tracker.update(0.2, [person(1.2, z=2.0), person(0.0, 2.5)], ["near", "new"])
    lost = [t for t in tracks if t.state == LOST]
    assert [t.detection for t in lost] == ["far"]
    assert choose_one(tracks, central.id, "central").detection == "new"
    assert choose_one([], None) is None
    with pytest.raises(ValueError, match="rule"):
        choose_one(tracks, None, "tallest")


def test_the_gate_widens_while_a_person_is_hidden():
    """Hidden 1 s behind someone, a person comes out 0.9 m from where their walk predicted
    (they slowed down): the gate (0.6 m + 1 m/s unseen) takes them back; without the growth
    they would get a new ID."""
    for growth, expected in ((1.0, [1]), (0.0, [2])):
        tracker = PeopleTracker(gate_m=0.6, smoothing=None, gate_growth_m_s=growth)
        tracker.update(0.0, [person(0.0)])
        tracker.update(0.1, [person(0.05)])  # walking at 0.5 m/s to the right
        tracks = tracker.update(1.1, [person(0.05 + 0.5 - 0.9)])  # 0.9 m behind the prediction
        assert ids(tracks, TRACKED) + ids(tracks, NEW) == expected


def test_the_prediction_follows_a_walk_but_never_runs_from_a_jumping_surface():
    """The velocity follows a steady walk; while someone is being hidden, the visible part of
    them (the anchor) jumps from frame to frame, and the prediction must stay at walking pace
    (flung by such jumps, it handed a hidden person's ID to a neighbour in the benchmark bag)."""
    tracker = PeopleTracker(smoothing=None)
    for k in range(30):  # 30 Hz, 1 m/s
        tracker.update(k / 30, [person(-1.0 + k / 30)])
    (track,) = tracker.tracks
    np.testing.assert_allclose(track.velocity, [1.0, 0.0, 0.0], atol=0.01)
    jump = np.array([0.0, -0.1, 0.1])  # the visible part climbs and recedes 10 cm a frame
    for k in range(30, 36):
        walked = person(-1.0 + k / 30)
        tracker.update(k / 30, [walked], anchors=[walked[0] + jump * (k - 29)])
        assert np.linalg.norm(track.velocity) <= tracker.max_speed_m_s + 1e-9
    hidden_for = 0.5
    assert np.linalg.norm(track.predicted_anchor(35 / 30 + hidden_for,
                                                 tracker.prediction_horizon_s) - track.anchor) \
        <= tracker.max_speed_m_s * hidden_for + 1e-9


def test_someone_who_walks_out_of_the_image_and_back_keeps_their_id():
    """Walking out at 1.5 m/s, they turn round unseen and come back 2.5 s later where they
    left (inside the default lost timeout). The prediction stops after its horizon, so they are
    within the widened gate; a prediction that walked on for all 2.5 s would be 3.75 m beyond,
    out of the gate (0.8 m + 1 m/s unseen: 3.3 m), and they would get a new ID."""
    for horizon, expected in ((0.5, [1]), (10.0, [2])):
        tracker = PeopleTracker(smoothing=None, prediction_horizon_s=horizon)
        for k in range(31):
            tracker.update(k / 30, [person(1.5 * k / 30)])
        tracks = tracker.update(1.0 + 2.5, [person(1.5)])
        assert tracker.lost_timeout_s > 2.5
        assert ids(tracks, TRACKED) + ids(tracks, NEW) == expected
    with pytest.raises(ValueError, match="prediction_horizon_s"):
        PeopleTracker(prediction_horizon_s=-1.0)


def test_bench_smoothing_measures_what_the_node_publishes(shipped_estimator):
    """bench-smoothing runs the node's per-frame step (FrameTracker), so its One-Euro setting
    steadies a still person's published joints as the node's does."""
    from depth_pose_ros.runtime.pipeline import PosePipeline
    from depth_pose_ros.synth.scenes import demo_sequence
    from depth_pose_ros.tools.bench_smoothing import _published

    still = np.repeat(demo_sequence(0).depth[:1], 20, axis=0)
    pipeline = PosePipeline(shipped_estimator)
    raw = _published(pipeline, still, 1, None)
    smooth = _published(pipeline, still, 1, (0.5, 0.5))
    assert np.isfinite(raw).all() and np.isfinite(smooth).all()

    def jitter(joints):
        return np.linalg.norm(np.diff(joints, axis=0), axis=2).mean()
    assert jitter(smooth) < 0.5 * jitter(raw)
    np.testing.assert_allclose(smooth[0], raw[0])  # the filter starts at the first estimate

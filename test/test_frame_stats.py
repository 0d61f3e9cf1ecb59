"""The node's /diagnostics window, without the middleware."""
import math

from depth_pose_ros.runtime.frame_stats import FrameStats


def test_a_window_gives_rates_drops_latency_and_starts_the_next():
    stats = FrameStats(start=10.0)
    for latency in (0.001, 0.002, 0.003):
        stats.received()
        stats.published(latency, people=1)
    stats.received()
    stats.problem("encoding", "dropping depth image: unsupported encoding 'rgb8'")
    stats.problem("camera_info", "ignoring CameraInfo: bad K", dropped=False)
    summary = stats.summary(now=12.0)
    assert summary.seconds == 2.0 and summary.input_hz == 2.0 and summary.output_hz == 1.5
    assert summary.dropped == 1 and summary.people_seen == 1
    assert math.isclose(summary.latency_p50_ms, 2.0)
    assert set(summary.problems) == {"encoding", "camera_info"}

    idle = stats.summary(now=13.0)  # the next window: nothing arrived
    assert idle.input_hz == 0 and idle.dropped == 0 and not idle.problems
    assert math.isnan(idle.latency_p50_ms) and idle.people_seen == 1  # last seen, still

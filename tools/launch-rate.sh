#!/usr/bin/env bash
# /body_joints rate under `ros2 launch depth_pose_ros pose.launch.py` against the camera's, with
# the launch file's Fast DDS profile (the default) and without it (fastdds_profile:=none), the
# camera (the synthetic one, 30 Hz, 640 x 480 16UC1) with and without the same profile; for
# BENCHMARKS.md. Needs ros2 (launch, launch_ros and ros2cli are not on PyPI: build them from
# source) and a sourced workspace that holds this package.
#   tools/launch-rate.sh [SECONDS]
set -euo pipefail
seconds=${1:-20}
profile=$(ros2 pkg prefix depth_pose_ros)/share/depth_pose_ros/config/fastdds_large_images.xml

count() {  # count SECONDS: messages per second on the camera's topic and on /body_joints
    python - "$1" <<'PY'
import sys, time
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from depth_pose_ros.msg import BodyJoints
rclpy.init()
node = rclpy.create_node("launch_rate")
counts = {"camera": 0, "body_joints": 0}
node.create_subscription(Image, "/camera/depth/image_raw",
                         lambda m: counts.__setitem__("camera", counts["camera"] + 1),
                         qos_profile_sensor_data)
node.create_subscription(BodyJoints, "/body_joints",
                         lambda m: counts.__setitem__("body_joints", counts["body_joints"] + 1), 10)
end = time.monotonic() + 3.0  # discovery
while time.monotonic() < end:
    rclpy.spin_once(node, timeout_sec=0.05)
counts.update(camera=0, body_joints=0)
start = time.monotonic()
while time.monotonic() - start < float(sys.argv[1]):
    rclpy.spin_once(node, timeout_sec=0.05)
elapsed = time.monotonic() - start
print(f"camera {counts['camera'] / elapsed:.1f} Hz (as received here), "
      f"/body_joints {counts['body_joints'] / elapsed:.1f} Hz")
PY
}

stop() { kill -INT -- "-$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Each process tree runs in a session of its own and is stopped as a whole with SIGINT (Ctrl-C).
for camera_profile in "$profile" ""; do
    FASTDDS_DEFAULT_PROFILES_FILE=$camera_profile setsid ros2 run depth_pose_ros \
        synthetic_camera --ros-args -p rate:=30.0 -p keyframes:=4 -p steps:=20 >/dev/null 2>&1 &
    camera=$!
    trap 'stop $camera' EXIT
    for node_profile in default none; do
        setsid ros2 launch depth_pose_ros pose.launch.py "fastdds_profile:=$( [ $node_profile = default ] && echo $profile || echo none)" \
            >/dev/null 2>&1 &
        launch=$!
        sleep 15  # the model loads, the camera renders its sequence
        [ "$node_profile" = default ] && node_profile=$(basename "$profile")
        echo "camera profile ${camera_profile:+$(basename "$profile")}${camera_profile:-none}," \
             "node profile $node_profile: $(count "$seconds")"
        stop $launch
    done
    stop $camera
done

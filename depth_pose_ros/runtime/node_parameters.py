"""pose_node's parameters, ROS-free: names, defaults, descriptions, read-only flags and ranges,
and the node's own rules beyond them (check_parameters). pose_node turns the table into
ParameterDescriptors; bag-eval and the benchmarks read its defaults without rclpy."""
from __future__ import annotations

from depth_pose_ros.runtime.estimator import PRECISIONS, SHIPPED_MODEL
from depth_pose_ros.runtime.person import PersonFilter
from depth_pose_ros.runtime.tracking import (CHOICES, GATE_GROWTH_M_S, GATE_M, LOST_TIMEOUT_S,
                                             POSE_WEIGHT, SMOOTHING)

# name: (default, description, {read_only, range: (low, high)}). config/pose.yaml repeats the
# defaults; a test keeps them in step.
PARAMETERS = {
    "model_path": ("", "model directory written by `depth-pose export`; empty: the default "
                   f"(models/{SHIPPED_MODEL}; models/dnn33-paper is the paper reproduction)",
                   {"read_only": True}),
    "precision": ("", f"inference precision: empty (the model's choice) or one of {PRECISIONS}",
                  {"read_only": True}),
    "mirror_average": (True, "run each frame and its left-right mirror image in one batch and "
                       "average the two estimates (AP@10cm +0.02, about 1.5x the inference time)",
                       {"read_only": True}),
    "inference_threads": (0, "OpenVINO CPU threads; 0: OpenVINO's choice",
                          {"read_only": True, "range": (0, 256)}),
    "frame_prefix": ("body_", "TF child frames are <frame_prefix><id>_<joint name>", {}),
    "max_people": (4, "at most this many people are estimated per frame, closest first (the "
                   "work grows with it)", {"range": (1, 16)}),
    "lost_timeout": (LOST_TIMEOUT_S, "seconds a person unseen keeps their ID (and /bodies lists "
                     "them as lost) before they are dropped for good", {"range": (0.0, 60.0)}),
    "tracking_gate": (GATE_M, "metres: a person this far (their surface's centre, plus "
                      f"{POSE_WEIGHT:g} times the pose difference) from where a tracked one was "
                      f"expected starts a new ID; it widens by {GATE_GROWTH_M_S:g} m per second a "
                      "track is unseen",
                      {"range": (0.05, 5.0)}),
    "body_joints_person": ("central", "who /body_joints carries: 'central', the tracked person "
                           "nearest the optical axis, or 'nearest', the one nearest the camera; "
                           "held while they stay in view", {}),
    "hri.enabled": (False, "also publish ROS4HRI (REP-155): /humans/bodies/tracked, "
                    "/humans/bodies/<id>/skeleton2d and roi, TF body_<id> (needs hri_msgs)",
                    {"read_only": True}),
    "min_depth": (PersonFilter.min_depth, "metres; nearer returns are ignored",
                  {"range": (0.1, 10.0)}),
    "max_depth": (PersonFilter.max_depth, "metres; farther returns are ignored (the default "
                  "model was trained on people up to 5 m away)", {"range": (0.2, 20.0)}),
    "remove_floor": (True, "find and remove the floor plane before isolating the person", {}),
    "remove_walls": (True, "find and remove the walls (large upright planes running out of the "
                     "image) and their recesses before isolating the person: someone standing "
                     "with their back near a wall is one surface with it until then", {}),
    "roi_x_offset": (0, "region of interest in source pixels (as sensor_msgs/RegionOfInterest)",
                     {"range": (0, 16384)}),
    "roi_y_offset": (0, "region of interest: first row", {"range": (0, 16384)}),
    "roi_width": (0, "region of interest: width in pixels; 0: to the right edge",
                  {"range": (0, 16384)}),
    "roi_height": (0, "region of interest: height in pixels; 0: to the bottom edge",
                   {"range": (0, 16384)}),
    # On by default: `depth-pose bench-smoothing` measured less error and a third of the jitter.
    "smoothing": (True, "One-Euro filter on the joints over time (less jitter, some lag)", {}),
    "smoothing_min_cutoff": (SMOOTHING[0], "One-Euro cutoff at rest, Hz",
                             {"range": (0.01, 30.0)}),
    "smoothing_beta": (SMOOTHING[1], "One-Euro speed coefficient: the cutoff rises this many Hz "
                       "per m/s of a joint's speed", {"range": (0.0, 100.0)}),
    "publish_tf": (True, "publish one TF frame per joint on /tf", {}),
    "publish_markers": (True, "publish joint spheres and bones on body_markers", {}),
    "markers_max_rate": (30.0, "Hz; markers are for eyes (RViz), not every frame of a fast "
                         "camera; 0: every frame", {"range": (0.0, 1000.0)}),
    "publish_network_input": (False, "publish the 60 x 50 network input on "
                              "~/network_input/image_rect, its CameraInfo and its TF frame", {}),
    "warning_period": (5.0, "seconds between two warnings of the same kind (bad input)",
                       {"range": (0.0, 3600.0)}),
    "stats_period": (10.0, "seconds between log lines with rate and latency; 0: never",
                     {"read_only": True, "range": (0.0, 3600.0)}),
    "diagnostics_period": (1.0, "seconds between two diagnostic_msgs/DiagnosticArray on "
                           "/diagnostics (rates, drops, latency, warnings); 0: none",
                           {"read_only": True, "range": (0.0, 3600.0)}),
    "managed": (False, "true: a lifecycle manager configures (loads the model) and activates "
                "(subscribes) the node; false: it does both itself at start", {"read_only": True}),
}


def defaults() -> dict:
    """{name: default value}: the node as it starts without a parameter file."""
    return {name: default for name, (default, _, _) in PARAMETERS.items()}


class ParameterError(ValueError):
    """A parameter value the node refuses: a user mistake, said in one line."""


def check_parameters(values: dict) -> str | None:
    """The node's rules beyond each parameter's type and range, which its descriptor holds and
    rclpy checks first. One function for start-up and every set, whatever the value's source
    (YAML, launch argument, -p, ros2 param set): None if fine, else why not, in one line."""
    if values["precision"] not in ("", *PRECISIONS):
        return f"precision must be empty or one of {', '.join(PRECISIONS)}, got " \
               f"{values['precision']!r}"
    if not values["min_depth"] < values["max_depth"]:
        return f"min_depth ({values['min_depth']}) must be < max_depth ({values['max_depth']})"
    if values["body_joints_person"] not in CHOICES:
        return f"body_joints_person must be one of {', '.join(CHOICES)}, got " \
               f"{values['body_joints_person']!r}"
    prefix = values["frame_prefix"]
    if prefix.startswith("/") or any(c.isspace() for c in prefix):
        return f"frame_prefix must not start with '/' or hold spaces, got {prefix!r}"
    return None

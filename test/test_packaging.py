"""The two ways the package is installed: a ROS 2 workspace (ament_cmake) and pip."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


def test_package_xml_is_an_interface_package():
    from catkin_pkg.package import parse_package

    package = parse_package(REPO / "package.xml")
    assert package.name == "depth_pose_ros"
    assert package.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in [g.name for g in package.member_of_groups]
    import depth_pose_ros
    assert package.version == depth_pose_ros.__version__


def _fresh_shell(script: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """bash in a clean environment with the venv activated (the README's first step); without
    AMENT_PREFIX_PATH, which the build and the workspace's setup files must provide themselves."""
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": f"{VENV / 'bin'}:/usr/bin:/bin",
           "VIRTUAL_ENV": str(VENV), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
           "ROS_LOG_DIR": str(cwd / "ros-log")}
    return subprocess.run(["bash", "-c", f"set -e\n{script}"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_colcon_builds_the_workspace_as_the_readme_says(tmp_path):
    """README, "In a ROS 2 workspace": the checkout in ws/src, colcon build, source
    install/setup.bash in a fresh shell; then the install space alone (ros2 itself is not on
    the package registry)."""
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "depth_pose_ros").symlink_to(REPO)
    built = _fresh_shell("colcon build --event-handlers console_direct-", ws)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    prefix = ws / "install" / "depth_pose_ros"
    assert os.access(prefix / "lib" / "depth_pose_ros" / "pose_node", os.X_OK)  # ros2 run
    share = prefix / "share" / "depth_pose_ros"
    assert (share / "launch" / "pose.launch.py").is_file()
    assert (share / "config" / "pose.yaml").is_file() and (share / "config" / "pose.rviz").is_file()
    installed = next(prefix.glob("lib/python3*/site-packages/depth_pose_ros"))
    assert (installed / "camera.py").is_file() and (installed / "msg").is_dir()

    # The install space alone: -S skips the venv's .pth that puts the checkout first on the
    # path (its site-packages is appended for numpy, openvino and the rosidl runtime).
    site = next(VENV.glob("lib/python3*/site-packages"))
    probe = (
        "import sys; sys.path.append('%s')\n"
        "import depth_pose_ros.camera as c\n"
        "from depth_pose_ros.msg import BodyJoints\n"
        "from depth_pose_ros.runtime.estimator import PoseEstimator, default_model_dir\n"
        "from ament_index_python.packages import get_package_share_directory as share\n"
        "print(c.__file__, default_model_dir(), share('sensor_msgs'), "
        "PoseEstimator.load(None).precision, BodyJoints().person_detected)" % site)
    (tmp_path / "probe.py").write_text(probe)
    result = _fresh_shell(f"source {ws}/install/setup.bash\necho $AMENT_PREFIX_PATH\n"
                          f"python -S {tmp_path / 'probe.py'}", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    index, answer = result.stdout.strip().splitlines()[-2:]
    assert str(VENV) in index.split(":")  # the workspace's setup keeps the venv's ROS indexed
    camera_file, model_dir, sensor_share, precision, detected = answer.split()
    assert Path(camera_file).is_relative_to(prefix)
    assert Path(model_dir) == share / "models" / "dnn32d8w" and precision in ("bf16", "f32")
    assert Path(sensor_share).is_relative_to(VENV) and detected == "False"

    # `ros2 run depth_pose_ros pose_node` runs the installed script with the venv's python (its
    # site sets the ROS wheels' library path): one clear line for a missing model.
    result = _fresh_shell(
        f"source {ws}/install/setup.bash\n"
        f"{prefix / 'lib' / 'depth_pose_ros' / 'pose_node'}"
        f" --ros-args -p model_path:={tmp_path / 'none'} || echo exit=$?", tmp_path)
    assert "exit=2" in result.stdout, result.stderr[-3000:]
    assert "model.json is missing" in result.stderr and "Traceback" not in result.stderr


def test_a_venv_inside_the_source_tree_does_not_stop_cmake(tmp_path):
    """make setup's .venv lies in the checkout: its numpy headers must not be exported from
    the source tree (CMake refuses that at its generate step)."""
    result = _fresh_shell(f"cmake -S {REPO} -B {tmp_path / 'build'} -DBUILD_TESTING=OFF "
                          f"-DPython3_EXECUTABLE={VENV / 'bin' / 'python'}", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Generating done" in result.stdout or "Build files have been written" in result.stdout


def test_pip_wheel_is_the_core_with_small_runtime_needs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    wheel = next(tmp_path.glob("depth_pose-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    for module in ("camera", "runtime/pipeline", "ros/pose_node", "synth/generate", "learn/train",
                   "tools/cli"):
        assert f"depth_pose_ros/{module}.py" in names, module
    assert not any(n.startswith("test/") for n in names)
    runtime = [line for line in metadata.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert sorted(r.split()[1].split(">")[0] for r in runtime) == ["numpy", "openvino"]
    assert "depth-pose = depth_pose_ros.tools.cli:main" in entry_points

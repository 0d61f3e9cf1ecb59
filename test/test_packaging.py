"""The two ways the package is installed: a ROS 2 workspace (ament_cmake) and pip."""
import os
import shutil
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


def test_workspace_install_holds_sources_and_interfaces(tmp_path):
    """What colcon does with CMakeLists.txt, done with cmake against the venv's ROS wheels."""
    # A copy, as in a workspace's src/: the venv (the ROS underlay here) lies inside the
    # checkout, and CMake refuses exported include paths inside the source tree.
    source, build, prefix = tmp_path / "src" / "depth_pose_ros", tmp_path / "build", tmp_path / "install"
    for name in ("package.xml", "CMakeLists.txt", "msg", "depth_pose_ros", "scripts", "launch",
                 "config"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / name, source / name)
    env = dict(os.environ, AMENT_PREFIX_PATH=str(VENV))
    commands = [
        ["cmake", "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={VENV}",
         f"-DCMAKE_INSTALL_PREFIX={prefix}", f"-DPython3_EXECUTABLE={sys.executable}",
         "-DBUILD_TESTING=OFF"],
        ["cmake", "--build", build, "-j2"],
        ["cmake", "--install", build],
    ]
    for command in commands:
        result = subprocess.run([str(c) for c in command], env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # `ros2 run depth_pose_ros pose_node` and `ros2 launch depth_pose_ros pose.launch.py` find these.
    assert os.access(prefix / "lib" / "depth_pose_ros" / "pose_node", os.X_OK)
    share = prefix / "share" / "depth_pose_ros"
    assert (share / "launch" / "pose.launch.py").is_file()
    assert (share / "config" / "pose.yaml").is_file() and (share / "config" / "pose.rviz").is_file()

    installed = next(prefix.glob("lib/python3*/site-packages/depth_pose_ros"))
    assert (installed / "camera.py").is_file() and (installed / "msg").is_dir()
    # Import from the install space alone (no checkout on the path): -S skips the venv's .pth
    # that puts the checkout first; the venv's site-packages supplies numpy and rosidl runtime.
    site = next(VENV.glob("lib/python3*/site-packages"))
    probe = ("import depth_pose_ros, depth_pose_ros.camera as c; "
             "from depth_pose_ros.msg import BodyJoints; "
             "print(c.__file__); print(BodyJoints().person_detected)")
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=f"{installed.parent}:{site}"))
    assert result.returncode == 0, result.stderr[-3000:]
    camera_file, detected = result.stdout.split()
    assert Path(camera_file).is_relative_to(prefix)
    assert detected == "False"

    # `ros2 run depth_pose_ros pose_node` runs this script: it starts from the install space and
    # stops with one clear line when its model is missing (the install here has no models/).
    result = subprocess.run(
        [sys.executable, "-S", str(prefix / "lib" / "depth_pose_ros" / "pose_node"),
         "--ros-args", "-p", f"model_path:={tmp_path / 'none'}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=f"{installed.parent}:{site}"))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "model.json is missing" in result.stderr and "Traceback" not in result.stderr


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
    assert "depth_pose_ros/camera.py" in names and "depth_pose_ros/synth.py" in names
    assert not any(n.startswith("test/") for n in names)
    runtime = [line for line in metadata.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert sorted(r.split()[1].split(">")[0] for r in runtime) == ["numpy", "openvino"]
    assert "depth-pose = depth_pose_ros.cli:main" in entry_points

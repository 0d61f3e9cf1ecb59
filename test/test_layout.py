"""The package's layers (issue 17), read from the import statements of every module, those inside
functions included: a lazy import crosses a boundary as much as one at the top."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "depth_pose_ros"
TOP = {"__init__", "camera", "joints", "depth_image", "distortion"}
SUBPACKAGES = {"runtime", "ros", "synth", "learn", "tools"}
ROS = {"rclpy", "rcl_interfaces", "builtin_interfaces", "std_msgs", "sensor_msgs",
       "geometry_msgs", "visualization_msgs", "tf2_msgs", "diagnostic_msgs", "lifecycle_msgs",
       "hri_msgs", "depth_pose_ros.msg"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "depth_pose_ros":  # from depth_pose_ros import x
                names.update(f"depth_pose_ros.{alias.name}" for alias in node.names)
    return names


def _modules() -> dict[str, set[str]]:
    """'runtime/pipeline' -> the modules it imports."""
    return {str(p.relative_to(PACKAGE).with_suffix("")): _imports(p)
            for p in PACKAGE.rglob("*.py") if "msg" not in p.relative_to(PACKAGE).parts}


def _layer(module: str) -> str:
    return module.split("/")[0] if "/" in module else "top"


def _uses(imported: set[str], names) -> set[str]:
    return {i for i in imported for n in names if i == n or i.startswith(n + ".")}


def test_the_package_is_its_five_subpackages_and_the_shared_modules():
    layers = {_layer(m) for m in _modules()}
    assert layers == SUBPACKAGES | {"top"}
    assert {m for m in _modules() if _layer(m) == "top"} == TOP


def test_the_runtime_and_the_shared_modules_import_no_other_layer():
    others = [f"depth_pose_ros.{s}" for s in SUBPACKAGES - {"runtime"}]
    for module, imported in _modules().items():
        if _layer(module) == "top":
            assert not _uses(imported, [f"depth_pose_ros.{s}" for s in SUBPACKAGES]), module
        if _layer(module) == "runtime":
            assert not _uses(imported, others), (module, _uses(imported, others))


def test_only_ros_imports_rclpy_and_ros_messages():
    for module, imported in _modules().items():
        if _layer(module) != "ros":
            assert not _uses(imported, ROS), (module, _uses(imported, ROS))
    assert any(_uses(imported, {"rclpy"}) for m, imported in _modules().items())  # the check bites


def test_neither_the_runtime_nor_ros_imports_torch():
    for module, imported in _modules().items():
        if _layer(module) in ("runtime", "ros", "top"):
            assert not _uses(imported, {"torch", "nncf"}), module

"""Contact sheets: depth frames with their ground-truth skeletons drawn on top (needs matplotlib)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from depth_pose_ros.joints import BONES, JOINT_NAMES

# Person's right in red, left in blue, root and shoulder line in white.
_BONE_COLOURS = {(0, 1): "w", (0, 4): "w", (1, 4): "w", (1, 2): "r", (2, 3): "r",
                 (4, 5): "c", (5, 6): "c"}


def save_figure(fig, out: Path, dpi: int) -> Path:
    """Lay out, write (creating the folder) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor="white")
    plt.close(fig)
    return out


def draw_skeleton(ax, pixels: np.ndarray, style: str = "-", alpha: float = 1.0) -> None:
    """Draw one (7, 2) skeleton in pixel coordinates onto a matplotlib axis."""
    for i, j in BONES:
        ax.plot(pixels[[i, j], 0], pixels[[i, j], 1], style, color=_BONE_COLOURS[(i, j)],
                linewidth=1.2, alpha=alpha)
    hands = [JOINT_NAMES.index("right_hand"), JOINT_NAMES.index("left_hand")]
    ax.plot(pixels[hands, 0], pixels[hands, 1], "o", color="yellow", markersize=3, alpha=alpha)


def contact_sheet(depth_m: np.ndarray, pixels: np.ndarray, out: Path, columns: int = 8,
                  titles: list[str] | None = None, estimates: np.ndarray | None = None) -> Path:
    """Save frames (N, H, W) in metres (0 = no return) with skeletons (N, 7, 2) as one PNG.

    With estimates (N, 7, 2), those skeletons are drawn dashed over the (solid) truth.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(depth_m)
    rows = int(np.ceil(n / columns))
    height, width = depth_m.shape[1:]
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.9, rows * 1.75), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if k >= n:
            continue
        frame = np.where(depth_m[k] > 0, depth_m[k], np.nan)
        near = np.nanmin(frame) if np.isfinite(frame).any() else 0.0
        # Per-frame range: 60 cm of depth from the nearest point shows the body's relief.
        ax.imshow(frame, cmap="viridis_r", vmin=near, vmax=near + 0.6, interpolation="nearest")
        ax.set_facecolor("black")
        draw_skeleton(ax, pixels[k])
        if estimates is not None:
            draw_skeleton(ax, estimates[k], style="--", alpha=0.8)
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_title(titles[k] if titles else f"#{k}", fontsize=7)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("depth, nearest 60 cm per frame (near = yellow), with ground truth: right arm red, left cyan",
                 fontsize=9)
    return save_figure(fig, out, dpi=110)


def pose_overlay(depth_m: np.ndarray, pose, out: Path, title: str = "",
                 truth_pixels: np.ndarray | None = None) -> Path:
    """Save a source depth image (metres) with a pipeline.PersonPose drawn on it, beside the
    60 x 50 network input: what the node saw and what it made of it. Ground truth (7, 2), when
    given, is drawn dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=(3, 2))
    valid = depth_m[depth_m > 0]
    vmin, vmax = (np.percentile(valid, [1, 99]) if valid.size else (0.5, 4.5))
    left.imshow(np.where(depth_m > 0, depth_m, np.nan), cmap="viridis_r", vmin=vmin, vmax=vmax,
                interpolation="nearest")
    left.set_facecolor("black")
    if pose.detected:
        draw_skeleton(left, pose.pixels)
        for name, (u, v), ok in zip(pose.names, pose.pixels, pose.in_view):
            if ok and name != "root":
                left.annotate(name.replace("_", " "), (u, v), color="white", fontsize=6,
                              xytext=(3, 3), textcoords="offset points")
    if truth_pixels is not None:
        draw_skeleton(left, truth_pixels, style="--", alpha=0.7)
    left.set_xlim(-0.5, depth_m.shape[1] - 0.5)
    left.set_ylim(depth_m.shape[0] - 0.5, -0.5)
    left.set_title(title or ("person found" if pose.detected else "no person found"), fontsize=9)
    net = pose.network_input
    right.imshow(np.where(net > 0, net, np.nan), cmap="viridis_r", interpolation="nearest")
    right.set_facecolor("black")
    right.set_title(f"network input {net.shape[1]} x {net.shape[0]} (the person only)", fontsize=9)
    return save_figure(fig, out, dpi=100)

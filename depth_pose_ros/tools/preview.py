"""Contact sheets: depth frames with their ground-truth skeletons drawn on top (needs matplotlib)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import BONES, JOINT_NAMES, SHOULDERS

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


def pose_overlay(depth_m: np.ndarray, poses, out: Path, title: str = "",
                 truth_pixels: np.ndarray | None = None, ids: list[int] | None = None) -> Path:
    """Save a source depth image (metres) with pipeline.PersonPose estimates drawn on it (one,
    or a list; labelled with ids when given), beside the 60 x 50 network input each person's
    turned virtual camera made: what the node saw and what it made of it. Ground truth
    ((7, 2), or (P, 7, 2) for several people), when given, is drawn dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    poses = [p for p in ([poses] if hasattr(poses, "detected") else poses) if p.detected]
    labels = ids if ids is not None else list(range(1, len(poses) + 1))
    # The network inputs there are (a live node publishes only its /body_joints person's).
    shown = [(label, p.network_input) for label, p in zip(labels, poses)
             if (p.network_input > 0).any()] or [
                 (None, np.zeros(PinholeCamera.virtual().shape, np.float32))]
    inputs = len(shown)
    fig, axes = plt.subplots(1, 1 + inputs, figsize=(6 + 2.6 * inputs, 4),
                             width_ratios=(3,) + (1.3,) * inputs, squeeze=False)
    left, nets = axes[0, 0], axes[0, 1:]
    valid = depth_m[depth_m > 0]
    vmin, vmax = (np.percentile(valid, [1, 99]) if valid.size else (0.5, 4.5))
    left.imshow(np.where(depth_m > 0, depth_m, np.nan), cmap="viridis_r", vmin=vmin, vmax=vmax,
                interpolation="nearest")
    left.set_facecolor("black")
    for k, pose in enumerate(poses):
        draw_skeleton(left, pose.pixels)
        label = f"{labels[k]}" if ids is not None or len(poses) > 1 else None
        for name, (u, v), ok in zip(pose.names, pose.pixels, pose.in_view):
            if ok and name != "root" and len(poses) == 1:
                left.annotate(name.replace("_", " "), (u, v), color="white", fontsize=6,
                              xytext=(3, 3), textcoords="offset points")
        if label is not None:
            u, v = pose.pixels[SHOULDERS].mean(axis=0)
            left.annotate(label, (u, v), color="yellow", fontsize=10, fontweight="bold",
                          xytext=(0, -18), textcoords="offset points", ha="center")
    if truth_pixels is not None:
        for skeleton in np.asarray(truth_pixels).reshape(-1, 7, 2):
            draw_skeleton(left, skeleton, style="--", alpha=0.7)
    left.set_xlim(-0.5, depth_m.shape[1] - 0.5)
    left.set_ylim(depth_m.shape[0] - 0.5, -0.5)
    found = f"{len(poses)} {'person' if len(poses) == 1 else 'people'} found"
    left.set_title(title or found if poses else title or "no person found", fontsize=9)
    for ax, (label, net) in zip(nets, shown):
        ax.imshow(np.where(net > 0, net, np.nan), cmap="viridis_r", interpolation="nearest")
        ax.set_facecolor("black")
        who = f" of {label}" if len(poses) > 1 else ""
        ax.set_title(f"network input{who}\n{net.shape[1]} x {net.shape[0]}, turned to the person",
                     fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, out, dpi=100)

"""The paper's networks (§4), in PyTorch. Only models live here.

Input (N, 1, 50, 60): one preprocessed depth channel. Output (N, 33): normalised targets.
The output layer is linear (the paper says ReLU in all neurons; a ReLU there would clip the
normalised targets at 0 and block gradients for outputs that start below it).
"""
from __future__ import annotations

import torch
from torch import nn

from depth_pose_ros.joints import NUM_TARGETS

INPUT_SHAPE = (1, 50, 60)


class MLP(nn.Module):
    """3000 inputs -> 500 ReLU -> 33."""

    def __init__(self, hidden: int = 500):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(50 * 60, hidden), nn.ReLU(),
                                 nn.Linear(hidden, NUM_TARGETS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DNN(nn.Module):
    """conv 5x5 x20 -> pool 2 -> conv 5x5 x`filters` -> pool 2 (ceil) -> FC 500 -> FC 33.

    DNN20, DNN33 and DNN50 differ in `filters`, the second convolution's width.
    """

    def __init__(self, filters: int = 33, hidden: int = 500):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 20 x 25 x 30
            nn.Conv2d(20, filters, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),  # filters x 13 x 15
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(filters * 13 * 15, hidden), nn.ReLU(),
                                  nn.Linear(hidden, NUM_TARGETS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ARCHITECTURES = {
    "mlp": lambda: MLP(),
    "dnn20": lambda: DNN(20),
    "dnn33": lambda: DNN(33),
    "dnn50": lambda: DNN(50),
}


def build_model(arch: str) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch]()


def count_weights(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""The paper's networks (§4), in PyTorch. Only models live here.

Input (N, 1, 50, 60): one preprocessed depth channel. Output (N, 33): normalised targets, or
(N, 40) with error_scales (beyond the paper): each joint's log error scale after them
(joints.ERROR_SCALES).
The output layer is linear (the paper says ReLU in all neurons; a ReLU there would clip the
normalised targets at 0 and block gradients for outputs that start below it).
"""
from __future__ import annotations

import torch
from torch import nn

from depth_pose_ros.joints import NUM_OUTPUTS_WITH_SCALES, NUM_TARGETS
from depth_pose_ros.learn.architectures import ARCHITECTURES

INPUT_SHAPE = (1, 50, 60)


class MLP(nn.Module):
    """3000 inputs -> 500 ReLU -> 33."""

    def __init__(self, hidden: int = 500, outputs: int = NUM_TARGETS):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(50 * 60, hidden), nn.ReLU(),
                                 nn.Linear(hidden, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DNN(nn.Module):
    """conv 5x5 x20 -> pool 2 -> conv 5x5 x`filters` -> pool 2 (ceil) -> FC 500 -> FC 33.

    DNN20, DNN33 and DNN50 differ in `filters`, the second convolution's width. Beyond the
    paper, `refinements` 3x3 convolutions (filters -> filters, ReLU) follow the second pooling:
    depth where it costs little time (a few thousand weights each; the time goes to FC 500).
    """

    def __init__(self, filters: int = 33, hidden: int = 500, outputs: int = NUM_TARGETS,
                 refinements: int = 0):
        super().__init__()
        refining = [layer for _ in range(refinements)
                    for layer in (nn.Conv2d(filters, filters, 3, padding=1), nn.ReLU())]
        self.features = nn.Sequential(
            nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 20 x 25 x 30
            nn.Conv2d(20, filters, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),  # filters x 13 x 15
            *refining,
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(filters * 13 * 15, hidden), nn.ReLU(),
                                  nn.Linear(hidden, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# --- the paper's §7 comparison networks, adapted to one 50 x 60 depth channel ---------------------
# Written here because torchvision does not import beside this CPU torch; trained from scratch
# (no ImageNet weights can be downloaded on these machines). "F": the whole network, its classifier
# replaced by FC33. "S": at most the first two convolutions and poolings, then FC500 + FC33.

def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                                   bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    """ResNet's two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(cin, cout, 3, stride),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet_features(blocks: tuple[int, ...], channels: int = 1) -> nn.Sequential:
    """ResNet-18 (2, 2, 2, 2) / -34 (3, 4, 6, 3) up to the global average pool (He et al.)."""
    layers = [_conv_bn(channels, 64, 7, 2), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, count in enumerate(blocks):
        cout = 64 * 2 ** stage
        for k in range(count):
            layers.append(BasicBlock(cin, cout, 2 if k == 0 and stage > 0 else 1))
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def mobilenet_features(channels: int = 1) -> nn.Sequential:
    """MobileNet v1 (Howard et al. 2017), width 1.0: depthwise-separable blocks."""
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
        [(1024, 2), (1024, 1)]
    layers, cin = [_conv_bn(channels, 32, 3, 2)], 32
    for cout, stride in plan:
        layers += [_conv_bn(cin, cin, 3, stride, groups=cin), _conv_bn(cin, cout, 1)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


class Fire(nn.Module):
    """SqueezeNet's squeeze 1x1 then expand 1x1 and 3x3, concatenated."""

    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU(inplace=True))
        self.expand1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU(inplace=True))
        self.expand3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat([self.expand1(x), self.expand3(x)], dim=1)


def squeezenet_features(channels: int = 1) -> nn.Sequential:
    """SqueezeNet 1.1 (Iandola et al.) up to fire9, then a global average pool."""
    pool = nn.MaxPool2d(3, 2, ceil_mode=True)
    return nn.Sequential(
        nn.Conv2d(channels, 64, 3, 2), nn.ReLU(inplace=True), pool,
        Fire(64, 16, 64), Fire(128, 16, 64), pool,
        Fire(128, 32, 128), Fire(256, 32, 128), pool,
        Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), Fire(512, 64, 256),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
VGG16_REDUCED = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")  # VGG's A, 11 layers


def vgg_features(plan: tuple, channels: int = 1) -> nn.Sequential:
    """VGG (Simonyan and Zisserman) 3x3 convolution stacks; 'M' is a 2x2 max-pool (ceil, so a
    50 x 60 input keeps a 2 x 2 map after five of them)."""
    layers, cin = [], channels
    for item in plan:
        if item == "M":
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        else:
            layers += [nn.Conv2d(cin, item, 3, padding=1), nn.ReLU(inplace=True)]
            cin = item
    return nn.Sequential(*layers, nn.Flatten())


def first_layers(features: nn.Sequential, convolutions: int = 2) -> nn.Sequential:
    """The "S" cut: the features' modules until two convolutions are in, whole blocks counted as
    one module (a ResNet block or a Fire module brings all its convolutions), with the
    activation and pooling that follow. As the paper's cuts: VGG pool1, ResNet-18 plus0,
    SqueezeNet fire2, MobileNet's second convolution."""
    kept, seen = [], 0
    for module in features:
        found = sum(isinstance(m, nn.Conv2d) for m in module.modules())
        if seen >= convolutions and not isinstance(module, (nn.MaxPool2d, nn.ReLU)):
            break
        kept.append(module)
        seen += found
    return nn.Sequential(*kept, nn.Flatten())


class Regressor(nn.Module):
    """Any feature extractor, then FC33 ("F") or FC500 + FC33 ("S")."""

    def __init__(self, features: nn.Sequential, hidden: int | None = None,
                 outputs: int = NUM_TARGETS):
        super().__init__()
        self.features = features
        with torch.no_grad():
            width = features(torch.zeros(1, *INPUT_SHAPE)).shape[1]
        self.head = nn.Linear(width, outputs) if hidden is None else nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


_FEATURES = {
    "mobilenet": mobilenet_features,
    "resnet18": lambda: resnet_features((2, 2, 2, 2)),
    "resnet34": lambda: resnet_features((3, 4, 6, 3)),
    "squeezenet": squeezenet_features,
    "vgg16": lambda: vgg_features(VGG16),
    "vgg16r": lambda: vgg_features(VGG16_REDUCED),
}

def build_model(arch: str, error_scales: bool = False) -> nn.Module:
    """The named network; with error_scales, 7 more outputs (each joint's log error scale)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    outputs = NUM_OUTPUTS_WITH_SCALES if error_scales else NUM_TARGETS
    kind, size = ARCHITECTURES[arch]
    hidden = 1000 if kind.endswith("_wide") else 500  # DNN48W's and DNN32D8W's hidden layer
    if kind == "mlp":
        return MLP(outputs=outputs)
    if kind in ("dnn", "dnn_wide"):
        return DNN(size, hidden=hidden, outputs=outputs)
    if kind in ("dnn_deep", "dnn_deep_wide"):
        filters, refinements = size
        return DNN(filters, hidden=hidden, outputs=outputs, refinements=refinements)
    if kind == "features_f":
        return Regressor(_FEATURES[size](), outputs=outputs)
    return Regressor(first_layers(_FEATURES[size]()), hidden=500, outputs=outputs)


def count_weights(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""The paper's §7 comparison networks: published layer structures, our 50 x 60 adaptation."""
import pytest
import torch

from depth_pose_ros.learn.models import (
    VGG16,
    VGG16_REDUCED,
    build_model,
    count_weights,
    mobilenet_features,
    resnet_features,
    squeezenet_features,
    vgg_features,
)

SECTION7 = [f"{net}_{cut}" for net in ("mobilenet", "resnet18", "resnet34", "squeezenet",
                                       "vgg16", "vgg16r") for cut in ("f", "s")]


def _with_imagenet_head(features, width):
    return count_weights(features) + width * 1000 + 1000


def test_structures_match_the_published_weight_counts():
    """Built for 3-channel ImageNet with a 1000-class head, ours count as the originals."""
    assert _with_imagenet_head(resnet_features((2, 2, 2, 2), 3), 512) == 11_689_512  # ResNet-18
    assert _with_imagenet_head(resnet_features((3, 4, 6, 3), 3), 512) == 21_797_672  # ResNet-34
    assert _with_imagenet_head(mobilenet_features(3), 1024) == 4_231_976  # MobileNet v1 1.0
    # Feature extractors alone (torchvision's counts): SqueezeNet 1.1, VGG-16, VGG-11 ("reduced").
    assert count_weights(squeezenet_features(3)) == 722_496
    assert count_weights(vgg_features(VGG16, 3)) == 14_714_688
    assert count_weights(vgg_features(VGG16_REDUCED, 3)) == 9_220_480


@pytest.mark.parametrize("arch", SECTION7)
def test_each_network_regresses_33_values_and_trains_a_step(arch):
    torch.manual_seed(0)
    model = build_model(arch)
    x, y = torch.randn(4, 1, 50, 60), torch.rand(4, 33)
    assert model(x).shape == (4, 33)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss = torch.nn.functional.l1_loss(model(x), y)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_s_variants_cut_after_the_first_convolutions():
    convs = {arch: sum(isinstance(m, torch.nn.Conv2d) for m in build_model(arch).modules())
             for arch in SECTION7 if arch.endswith("_s")}
    # VGG pool1 (2), MobileNet conv 2 (2), ResNet plus0 (stem + one block: 3), SqueezeNet fire2
    # (stem + squeeze + two expands: 4), reduced VGG (A: conv, pool, conv, pool: 2).
    assert convs == {"vgg16_s": 2, "mobilenet_s": 2, "resnet18_s": 3, "resnet34_s": 3,
                     "squeezenet_s": 4, "vgg16r_s": 2}

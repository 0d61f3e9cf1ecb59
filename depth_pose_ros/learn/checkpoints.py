"""Saved models read back into PyTorch: a training run's best.pt, or an exported OpenVINO IR
(for warm starts, evaluation and benchmarks)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from depth_pose_ros.learn.models import build_model
from depth_pose_ros.runtime.encoding import Preprocessor


def load_run(run: Path):
    """(model in eval mode, checkpoint dict) from a run directory's best.pt."""
    path = Path(run) / "best.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run} a training run directory?")
    checkpoint = torch.load(path, weights_only=False)
    model = build_model(checkpoint["arch"], checkpoint["config"].get("error_scales", False))
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint


def torch_from_ir(model_dir: Path, arch: str, error_scales: bool = False) -> nn.Module:
    """The PyTorch model of `arch` holding the weights of an exported OpenVINO IR (model.xml is
    saved uncompressed, so the f32 weights come back exactly)."""
    import openvino as ov

    model = build_model(arch, error_scales).eval()
    ir = ov.Core().read_model(Path(model_dir) / "model.xml")
    constants = [op.get_data() for op in ir.get_ordered_ops()
                 if op.get_type_name() == "Constant" and op.get_output_element_type(0).is_real()]
    parameters = list(model.parameters())
    if [c.size for c in constants] != [p.numel() for p in parameters]:
        raise ValueError(f"the weights in {model_dir} do not line up with a {arch}'s parameters")
    with torch.no_grad():
        for parameter, constant in zip(parameters, constants):
            parameter.copy_(torch.from_numpy(np.array(constant, np.float32)).reshape(parameter.shape))
    return model


def load_initial(path: Path) -> dict:
    """What a warm start needs of a training run (best.pt) or an exported model directory:
    {"arch", "model" (state dict), "preprocessor" (Preprocessor)}; a clear error otherwise."""
    path = Path(path)
    if (path / "best.pt").is_file():
        model, checkpoint = load_run(path)
        return {"arch": checkpoint["arch"], "model": model.state_dict(),
                "preprocessor": Preprocessor.from_dict(checkpoint["preprocessor"])}
    if (path / "model.json").is_file() and (path / "model.xml").is_file():
        info = json.loads((path / "model.json").read_text())
        model = torch_from_ir(path, info["arch"], bool(info.get("error_scales", False)))
        return {"arch": info["arch"], "model": model.state_dict(),
                "preprocessor": Preprocessor.from_dict(info["preprocessing"])}
    raise FileNotFoundError(f"{path} is neither a training run (best.pt) nor an exported model "
                            "(model.json, model.xml)")

"""Where training runs and what that device does fast (learning side; imports torch).

bf16 autocast only where it is native: on a CPU without bf16 instructions PyTorch emulates it,
slower than f32 (../shared/notes/ml-on-this-cpu.md). Detected, never assumed.
"""
from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda", "xpu")


class DeviceError(RuntimeError):
    """A device that was asked for and is not there (a user mistake, one line)."""


def _available(kind: str) -> bool:
    if kind == "cpu":
        return True
    backend = getattr(torch, kind, None)
    return bool(backend is not None and backend.is_available())


def pick_device(name: str = "auto") -> torch.device:
    """auto: an accelerator torch sees (CUDA, then XPU), else the CPU."""
    if name not in DEVICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        name = next(kind for kind in ("cuda", "xpu", "cpu") if _available(kind))
    elif not _available(name):
        raise DeviceError(f"--device {name}: torch sees no {name} device here "
                          f"(torch {torch.__version__}); use --device auto or cpu")
    return torch.device(name)


def native_bf16(device: torch.device) -> bool:
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "xpu"


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 where the device has it natively, else None (f32)."""
    return torch.bfloat16 if native_bf16(device) else None


def describe(device: torch.device) -> str:
    """One line for logs and run records: the device, and its precision."""
    precision = "bf16 autocast" if autocast_dtype(device) else "f32"
    if device.type == "cpu":
        return f"cpu ({torch.backends.cpu.get_cpu_capability()}, {precision})"
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, {precision})"
    return f"{device.type} ({precision})"

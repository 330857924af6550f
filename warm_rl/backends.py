"""What runs a recurrent layer: one place that answers, for a cell on a device.

Four implementations exist, and every layer asks :func:`select_backend` (or the
two predicates it is built from) which one to use:

* ``"torch_rnn"``: torch's own ``nn.LSTM`` / ``nn.GRU`` (cuDNN on a GPU, torch's
  fused LSTM on the CPU). LSTMs and chrono-LSTMs everywhere, GRUs on a GPU.
* ``"torchscript"``: the hand-written scans of :mod:`warm_rl.torchscript_scans`.
  GRUs on the CPU (torch has no fused CPU GRU), MGU / BRC / nBRC wherever Triton
  cannot run.
* ``"triton"``: the kernels of :mod:`warm_rl.triton_scans`, for MGU / BRC / nBRC
  on float32 CUDA tensors, in a ``"register"`` (recurrent matrices held in
  registers) or ``"sliced"`` variant chosen from the width and the GPU.
* ``merged_halves``: on the CPU, a double layer whose halves both run as scans
  runs them as one scan with block-diagonal recurrent weights (one time loop);
  on a GPU each half keeps its own kernel (a merged scan does twice the work and
  leaves the register-resident Triton path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType

import torch
from torch import Tensor

TORCH_RNN_CELLS: tuple[str, ...] = ("lstm", "gru", "chrono")
"""Cells built on ``nn.LSTM`` / ``nn.GRU``."""

SCAN_CELLS: tuple[str, ...] = ("mgu", "brc", "nbrc")
"""Cells that only exist as scans (TorchScript, or Triton on a GPU)."""

@dataclass(frozen=True)
class Backend:
    """The implementation chosen for one layer.

    Attributes:
        kind: ``"torch_rnn"``, ``"torchscript"`` or ``"triton"``.
        variant: for ``"triton"``, ``"register"`` (recurrent matrices held in
            registers, both ways) or ``"sliced"`` (read in slices; BRC, whose
            feedback is elementwise, counts as sliced); ``None`` otherwise.
        merged_halves: whether a double layer of this cell runs both halves as
            one block-diagonal scan.
    """

    kind: str
    variant: str | None
    merged_halves: bool


def triton_scans_for(*tensors: Tensor) -> ModuleType | None:
    """:mod:`warm_rl.triton_scans` when it can run a scan of these tensors, else None.

    That is: all on a CUDA device, all float32, Triton importable, and the
    environment variable ``WARM_RL_NO_TRITON`` unset (or ``0``).
    """
    if any(t.device.type != "cuda" or t.dtype != torch.float32 for t in tensors):
        return None
    return _triton_module()


def _triton_module() -> ModuleType | None:
    """:mod:`warm_rl.triton_scans` unless Triton is missing or ``WARM_RL_NO_TRITON`` is set."""
    if os.environ.get("WARM_RL_NO_TRITON", "0") not in ("", "0"):
        return None
    try:
        from warm_rl import triton_scans
    except ImportError:
        return None
    return triton_scans


def runs_as_scan(cell: str, device: torch.device) -> bool:
    """Whether a layer of ``cell`` on ``device`` is a scan (TorchScript or Triton), not torch's RNN."""
    return cell in SCAN_CELLS or (cell == "gru" and device.type == "cpu")


def merges_double_halves(cell: str, device: torch.device) -> bool:
    """Whether a double layer of ``cell`` on ``device`` runs both halves as one scan."""
    return device.type == "cpu" and runs_as_scan(cell, device)


def select_backend(
    cell: str, device: torch.device | str, dtype: torch.dtype = torch.float32, hidden_size: int = 128
) -> Backend:
    """What runs one layer of ``cell`` on ``device``.

    Args:
        cell: one of :data:`warm_rl.CELL_NAMES`.
        device: where the layer's tensors live.
        dtype: their dtype (Triton runs float32 only).
        hidden_size: the layer's width (picks the Triton variant).

    Returns:
        The :class:`Backend`.

    Raises:
        ValueError: for an unknown cell.
    """
    if cell not in TORCH_RNN_CELLS + SCAN_CELLS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(TORCH_RNN_CELLS + SCAN_CELLS)}")
    device = torch.device(device)
    merged = merges_double_halves(cell, device)
    if not runs_as_scan(cell, device):
        return Backend("torch_rnn", None, merged)
    on_gpu = cell in SCAN_CELLS and device.type == "cuda" and dtype == torch.float32 and torch.cuda.is_available()
    triton_scans = _triton_module() if on_gpu else None
    if triton_scans is None:
        return Backend("torchscript", None, merged)
    resident = triton_scans.register_resident(cell, hidden_size, device)
    return Backend("triton", "register" if resident else "sliced", merged)


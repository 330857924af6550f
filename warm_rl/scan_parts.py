"""A recurrent layer as a scan over precomputed input projections, and two such layers as one.

:class:`ScanParts` describes a layer as ``scan(W_in x + b_in, h0, *recurrent)``;
:func:`merge_scan_parts` turns the parts of two independent layers into the parts
of one scan of twice the width (block-diagonal recurrent weights), which is how a
double layer runs on the CPU (:func:`warm_rl.backends.merges_double_halves`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

State = tuple[Tensor, Tensor]


def full_length(lengths: Tensor | None, steps: int) -> bool:
    return lengths is None or bool((lengths == steps).all())


def valid_mask(lengths: Tensor, steps: int) -> Tensor:
    """``(T, B, 1)`` float mask, 1 where ``t < lengths[b]``."""
    time = torch.arange(steps, device=lengths.device).unsqueeze(1)
    return (time < lengths.unsqueeze(0)).unsqueeze(-1)


@dataclass
class ScanParts:
    """A layer written as ``scan(W_in x + b_in, h0, *recurrent)``.

    Attributes:
        scan: one of the scans of :mod:`warm_rl.torchscript_scans`.
        gates: ``k``, input projections per unit (``W_in`` is ``(k * H, input_size)``).
        w_in: input weight, gate-major rows.
        b_in: input bias.
        recurrent: the scan's other arguments, each with its kind:
            ``("gate_matrix", g)`` for a ``(g * H, H)`` weight, ``("gate_bias", g)``
            for a ``(g * H,)`` bias, ``("vector", 1)`` for an ``(H,)`` weight.
    """

    scan: Callable[..., Tensor]
    gates: int
    w_in: Tensor
    b_in: Tensor
    recurrent: list[tuple[Tensor, str, int]]

    def run(self, x: Tensor, h0: Tensor) -> Tensor:
        """Shape: x ``(T, B, input_size)``, h0 ``(B, H)`` -> ``(T, B, H)``."""
        x_proj = torch.nn.functional.linear(x, self.w_in, self.b_in)
        return self.scan(x_proj, h0, *[tensor for tensor, _, _ in self.recurrent])


def _interleave(a: Tensor, b: Tensor, gates: int) -> Tensor:
    """``[a_g1, a_g2, ..], [b_g1, ..]`` -> ``[a_g1, b_g1, a_g2, b_g2, ..]`` along dim 0."""
    half = a.shape[0] // gates
    merged = torch.cat([a.reshape(gates, half, *a.shape[1:]), b.reshape(gates, half, *b.shape[1:])], 1)
    return merged.reshape(2 * a.shape[0], *a.shape[1:])


def _block_diagonal(a: Tensor, b: Tensor, gates: int) -> Tensor:
    """Per gate, ``[[A, 0], [0, B]]``: two independent recurrences as one."""
    half = a.shape[1]
    a3, b3 = a.reshape(gates, half, half), b.reshape(gates, half, half)
    top = torch.cat([a3, torch.zeros_like(a3)], 2)
    bottom = torch.cat([torch.zeros_like(b3), b3], 2)
    return torch.cat([top, bottom], 1).reshape(gates * 2 * half, 2 * half)


def merge_scan_parts(first: ScanParts, second: ScanParts) -> ScanParts:
    """One scan running two independent layers side by side (outputs ``[first, second]``)."""
    recurrent = []
    for (a, kind, gates), (b, _, _) in zip(first.recurrent, second.recurrent, strict=True):
        if kind == "gate_matrix":
            merged = _block_diagonal(a, b, gates)
        elif kind == "gate_bias":
            merged = _interleave(a, b, gates)
        else:
            merged = torch.cat([a, b])
        recurrent.append((merged, kind, gates))
    return ScanParts(
        scan=first.scan,
        gates=first.gates,
        w_in=_interleave(first.w_in, second.w_in, first.gates),
        b_in=_interleave(first.b_in, second.b_in, first.gates),
        recurrent=recurrent,
    )


def run_scan(parts: ScanParts, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
    """Runs a scan with the layer interface (final state at each sequence's end)."""
    h0, c0 = state
    steps = x.shape[0]
    out = parts.run(x, h0)
    if full_length(lengths, steps):
        return out, (out[-1], c0)
    lengths = lengths.to(x.device)
    h_last = out[lengths - 1, torch.arange(x.shape[1], device=x.device)]
    return out * valid_mask(lengths, steps), (h_last, c0)

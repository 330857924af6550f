"""Single recurrent layers, one per cell type, and the double layer.

Every layer here shares one small interface used by :class:`warm_rl.RecurrentNet`
and by the VAA code:

* ``forward(x, state, lengths) -> (out, state)`` with ``x`` of shape
  ``(T, B, input_size)``, ``out`` of shape ``(T, B, hidden_size)`` (zero past
  each sequence's length) and ``state`` a tuple ``(h, c)`` of ``(B, hidden_size)``
  tensors taken at each sequence's last valid step. Cells with a single state
  (all but the LSTMs) carry ``c`` through unchanged.
* ``has_cell_state``: whether ``c`` is part of the dynamics (LSTM, chrono-LSTM).
* ``warm_module``: the sub-module that warm-up trains (the layer itself, or the
  warm half of a double layer); ``warm_slice``: the part of ``h``/``c`` it owns.
* ``reset_parameters()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from warm_rl.torchscript_scans import brc_scan, gru_scan, mgu_scan, nbrc_scan

CELL_NAMES: tuple[str, ...] = ("lstm", "gru", "mgu", "brc", "nbrc", "chrono")
"""Names accepted by :class:`warm_rl.RecurrentNet` and :func:`make_layer`."""

State = tuple[Tensor, Tensor]


def _full_length(lengths: Tensor | None, steps: int) -> bool:
    return lengths is None or bool((lengths == steps).all())


def _valid_mask(lengths: Tensor, steps: int) -> Tensor:
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
    if _full_length(lengths, steps):
        return out, (out[-1], c0)
    lengths = lengths.to(x.device)
    h_last = out[lengths - 1, torch.arange(x.shape[1], device=x.device)]
    return out * _valid_mask(lengths, steps), (h_last, c0)


class RecurrentLayer(nn.Module):
    """Base class of one recurrent layer (see the module docstring).

    Args:
        input_size: features of each input step.
        hidden_size: state size.
    """

    has_cell_state: bool = False

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size

    @property
    def warm_module(self) -> nn.Module:
        """The module whose parameters warm-up trains."""
        return self

    def scan_parts(self, device: torch.device) -> ScanParts | None:
        """The layer as a fused scan on ``device``, or None if it runs otherwise.

        Two layers given as scans can run as one (a double layer's halves).
        """
        return None

    @property
    def warm_slice(self) -> slice:
        """The part of the state owned by :attr:`warm_module`."""
        return slice(0, self.hidden_size)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class FusedLayer(RecurrentLayer):
    """LSTM or GRU layer backed by torch's fused kernels (cuDNN on a GPU).

    Args:
        input_size: features of each input step.
        hidden_size: state size.
        kind: ``"lstm"``, ``"gru"`` or ``"chrono"`` (an LSTM with chrono
            initialisation of its gate biases, Tallec & Ollivier 2018).
        t_max: the largest time dependency expected, required by ``"chrono"``.
    """

    def __init__(self, input_size: int, hidden_size: int, kind: str, t_max: float | None = None):
        super().__init__(input_size, hidden_size)
        if kind not in ("lstm", "gru", "chrono"):
            raise ValueError(f"kind must be 'lstm', 'gru' or 'chrono', got {kind!r}")
        if kind == "chrono":
            if t_max is None:
                raise ValueError("cell 'chrono' needs t_max (the longest time dependency), got None")
            if not isinstance(t_max, (int, float)) or not t_max > 2:
                raise ValueError(f"t_max must be a number > 2, got {t_max!r}")
        self.kind = kind
        self.t_max = t_max
        self.has_cell_state = kind != "gru"
        module = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = module(input_size, hidden_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.rnn.reset_parameters()
        if self.kind == "chrono":
            self._chrono_init()

    def _chrono_init(self) -> None:
        """Forget bias ``log(U[1, t_max - 1])``, input bias its negative.

        torch adds ``bias_ih`` and ``bias_hh``: the chrono values go into
        ``bias_ih`` and the same gates of ``bias_hh`` are zeroed, so that the
        effective bias is exactly the chrono one.
        """
        hidden = self.hidden_size
        with torch.no_grad():
            forget = torch.log(torch.empty(hidden).uniform_(1.0, self.t_max - 1.0))
            bias_ih, bias_hh = self.rnn.bias_ih_l0, self.rnn.bias_hh_l0
            bias_ih[:hidden] = -forget  # input gate (torch order: i, f, g, o)
            bias_ih[hidden : 2 * hidden] = forget
            bias_hh[: 2 * hidden] = 0.0

    def scan_parts(self, device: torch.device) -> ScanParts | None:
        """A GRU on the CPU runs as :func:`~warm_rl.torchscript_scans.gru_scan` (torch has no
        fused CPU GRU); on a GPU, and for LSTMs, torch's kernels (cuDNN) are used."""
        if self.kind != "gru" or device.type != "cpu":
            return None
        rnn = self.rnn
        return ScanParts(
            gru_scan, 3, rnn.weight_ih_l0, rnn.bias_ih_l0,
            [(rnn.weight_hh_l0, "gate_matrix", 3), (rnn.bias_hh_l0, "gate_bias", 3)],
        )

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        parts = self.scan_parts(x.device)
        if parts is not None:
            return run_scan(parts, x, state, lengths)
        h0, c0 = state  # cuDNN rejects non-contiguous states (a double layer's halves are slices)
        steps = x.shape[0]
        h0 = h0.contiguous().unsqueeze(0)
        rnn_state = (h0, c0.contiguous().unsqueeze(0)) if self.has_cell_state else h0
        if _full_length(lengths, steps):
            out, new_state = self.rnn(x.contiguous(), rnn_state)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
            packed_out, new_state = self.rnn(packed, rnn_state)
            out, _ = pad_packed_sequence(packed_out, total_length=steps)
        if self.has_cell_state:
            return out, (new_state[0][0], new_state[1][0])
        return out, (new_state[0], c0)

    def extra_repr(self) -> str:
        extra = f", t_max={self.t_max}" if self.kind == "chrono" else ""
        return f"{self.input_size}, {self.hidden_size}, kind={self.kind!r}{extra}"


class _ScanLayer(RecurrentLayer):
    """A layer whose time loop is one of the fused scans of :mod:`warm_rl.torchscript_scans`.

    Subclasses define ``n_gates`` (input projections per unit), ``_scan`` (a
    scan of :mod:`warm_rl.torchscript_scans`) and ``_recurrent()`` (its recurrent
    arguments, see :class:`ScanParts`).
    """

    n_gates: int = 0

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.input_proj = nn.Linear(input_size, self.n_gates * hidden_size)

    def _uniform_(self, tensor: Tensor) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(tensor, -bound, bound)

    def reset_parameters(self) -> None:
        for param in self.parameters():
            self._uniform_(param)

    def scan_parts(self, device: torch.device) -> ScanParts:
        return ScanParts(self._scan, self.n_gates, self.input_proj.weight, self.input_proj.bias,
                         self._recurrent())

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        return run_scan(self.scan_parts(x.device), x, state, lengths)


class MGULayer(_ScanLayer):
    """Minimal gated unit (Zhou et al. 2016).

    ``f = s(W_f x + U_f h + b_f)``, ``g = tanh(W_h x + U_h (f * h) + b_h)``,
    ``h' = (1 - f) * h + f * g``.
    """

    n_gates = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_f = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.weight_h = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.reset_parameters()

    _scan = staticmethod(mgu_scan)

    def _recurrent(self) -> list[tuple[Tensor, str, int]]:
        return [(self.weight_f, "gate_matrix", 1), (self.weight_h, "gate_matrix", 1)]


class BRCLayer(_ScanLayer):
    """Bistable recurrent cell (Vecoven et al. 2020), elementwise feedback.

    ``c = s(U_c x + w_c * h + b_c)``, ``a = 1 + tanh(U_a x + w_a * h + b_a)``,
    ``h' = c * h + (1 - c) * tanh(U_h x + a * h + b_h)``.
    """

    n_gates = 3

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_c = nn.Parameter(torch.empty(hidden_size))
        self.weight_a = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    _scan = staticmethod(brc_scan)

    def _recurrent(self) -> list[tuple[Tensor, str, int]]:
        return [(self.weight_c, "vector", 1), (self.weight_a, "vector", 1)]


class NBRCLayer(_ScanLayer):
    """Neuromodulated bistable recurrent cell: BRC with full feedback matrices.

    ``c = s(U_c x + W_c h + b_c)``, ``a = 1 + tanh(U_a x + W_a h + b_a)``,
    ``h' = c * h + (1 - c) * tanh(U_h x + a * h + b_h)``; ``W_c`` and ``W_a`` are
    stored stacked in ``weight_ca`` of shape ``(2H, H)``.
    """

    n_gates = 3

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_ca = nn.Parameter(torch.empty(2 * hidden_size, hidden_size))
        self.reset_parameters()

    _scan = staticmethod(nbrc_scan)

    def _recurrent(self) -> list[tuple[Tensor, str, int]]:
        return [(self.weight_ca, "gate_matrix", 2)]


_SCAN_LAYERS: dict[str, type[_ScanLayer]] = {"mgu": MGULayer, "brc": BRCLayer, "nbrc": NBRCLayer}


def make_layer(cell: str, input_size: int, hidden_size: int, **cell_kwargs) -> RecurrentLayer:
    """Builds one layer of the named cell.

    Args:
        cell: one of :data:`CELL_NAMES`.
        input_size: features of each input step.
        hidden_size: state size.
        **cell_kwargs: ``t_max`` for ``"chrono"``; no other cell takes keywords.

    Returns:
        The layer.
    """
    if cell in ("lstm", "gru", "chrono"):
        allowed = {"t_max"} if cell == "chrono" else set()
        _reject_unknown(cell, cell_kwargs, allowed)
        return FusedLayer(input_size, hidden_size, cell, **cell_kwargs)
    if cell in _SCAN_LAYERS:
        _reject_unknown(cell, cell_kwargs, set())
        return _SCAN_LAYERS[cell](input_size, hidden_size)
    raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")


def _reject_unknown(cell: str, cell_kwargs: dict, allowed: set[str]) -> None:
    unknown = sorted(set(cell_kwargs) - allowed)
    if unknown:
        raise TypeError(f"cell {cell!r} takes no argument(s) {unknown}; allowed: {sorted(allowed)}")


class DoubleLayer(RecurrentLayer):
    """Two independent cells of width ``hidden_size / 2`` fed the same input.

    The output and the state are the concatenation ``[warm, cold]``; warm-up
    trains only :attr:`warm` (the first half).

    Args:
        cell: one of :data:`CELL_NAMES`.
        input_size: features of each input step.
        hidden_size: total width, even.
        **cell_kwargs: as for :func:`make_layer`.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, **cell_kwargs) -> None:
        super().__init__(input_size, hidden_size)
        if hidden_size % 2:
            raise ValueError(f"a double layer needs an even hidden_size, got {hidden_size}")
        half = hidden_size // 2
        self.warm = make_layer(cell, input_size, half, **cell_kwargs)
        self.cold = make_layer(cell, input_size, half, **cell_kwargs)
        self.has_cell_state = self.warm.has_cell_state

    @property
    def warm_module(self) -> nn.Module:
        return self.warm

    @property
    def warm_slice(self) -> slice:
        return slice(0, self.hidden_size // 2)

    def reset_parameters(self) -> None:
        self.warm.reset_parameters()
        self.cold.reset_parameters()

    def _merged_parts(self, warm_parts: ScanParts, device: torch.device) -> ScanParts:
        """The merged scan of both halves; without autograd, reused until a parameter changes.

        Building the block-diagonal weights costs about as much as a one-step scan,
        so step-by-step inference (a policy's rollout) keeps them; any in-place
        update of a parameter (an optimizer step, ``load_state_dict``) bumps its
        version and so invalidates the cached copy.
        """
        cold_parts = self.cold.scan_parts(device)
        if torch.is_grad_enabled():
            return merge_scan_parts(warm_parts, cold_parts)
        sources = [warm_parts.w_in, warm_parts.b_in, cold_parts.w_in, cold_parts.b_in]
        sources += [tensor for tensor, _, _ in warm_parts.recurrent + cold_parts.recurrent]
        versions = [tensor._version for tensor in sources]
        cached = self.__dict__.get("_merged_cache")
        if cached is not None and cached[1] == versions and all(
            a is b for a, b in zip(cached[0], sources, strict=True)
        ):
            return cached[2]
        merged = merge_scan_parts(warm_parts, cold_parts)
        self.__dict__["_merged_cache"] = (sources, versions, merged)
        return merged

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        # On the CPU both halves run as one scan with block-diagonal recurrent weights
        # (one time loop instead of two). On a GPU each half is its own kernel: a merged
        # width-2H scan does twice the arithmetic and leaves the fast register-resident
        # path of warm_rl.triton_scans.
        warm_parts = self.warm.scan_parts(x.device) if x.device.type == "cpu" else None
        if warm_parts is not None:
            return run_scan(self._merged_parts(warm_parts, x.device), x, state, lengths)
        h0, c0 = state
        half = self.hidden_size // 2
        out_w, (h_w, c_w) = self.warm(x, (h0[:, :half], c0[:, :half]), lengths)
        out_c, (h_c, c_c) = self.cold(x, (h0[:, half:], c0[:, half:]), lengths)
        return torch.cat([out_w, out_c], -1), (torch.cat([h_w, h_c], -1), torch.cat([c_w, c_c], -1))

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

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from warm_rl.kernels import brc_scan, mgu_scan, nbrc_scan

CELL_NAMES: tuple[str, ...] = ("lstm", "gru", "mgu", "brc", "nbrc", "chrono")
"""Names accepted by :class:`warm_rl.RecurrentNet` and :func:`make_layer`."""

State = tuple[Tensor, Tensor]


def _full_length(lengths: Tensor | None, steps: int) -> bool:
    return lengths is None or bool((lengths == steps).all())


def _valid_mask(lengths: Tensor, steps: int) -> Tensor:
    """``(T, B, 1)`` float mask, 1 where ``t < lengths[b]``."""
    time = torch.arange(steps, device=lengths.device).unsqueeze(1)
    return (time < lengths.unsqueeze(0)).unsqueeze(-1)


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

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        h0, c0 = state
        steps = x.shape[0]
        rnn_state = (h0.unsqueeze(0), c0.unsqueeze(0)) if self.has_cell_state else h0.unsqueeze(0)
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
    """A layer whose time loop is one of the fused scans of :mod:`warm_rl.kernels`.

    Subclasses define ``n_gates`` (input projections per unit) and
    ``_scan(x_proj, h0) -> out`` (shapes ``(T, B, n_gates * H)``, ``(B, H)`` ->
    ``(T, B, H)``).
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

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        h0, c0 = state
        steps = x.shape[0]
        out = self._scan(self.input_proj(x), h0)
        if _full_length(lengths, steps):
            return out, (out[-1], c0)
        batch = torch.arange(x.shape[1], device=x.device)
        h_last = out[lengths.to(x.device) - 1, batch]
        return out * _valid_mask(lengths.to(x.device), steps), (h_last, c0)


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

    def _scan(self, x_proj: Tensor, h0: Tensor) -> Tensor:
        return mgu_scan(x_proj, h0, self.weight_f, self.weight_h)


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

    def _scan(self, x_proj: Tensor, h0: Tensor) -> Tensor:
        return brc_scan(x_proj, h0, self.weight_c, self.weight_a)


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

    def _scan(self, x_proj: Tensor, h0: Tensor) -> Tensor:
        return nbrc_scan(x_proj, h0, self.weight_ca)


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

    def forward(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        h0, c0 = state
        half = self.hidden_size // 2
        out_w, (h_w, c_w) = self.warm(x, (h0[:, :half], c0[:, :half]), lengths)
        out_c, (h_c, c_c) = self.cold(x, (h0[:, half:], c0[:, half:]), lengths)
        return torch.cat([out_w, out_c], -1), (torch.cat([h_w, h_c], -1), torch.cat([c_w, c_c], -1))

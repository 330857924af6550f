"""Single recurrent layers, one per cell type (the double layer: :mod:`warm_rl.double_layer`).

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

from warm_rl.backends import runs_as_scan
from warm_rl.scan_parts import ScanParts, State, full_length, run_scan
from warm_rl.torchscript_scans import brc_scan, gru_scan, mgu_scan, nbrc_scan
from warm_rl.validation import check_choice, check_int, check_number

CELL_NAMES: tuple[str, ...] = ("lstm", "gru", "mgu", "brc", "nbrc", "chrono")
"""Names accepted by :class:`warm_rl.RecurrentNet` and :func:`make_layer`."""


class RecurrentLayer(nn.Module):
    """Base class of one recurrent layer (see the module docstring).

    Args:
        input_size: features of each input step.
        hidden_size: state size.
    """

    has_cell_state: bool = False

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)

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


class TorchRNNLayer(RecurrentLayer):
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
        check_choice("kind", kind, ("lstm", "gru", "chrono"))
        if kind == "chrono":
            if t_max is None:
                raise ValueError("cell 'chrono' needs t_max (the longest time dependency), got None")
            # finite and > 2: the forget biases are log(U[1, t_max - 1])
            check_number("t_max", t_max, minimum=2.0, strict_minimum=True)
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
        fused CPU GRU); on a GPU, and for LSTMs, torch's kernels (cuDNN) are used
        (:func:`warm_rl.backends.select_backend`)."""
        if not runs_as_scan(self.kind, device):
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
        if full_length(lengths, steps):
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
    check_choice("cell", cell, CELL_NAMES)
    if cell in ("lstm", "gru", "chrono"):
        allowed = {"t_max"} if cell == "chrono" else set()
        _reject_unknown(cell, cell_kwargs, allowed)
        return TorchRNNLayer(input_size, hidden_size, cell, **cell_kwargs)
    _reject_unknown(cell, cell_kwargs, set())
    return _SCAN_LAYERS[cell](input_size, hidden_size)


def _reject_unknown(cell: str, cell_kwargs: dict, allowed: set[str]) -> None:
    unknown = sorted(set(cell_kwargs) - allowed)
    if unknown:
        raise TypeError(f"cell {cell!r} takes no argument(s) {unknown}; allowed: {sorted(allowed)}")

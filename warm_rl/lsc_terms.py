"""The terms of LSC pre-training: one-step layer functions and the Jacobians they give.

:func:`layer_step` turns any :class:`~warm_rl.cells.RecurrentLayer` into a plain
function ``step(x, s) -> s'`` of one time step (LSTM: ``s = [h, c]``; double
layers: ``s = [warm, cold]``), and :class:`LSCProblem` lists, at one time step of
a batch, the recurrent, depth, input and output Jacobian terms that
:mod:`warm_rl.lsc` drives to their target radius.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from warm_rl.cells import BRCLayer, MGULayer, NBRCLayer, RecurrentLayer, TorchRNNLayer
from warm_rl.double_layer import DoubleLayer
from warm_rl.network import RecurrentNet

# ------------------------------------------------------------ one-step cells

StepFunction = Callable[[Tensor, Tensor], Tensor]
"""``step(x, s) -> s'``: one time step of a layer; x ``(B, input_size)``, s and s' ``(B, D)``."""


def layer_step(layer: RecurrentLayer) -> StepFunction:
    """One time step of a layer as a plain differentiable function of ``(x, s)``.

    The same equations as the layer's scan (or torch's kernel), written with
    ordinary ops so that ``torch.func`` transforms and double backward apply.
    ``s`` is ``[h, c]`` for an LSTM and ``h`` otherwise; a double layer's is
    ``[h_warm, h_cold]`` (``[h_warm, h_cold, c_warm, c_cold]`` for an LSTM).

    Raises:
        TypeError: a layer type this module does not know.

    Shape:
        x ``(B, input_size)``; s ``(B, D)`` with ``D`` = hidden_size (twice that for an LSTM).
    """
    if isinstance(layer, DoubleLayer):
        return _double_step(layer)
    if isinstance(layer, TorchRNNLayer):
        return _lstm_step(layer.rnn) if layer.has_cell_state else _gru_step(layer.rnn)
    if isinstance(layer, MGULayer):
        return _mgu_step(layer)
    if isinstance(layer, (BRCLayer, NBRCLayer)):
        return _brc_step(layer)
    raise TypeError(f"LSC has no one-step function for layers of type {type(layer).__name__}")


def _gru_step(rnn: nn.GRU) -> StepFunction:
    def step(x: Tensor, h: Tensor) -> Tensor:
        x_r, x_z, x_n = F.linear(x, rnn.weight_ih_l0, rnn.bias_ih_l0).chunk(3, -1)
        h_r, h_z, h_n = F.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0).chunk(3, -1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return n + z * (h - n)

    return step


def _lstm_step(rnn: nn.LSTM) -> StepFunction:
    def step(x: Tensor, s: Tensor) -> Tensor:
        h, c = s.chunk(2, -1)
        gates = F.linear(x, rnn.weight_ih_l0, rnn.bias_ih_l0) + F.linear(h, rnn.weight_hh_l0, rnn.bias_hh_l0)
        i, f, g, o = gates.chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.cat([torch.sigmoid(o) * torch.tanh(c), c], -1)

    return step


def _mgu_step(layer: MGULayer) -> StepFunction:
    def step(x: Tensor, h: Tensor) -> Tensor:
        x_f, x_h = layer.input_proj(x).chunk(2, -1)
        f = torch.sigmoid(x_f + F.linear(h, layer.weight_f))
        g = torch.tanh(x_h + F.linear(f * h, layer.weight_h))
        return h + f * (g - h)

    return step


def _brc_step(layer: BRCLayer | NBRCLayer) -> StepFunction:
    full = isinstance(layer, NBRCLayer)

    def step(x: Tensor, h: Tensor) -> Tensor:
        x_c, x_a, x_h = layer.input_proj(x).chunk(3, -1)
        if full:
            r_c, r_a = F.linear(h, layer.weight_ca).chunk(2, -1)
        else:
            r_c, r_a = layer.weight_c * h, layer.weight_a * h
        c = torch.sigmoid(x_c + r_c)
        a = 1.0 + torch.tanh(x_a + r_a)
        n = torch.tanh(x_h + a * h)
        return n + c * (h - n)

    return step


def _double_step(layer: DoubleLayer) -> StepFunction:
    warm, cold = layer_step(layer.warm), layer_step(layer.cold)
    half = layer.hidden_size // 2

    def step(x: Tensor, s: Tensor) -> Tensor:
        if not layer.has_cell_state:
            return torch.cat([warm(x, s[..., :half]), cold(x, s[..., half:])], -1)
        h_w, h_c, c_w, c_c = s.split(half, -1)
        new_w, new_c = warm(x, torch.cat([h_w, c_w], -1)), cold(x, torch.cat([h_c, c_c], -1))
        return torch.cat([new_w[..., :half], new_c[..., :half], new_w[..., half:], new_c[..., half:]], -1)

    return step


def _state_width(layer: RecurrentLayer) -> int:
    return layer.hidden_size * (2 if layer.has_cell_state else 1)


def _half_indices(layer: RecurrentLayer, halves: str) -> Tensor | None:
    """Indices of the chosen halves in a layer's state ``s`` (None: all of it)."""
    if not isinstance(layer, DoubleLayer) or halves == "both":
        return None
    hidden, half = layer.hidden_size, layer.hidden_size // 2
    offset = 0 if halves == "warm" else half
    parts = [torch.arange(offset, offset + half)]
    if layer.has_cell_state:
        parts.append(torch.arange(hidden + offset, hidden + offset + half))
    return torch.cat(parts)


def trained_modules(layer: RecurrentLayer, halves: str) -> list[nn.Module]:
    if not isinstance(layer, DoubleLayer) or halves == "both":
        return [layer]
    return [layer.warm if halves == "warm" else layer.cold]


def recurrent_weights(module: nn.Module) -> list[Tensor]:
    """The weights applied to the state (what ``rescale_recurrent`` scales)."""
    if isinstance(module, DoubleLayer):
        return recurrent_weights(module.warm) + recurrent_weights(module.cold)
    if isinstance(module, TorchRNNLayer):
        return [module.rnn.weight_hh_l0]
    if isinstance(module, MGULayer):
        return [module.weight_f, module.weight_h]
    if isinstance(module, BRCLayer):
        return [module.weight_c, module.weight_a]
    if isinstance(module, NBRCLayer):
        return [module.weight_ca]
    return []


# -------------------------------------------------------------------- terms


class _Restricted:
    """``fn`` seen through index sets: ``z`` fills entries ``inputs`` of ``base``, ``outputs`` are kept.

    Called as ``g(z, base, *context)``.
    """

    def __init__(self, fn: Callable[..., Tensor], inputs: Tensor | None, outputs: Tensor | None, width: int,
                 like: Tensor) -> None:
        self.fn, self.inputs, self.outputs = fn, inputs, outputs
        if inputs is not None:
            self.place = torch.zeros(inputs.numel(), width, dtype=like.dtype, device=like.device)
            self.place[torch.arange(inputs.numel(), device=like.device), inputs.to(like.device)] = 1.0
            self.inputs = inputs.to(like.device)
        if outputs is not None:
            self.outputs = outputs.to(like.device)

    def __call__(self, z: Tensor, base: Tensor, *context: Tensor) -> Tensor:
        full = z if self.inputs is None else base + (z - base[..., self.inputs]) @ self.place
        out = self.fn(full, *context)
        return out if self.outputs is None else out[..., self.outputs]

    def point(self, base: Tensor) -> Tensor:
        return base if self.inputs is None else base[..., self.inputs]


@dataclass
class LSCTerm:
    """One Jacobian of the LSC loss at the current step: ``d fn(z) / d z`` at ``z = point``."""

    name: str
    target: float
    fn: _Restricted
    base: Tensor
    context: tuple[Tensor, ...]


class LSCProblem:
    """The network, its head and the chosen halves, as LSC terms at each step."""

    def __init__(self, net: RecurrentNet, head: nn.Module | None, halves: str, target: float) -> None:
        self.net, self.head, self.halves, self.target = net, head, halves, target
        self.steps = [layer_step(layer) for layer in net.layers]
        self.halves_index = [_half_indices(layer, halves) for layer in net.layers]
        self.widths = [_state_width(layer) for layer in net.layers]
        self.hidden = net.hidden_size

    def zero_states(self, batch: int, like: Tensor) -> list[Tensor]:
        return [like.new_zeros(batch, width) for width in self.widths]

    def advance(self, x: Tensor, states: list[Tensor]) -> list[Tensor]:
        """Next states of every layer (no gradient). Shape: x ``(B, F)``; states ``(B, D_l)``."""
        new, inputs = [], x
        with torch.no_grad():
            for step, state in zip(self.steps, states, strict=True):
                new.append(step(inputs, state))
                inputs = new[-1][..., : self.hidden]
        return new

    def terms(self, x: Tensor, states: list[Tensor], new: list[Tensor], with_output: bool) -> list[LSCTerm]:
        """The terms at step ``t``: x ``x_t``, states ``s_t``, new ``s_{t+1}`` (all detached)."""
        terms = []
        last = len(self.steps) - 1
        for index, step in enumerate(self.steps):
            chosen = self.halves_index[index]
            inputs = x if index == 0 else new[index - 1][..., : self.hidden]
            fn = _Restricted(lambda s, inp, step=step: step(inp, s), chosen, chosen, self.widths[index], x)
            terms.append(LSCTerm(f"recurrent_{index}", self.target, fn, states[index], (inputs,)))
            if index > 0:
                below = self.halves_index[index - 1]

                def depth(s: Tensor, state: Tensor, step: StepFunction = step) -> Tensor:
                    return step(s[..., : self.hidden], state)

                fn = _Restricted(depth, below, chosen, self.widths[index - 1], x)
                terms.append(LSCTerm(f"depth_{index}", self.target, fn, new[index - 1], (states[index],)))
        first = self.steps[0]
        fn = _Restricted(lambda inp, s: first(inp, s), None, self.halves_index[0], x.shape[-1], x)
        terms.append(LSCTerm("input", self.target, fn, x, (states[0],)))
        if with_output:
            fn = _Restricted(lambda s: self.head(s[..., : self.hidden]), self.halves_index[last], None,
                             self.widths[last], x)
            terms.append(LSCTerm("output", 1.0, fn, new[last], ()))
        return terms

"""Initialisations of recurrent networks, beside the cells' own (torch's) default.

Which initialisations make a network multistable before any pre-training is one question
of the multistability study (``scripts/multistability.py``):

* ``"default"``: the cells' own initialisation (torch's uniform ``1/sqrt(H)``).
* ``"orthogonal"``: every gate's block of the recurrent matrix orthogonal (the rest kept).
* ``"chrono"``: chrono biases (Tallec & Ollivier 2018) from ``t_max``: for an LSTM the
  forget-gate bias ``log U[1, t_max - 1]`` and the input gate's its negative; for a GRU the
  analogue on the update gate ``z`` (``h' = (1 - z) n + z h``: the same ``log U[1, t_max - 1]``
  keeps ``h``); for an MGU its gate ``f`` (``h' = (1 - f) h + f g``: the negative). BRC and
  nBRC have no such gate: ``ValueError``.
* ``"paper_gru"``: the warm-up paper's GRU initialisation, for any cell: Xavier-uniform input
  weights, orthogonal recurrent weights per gate, zero biases.

Double layers get the initialisation in both halves.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from warm_rl.cells import RecurrentLayer, TorchRNNLayer, _ScanLayer
from warm_rl.network import RecurrentNet
from warm_rl.validation import check_choice, check_number

INITIALISATIONS: tuple[str, ...] = ("default", "orthogonal", "chrono", "paper_gru")
"""The names :func:`initialise` takes."""

CHRONO_CELLS: tuple[str, ...] = ("lstm", "chrono", "gru", "mgu")
"""The cells with a gate that chrono initialisation can set."""


def _recurrent_blocks(layer: RecurrentLayer) -> list[Tensor]:
    """The square ``(H, H)`` gate blocks of the layer's recurrent matrices (views; vectors left out)."""
    if isinstance(layer, TorchRNNLayer):
        weight = layer.rnn.weight_hh_l0
        return list(weight.split(layer.hidden_size, dim=0))
    if isinstance(layer, _ScanLayer):
        blocks = []
        for tensor, kind, count in layer._recurrent():
            if kind == "gate_matrix":
                blocks += list(tensor.split(tensor.shape[0] // count, dim=0))
        return blocks
    raise TypeError(f"unknown recurrent layer {type(layer).__name__}")


def _input_weights(layer: RecurrentLayer) -> list[Tensor]:
    if isinstance(layer, TorchRNNLayer):
        return [layer.rnn.weight_ih_l0]
    return [layer.input_proj.weight]


def _biases(layer: RecurrentLayer) -> list[Tensor]:
    if isinstance(layer, TorchRNNLayer):
        return [layer.rnn.bias_ih_l0, layer.rnn.bias_hh_l0]
    return [layer.input_proj.bias]


def _orthogonal_(blocks: list[Tensor]) -> None:
    for block in blocks:
        nn.init.orthogonal_(block)


def _chrono_(layer: RecurrentLayer, cell: str, t_max: float) -> None:
    hidden = layer.hidden_size
    timescales = torch.log(torch.empty(hidden).uniform_(1.0, t_max - 1.0))
    if cell in ("lstm", "chrono"):  # torch's gate order i, f, g, o
        bias_ih, bias_hh = layer.rnn.bias_ih_l0, layer.rnn.bias_hh_l0
        bias_ih[:hidden], bias_ih[hidden : 2 * hidden] = -timescales, timescales
        bias_hh[: 2 * hidden] = 0.0
    elif cell == "gru":  # torch's gate order r, z, n
        bias_ih, bias_hh = layer.rnn.bias_ih_l0, layer.rnn.bias_hh_l0
        bias_ih[hidden : 2 * hidden] = timescales
        bias_hh[hidden : 2 * hidden] = 0.0
    else:  # mgu: input_proj rows [f, h]
        layer.input_proj.bias[:hidden] = -timescales


def initialise(net: RecurrentNet, name: str, t_max: float | None = None) -> RecurrentNet:
    """Re-initialises ``net`` in place with the initialisation ``name`` (see the module).

    Args:
        net: the network (every layer, both halves of double layers).
        name: one of :data:`INITIALISATIONS`.
        t_max: ``"chrono"``: the longest dependency expected (> 2), e.g. the sequence length.

    Returns:
        ``net``.

    Raises:
        ValueError: an unknown name; ``"chrono"`` without ``t_max`` or for a cell without
            a memory gate (BRC, nBRC).
    """
    check_choice("initialisation", name, INITIALISATIONS)
    if name == "default":
        return net
    if name == "chrono":
        if net.cell not in CHRONO_CELLS:
            raise ValueError(f"chrono initialisation needs a gated memory (one of {CHRONO_CELLS}), got {net.cell!r}")
        if t_max is None:
            raise ValueError("chrono initialisation needs t_max (the longest dependency), got None")
        check_number("t_max", t_max, minimum=2.0, strict_minimum=True)
        if not math.isfinite(t_max):
            raise ValueError(f"t_max must be finite, got {t_max}")
    layers = [module for module in net.modules() if isinstance(module, (TorchRNNLayer, _ScanLayer))]
    with torch.no_grad():
        for layer in layers:
            if name == "orthogonal":
                _orthogonal_(_recurrent_blocks(layer))
            elif name == "chrono":
                _chrono_(layer, net.cell, t_max)
            else:  # paper_gru
                for weight in _input_weights(layer):
                    nn.init.xavier_uniform_(weight)
                _orthogonal_(_recurrent_blocks(layer))
                for bias in _biases(layer):
                    bias.zero_()
    return net

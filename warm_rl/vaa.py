"""Variability amongst attractors: the exact VAA and its differentiable proxy VAA*.

Both start from *reachable* states: each sequence ``U_i`` is cut at
``c_i ~ U{1..len_i}`` and the network runs from the zero state over the first
``c_i`` inputs. All cuts are computed in one batched pass (variable lengths),
not one forward per sequence. Then a single perturbation ``u ~ N(0, I)`` is
held constant for ``M`` steps, and the final states are compared.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from warm_rl.cells import RecurrentLayer
from warm_rl.network import RecurrentNet, State
from warm_rl.sequences import SequenceSet, as_padded
from warm_rl.validation import check_int, check_number, reject_renamed

_MAX_CHUNK_ELEMENTS = 1 << 24
"""Upper bound on ``steps x batch x hidden`` of one chunk of the exact-VAA run."""


def _check_net(net: object) -> RecurrentNet:
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a warm_rl.RecurrentNet, got {type(net).__name__}")
    return net


def _check_arguments(function: str, horizon: object, eps: object, renamed: dict) -> None:
    reject_renamed(function, renamed, {"steps": "horizon"})
    if renamed:
        raise TypeError(f"{function}() got unexpected keyword argument(s) {sorted(renamed)}")
    if check_int("horizon", horizon) < 1:
        raise ValueError(f"horizon must be an int >= 1, got {horizon}")
    check_number("eps", eps, minimum=0.0, strict_minimum=True)


def _device_of(net: RecurrentNet) -> torch.device:
    return next(net.parameters()).device


def _dtype_of(net: RecurrentNet) -> torch.dtype:
    return next(net.parameters()).dtype


def check_eps_for_dtype(name: str, eps: float, dtype: torch.dtype) -> None:
    """Refuses an ``eps`` whose square underflows in the states' dtype.

    VAA* compares squared distances with ``eps ** 2``: below ``sqrt(finfo.tiny)``
    (about 1.1e-19 in float32) that bound is a subnormal or zero and VAA* leaves
    ``[1/n, 1]`` (``eps / 0`` makes it 0).

    Raises:
        ValueError: ``eps`` is too small for ``dtype``.
    """
    smallest = float(torch.finfo(dtype).tiny) ** 0.5
    if eps < smallest:
        raise ValueError(
            f"{name} must be >= {smallest:.3g} for {dtype} states (its square underflows), got {eps!r}"
        )


def _randn(shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor) -> Tensor:
    return torch.randn(shape, generator=generator).to(device=like.device, dtype=like.dtype)


def reachable_states(
    net: RecurrentNet, padded: Tensor, lengths: Tensor, generator: torch.Generator | None = None
) -> State:
    """States reached after a random number of inputs of each sequence.

    Args:
        net: the network.
        padded: zero-padded sequences.
        lengths: valid steps of each sequence.
        generator: CPU random generator for the cuts (global RNG if None).

    Returns:
        ``(h, c)`` at each sequence's cut, computed without gradient.

    Shape:
        padded ``(T, N, input_size)``; lengths ``(N,)``; h, c ``(num_layers, N, hidden_size)``.
    """
    uniform = torch.rand(lengths.shape[0], generator=generator).to(lengths.device)
    cuts = 1 + (uniform * lengths).long().clamp_max(lengths - 1)
    with torch.no_grad():
        _, state = net(padded[: int(cuts.max())], lengths=cuts)
    return state


def state_vector(net: RecurrentNet, state: State) -> Tensor:
    """Everything the network carries, concatenated over layers.

    Shape:
        h, c ``(num_layers, N, hidden_size)`` -> ``(N, D)`` with ``D`` =
        ``num_layers * hidden_size`` (twice that for LSTMs: h and c).
    """
    h, c = state
    parts = [h, c] if net.has_cell_state else [h]
    return torch.cat(parts, dim=-1).transpose(0, 1).reshape(h.shape[1], -1)


def count_attractors(states: Tensor, eps: float) -> float:
    """``(1/n) sum_i 1 / #{j : ||x_i - x_j|| < eps}``: distinct final states over n, in ``[1/n, 1]``.

    A non-finite state (a diverged network) has nan distances: VAA is undefined
    then, and ``nan`` is returned with a ``RuntimeWarning`` (not ``inf``; a
    training loop that logs VAA keeps running).

    Shape:
        states ``(N, D)``.
    """
    if not bool(torch.isfinite(states).all()):
        warnings.warn("VAA is undefined: the final states contain nan or inf; returning nan", RuntimeWarning,
                      stacklevel=2)
        return math.nan
    counts = torch.zeros(states.shape[0], device=states.device, dtype=torch.float64)
    rows_per_chunk = max(1, _MAX_CHUNK_ELEMENTS // max(1, states.shape[0]))
    for start in range(0, states.shape[0], rows_per_chunk):
        block = states[start : start + rows_per_chunk]
        dist = torch.cdist(block, states, compute_mode="donot_use_mm_for_euclid_dist")
        # dist == 0: eps rounds to 0 in float32 below 1.4e-45, yet every state is its own neighbour
        counts[start : start + block.shape[0]] = ((dist < eps) | (dist == 0)).sum(1).double()
    return float((1.0 / counts).mean())


def soft_attractor_variability(states: Tensor, eps: float) -> Tensor:
    """VAA* of a set of final states: ``(1/n) sum_i 1 / sum_j C*_ij``.

    ``C*_ij = 1 - max(0, d_ij - eps) / d_ij = min(1, eps / d_ij)`` with
    ``d_ij = ||tanh(x_i) - tanh(x_j)||``; pairs closer than ``eps`` count as one
    with zero gradient (no division by zero).

    Shape:
        states ``(N, D)``; returns a scalar tensor.
    """
    bounded = torch.tanh(states)
    squared = (bounded.unsqueeze(0) - bounded.unsqueeze(1)).pow(2).sum(-1)
    dist = squared.clamp_min(eps * eps).sqrt()
    similarity = eps / dist
    return (1.0 / similarity.sum(1)).mean()


def vaa(
    net: RecurrentNet,
    sequences: SequenceSet,
    horizon: int = 10_000,
    eps: float = 1e-4,
    seed: int | None = None,
    **renamed: object,
) -> float:
    """Exact VAA of the whole network (all layers' h and c concatenated).

    Args:
        net: the network.
        sequences: a list of ``(len_i, input_size)`` tensors, or ``(padded, lengths)``.
        horizon: ``M``, the number of steps the constant perturbation is held.
        eps: distance under which two final states are the same attractor.
        seed: seed of the cuts and of the perturbation (random if None).
        **renamed: refused; ``steps`` was renamed ``horizon`` (``TypeError``).

    Returns:
        VAA in ``[1/n, 1]``.

    Shape:
        sequences: ``(len_i, input_size)`` each, or ``(T, N, input_size)`` + ``(N,)``.
    """
    net = _check_net(net)
    _check_arguments("vaa", horizon, eps, renamed)
    padded, lengths = as_padded(sequences, net.input_size, _device_of(net), _dtype_of(net))
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    state = reachable_states(net, padded, lengths, generator)
    batch = padded.shape[1]
    perturbation = _randn((1, 1, net.input_size), generator, padded)
    chunk = max(1, min(horizon, _MAX_CHUNK_ELEMENTS // (batch * net.hidden_size)))
    with torch.no_grad():
        done = 0
        while done < horizon:
            length = min(chunk, horizon - done)
            _, state = net(perturbation.expand(length, batch, net.input_size), state)
            done += length
    return count_attractors(state_vector(net, state), eps)


def layer_vaa_star(
    layer: RecurrentLayer, state: State, horizon: int, eps: float, generator: torch.Generator | None
) -> Tensor:
    """VAA* of one layer (its warm half when double) from given reachable states.

    Shape:
        state: h, c ``(N, hidden_size)``; returns a scalar tensor.
    """
    return soft_attractor_variability(layer_final_states(layer, state, horizon, generator), eps)


def layer_final_states(
    layer: RecurrentLayer, state: State, horizon: int, generator: torch.Generator | None
) -> Tensor:
    """The states one layer (its warm half when double) reaches from given reachable states
    under ``horizon`` steps of one constant perturbation ``u ~ N(0, I)``.

    Shape:
        state: h, c ``(N, hidden_size)``; returns ``(N, D)`` (h, and c for an LSTM, of the warm half).
    """
    warm, part = layer.warm_module, layer.warm_slice
    h, c = state[0][:, part], state[1][:, part]
    perturbation = _randn((1, 1, layer.input_size), generator, h)
    inputs = perturbation.expand(horizon, h.shape[0], layer.input_size)
    _, (h_final, c_final) = warm(inputs, (h, c), None)
    return torch.cat([h_final, c_final], -1) if layer.has_cell_state else h_final


def vaa_star(
    net: RecurrentNet,
    sequences: SequenceSet,
    horizon: int,
    eps: float = 1e-4,
    seed: int | None = None,
    layers: list[int] | None = None,
    **renamed: object,
) -> Tensor:
    """Differentiable VAA* of every layer (warm halves only when ``double``).

    Each layer is its own dynamical system: it starts from its part of the
    reachable states and is fed its own constant perturbation ``u_l ~ N(0, I)``
    of its own input size for ``horizon`` steps.

    Args:
        net: the network.
        sequences: a list of ``(len_i, input_size)`` tensors, or ``(padded, lengths)``.
        horizon: ``M``, the number of perturbation steps.
        eps: the distance scale of ``C*``.
        seed: seed of the cuts and perturbations (random if None).
        layers: indices of the layers to evaluate (all if None).
        **renamed: refused; ``steps`` was renamed ``horizon`` (``TypeError``).

    Returns:
        VAA* per evaluated layer, differentiable w.r.t. the warm parameters.

    Shape:
        returns ``(num_layers,)`` (or ``(len(layers),)``).
    """
    net = _check_net(net)
    _check_arguments("vaa_star", horizon, eps, renamed)
    padded, lengths = as_padded(sequences, net.input_size, _device_of(net), _dtype_of(net))
    check_eps_for_dtype("eps", eps, padded.dtype)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return vaa_star_padded(net, padded, lengths, horizon, eps, generator, layers)


def vaa_star_padded(
    net: RecurrentNet,
    padded: Tensor,
    lengths: Tensor,
    horizon: int,
    eps: float,
    generator: torch.Generator | None,
    layers: list[int] | None = None,
) -> Tensor:
    """:func:`vaa_star` on already validated, padded sequences (used by warm-up).

    Shape:
        padded ``(T, N, input_size)``; lengths ``(N,)``; returns ``(len(layers),)``.
    """
    h, c = reachable_states(net, padded, lengths, generator)
    indices = range(net.num_layers) if layers is None else layers
    values = [
        layer_vaa_star(net.layers[i], (h[i], c[i]), horizon, eps, generator) for i in indices
    ]
    return torch.stack(values)


def attractor_counts_padded(
    net: RecurrentNet, padded: Tensor, lengths: Tensor, horizon: int, eps: float, generator: torch.Generator | None
) -> list[float]:
    """Per layer (its warm half when double), the exact attractor fraction (:func:`count_attractors`)
    of the states reached under ``horizon`` steps of a constant perturbation, as VAA* draws them.

    Shape:
        padded ``(T, N, input_size)``; lengths ``(N,)``.
    """
    with torch.no_grad():
        h, c = reachable_states(net, padded, lengths, generator)
        return [
            count_attractors(layer_final_states(layer, (h[i], c[i]), horizon, generator), eps)
            for i, layer in enumerate(net.layers)
        ]

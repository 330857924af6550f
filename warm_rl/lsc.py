"""LSC pre-training: gradient descent on the local Jacobians' radii (Local Stability Condition).

Herranz-Celotti & Rouat 2023 (arXiv 2308.12075). For a stack of ``L`` layers
with states ``s^l`` (``h`` and ``c`` concatenated for an LSTM) the terms are

* ``"recurrent_l"``: ``d s^l_{t+1} / d s^l_t``, for every layer;
* ``"depth_l"``: ``d s^l_{t+1} / d s^{l-1}_{t+1}``, for ``l >= 1`` (only ``h^{l-1}``
  feeds layer ``l``, so the columns of ``c^{l-1}`` are zero);
* ``"input"``: ``d s^0_{t+1} / d x_t``;
* ``"output"``: ``d y_t / d s^{L-1}_{t+1}`` when a readout ``head`` is given (target
  always 1; left out when ``y`` is wider than :data:`OUTPUT_MAX_WIDTH`).

The loss is the mean over terms of the batch mean of ``(radius - target)^2``
(radii: :mod:`warm_rl.lsc_radius`). One optimiser step is taken per time step of
a data batch, the states carried forward (detached); the Jacobians are taken at
those states, and their gradient reaches the parameters of the layer (or head)
that each one belongs to. Training stops once every term's batch-mean radius has
stayed within ``tolerance`` of its target for ``patience`` steps, or at the step
budget, and the best weights seen are loaded back.

With ``double=True`` a layer's state is ``[warm half, cold half]``; ``halves``
restricts the states of every term, and the parameters trained, to the chosen
halves (``"cold"`` leaves the warm halves bit-identical).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from warm_rl.lsc_radius import (
    DENSE_MAX_SIZE,
    ESTIMATORS,
    KRYLOV_CYCLES,
    KRYLOV_STEPS,
    RADII,
    RadiusEstimate,
    estimate_radius,
)
from warm_rl.lsc_terms import LSCProblem, LSCTerm, recurrent_weights, trained_modules
from warm_rl.network import RecurrentNet
from warm_rl.sequences import SequenceSet, as_padded
from warm_rl.validation import check_bool, check_choice, check_int, check_number, config_from_value

HALVES: tuple[str, ...] = ("both", "warm", "cold")
"""Which halves of double layers LSC measures and trains."""

OPTIMIZERS: tuple[str, ...] = ("adabelief_lookahead", "adam")
"""``"adabelief_lookahead"``: AdaBelief in Lookahead (``pytorch-optimizer``; Adam if missing)."""

OUTPUT_MAX_WIDTH = 100
"""The output term is left out when the head's output is wider than this."""

RESCALE_CLIP = (0.85, 1.15)
"""Bounds of the factor ``target / radius`` of ``rescale_recurrent``."""


@dataclass
class LSCConfig:
    """LSC pre-training settings; the defaults are the reference code's, as METHOD.md describes it.

    Attributes:
        target: ``rho_t``, the radius aimed at by every term but the output one
            (always 1). 0.5 is the paper's remedy for deep stacks.
        radius: ``"eig"`` (spectral radius) or ``"svd"`` (top singular value).
        estimator: ``"dense"``, ``"matrix_free"`` or ``"auto"`` (dense when a term's
            squared Jacobian is at most ``dense_max_size`` wide).
        dense_max_size: widest Jacobian ``"auto"`` computes densely.
        krylov_steps: Krylov dimension of the matrix-free estimator.
        krylov_cycles: Arnoldi runs per estimate of the matrix-free estimator
            (each started from the previous step's vector of the same term).
        halves: for double networks, ``"both"``, ``"warm"`` or ``"cold"``; None picks
            ``"cold"`` when the network is marked warmed up (a truthy ``warmed_up``
            attribute or buffer, as agents' policies keep) and ``"both"`` otherwise.
            Must stay None for a network that is not double.
        optimizer: ``"adabelief_lookahead"`` or ``"adam"``.
        lr: learning rate.
        batch_size: sequences per batch (all steps of a batch are used in turn).
        max_steps: step budget; None is twice the longest sequence (two batches).
        tolerance: how close to its target every batch-mean radius must be ...
        patience: ... for this many consecutive steps to stop early.
        rescale_recurrent: after each step, multiply every layer's recurrent
            weights by ``target / recurrent radius`` clipped to :data:`RESCALE_CLIP`.
        restarts: restarts (best weights restored, lr halved) allowed after a
            non-finite loss, gradient or weight.
        seed: seed of the batches, index draws and Krylov starts (random if None).
    """

    target: float = 1.0
    radius: str = "eig"
    estimator: str = "auto"
    dense_max_size: int = DENSE_MAX_SIZE
    krylov_steps: int = KRYLOV_STEPS
    krylov_cycles: int = KRYLOV_CYCLES
    halves: str | None = None
    optimizer: str = "adabelief_lookahead"
    lr: float = 7e-3
    batch_size: int = 32
    max_steps: int | None = None
    tolerance: float = 0.08
    patience: int = 20
    rescale_recurrent: bool = False
    restarts: int = 1
    seed: int | None = None

    def __post_init__(self) -> None:
        check_number("LSCConfig.target", self.target, minimum=0.0, strict_minimum=True)
        check_choice("LSCConfig.radius", self.radius, RADII)
        check_choice("LSCConfig.estimator", self.estimator, ESTIMATORS)
        check_choice("LSCConfig.optimizer", self.optimizer, OPTIMIZERS)
        if self.halves is not None:
            check_choice("LSCConfig.halves", self.halves, HALVES)
        for name in ("dense_max_size", "krylov_steps", "krylov_cycles", "batch_size", "patience"):
            check_int(f"LSCConfig.{name}", getattr(self, name), minimum=1)
        check_int("LSCConfig.restarts", self.restarts, minimum=0)
        if self.max_steps is not None:
            check_int("LSCConfig.max_steps", self.max_steps, minimum=1)
        check_number("LSCConfig.lr", self.lr, minimum=0.0, strict_minimum=True)
        check_number("LSCConfig.tolerance", self.tolerance, minimum=0.0)
        check_bool("LSCConfig.rescale_recurrent", self.rescale_recurrent)
        if self.seed is not None:
            check_int("LSCConfig.seed", self.seed)

    @classmethod
    def from_value(cls, value: LSCConfig | dict | None) -> LSCConfig:
        """A config from a config, a dict of its fields, or None (defaults)."""
        return config_from_value(cls, value, "LSCConfig", "LSC config")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LSCReport:
    """What an LSC pre-training did.

    Attributes:
        losses: the loss of every step (restarted runs appended).
        radii: per term (``"recurrent_0"``, ``"depth_1"``, ``"input"``, ``"output"``),
            its batch-mean radius at every step, measured before that step's update.
        targets: the target of every term.
        estimators: the estimator each term used (``"dense"`` / ``"matrix_free"``).
        halves: the halves trained (``"both"`` for a network that is not double).
        stop_step: the last step taken.
        stop_reason: ``"converged"`` or ``"budget"``.
        best_step: the step whose weights were kept (smallest mean over terms and
            samples of ``|radius - target|``).
        best_error: that mean.
        restarts: restarts after a non-finite loss.
        seconds: wall time.
    """

    losses: list[float] = field(default_factory=list)
    radii: dict[str, list[float]] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    estimators: dict[str, str] = field(default_factory=dict)
    halves: str = "both"
    stop_step: int = -1
    stop_reason: str = "budget"
    best_step: int = -1
    best_error: float = math.inf
    restarts: int = 0
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        """Optimiser steps taken, restarts included."""
        return len(self.losses)


StepCallback = Callable[[int, float, dict[str, float]], None]
"""Called after every step with ``(step, loss, batch-mean radius per term)``."""


# ---------------------------------------------------------------- procedure


def lsc_pretrain(
    net: RecurrentNet,
    sequences: SequenceSet,
    config: LSCConfig | dict | None = None,
    head: nn.Module | None = None,
    callback: StepCallback | None = None,
) -> LSCReport:
    """Pre-trains a network in place so that its local Jacobians have the target radius.

    Args:
        net: the network; with ``double=True`` only the chosen halves change.
        sequences: the data the network will see: a list of ``(len_i, input_size)``
            tensors, or ``(padded, lengths)``.
        config: an :class:`LSCConfig`, a dict of its fields, or None (defaults).
        head: a readout mapping the last layer's output to ``y``; adds the output
            term and is trained with the network.
        callback: called after every step with ``(step, loss, radii)``.

    Returns:
        An :class:`LSCReport`; the best weights are loaded into ``net`` (and ``head``).

    Raises:
        TypeError: ``net`` not a RecurrentNet, ``head`` not a module, a bad config type.
        ValueError: bad sequences (empty, wrong feature size), ``halves`` given for a
            network that is not double, a head output that is not ``(B, width)``.
        RuntimeError: the loss, a gradient or a weight stayed non-finite after all
            restarts (the best, else the initial, weights are restored first).

    Shape:
        sequences: ``(len_i, input_size)`` each, or ``(T, N, input_size)`` + ``(N,)``;
        head: ``(B, hidden_size)`` -> ``(B, out)``.
    """
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a warm_rl.RecurrentNet, got {type(net).__name__}")
    if head is not None and not isinstance(head, nn.Module):
        raise TypeError(f"head must be a torch.nn.Module or None, got {type(head).__name__}")
    config = LSCConfig.from_value(config)
    halves = _resolve_halves(net, config.halves)
    device = next(net.parameters()).device
    padded, lengths = as_padded(sequences, net.input_size, device)
    generator = torch.Generator().manual_seed(_seed_of(config))
    with_output = head is not None and _head_width(head, net, padded) <= OUTPUT_MAX_WIDTH
    problem = LSCProblem(net, head, halves, config.target)
    modules = [m for layer in net.layers for m in trained_modules(layer, halves)]
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    if head is not None:
        params += [p for p in head.parameters() if p.requires_grad]
    budget = config.max_steps if config.max_steps is not None else 2 * padded.shape[0]
    report = LSCReport(halves=halves)
    run = _Run(problem, config, padded, lengths, generator, params, report, callback, with_output)
    start = time.perf_counter()
    lr = config.lr
    for attempt in range(config.restarts + 1):
        failure = run.attempt(budget, lr)
        if failure is None:
            break
        run.restore()
        if attempt == config.restarts:
            report.seconds = time.perf_counter() - start
            raise RuntimeError(
                f"LSC {failure} at step {report.steps - 1} and stayed so after {report.restarts} restart(s) "
                f"(lr halved each time); the {'best' if run.best is not None else 'initial'} weights were restored"
            )
        report.restarts += 1
        lr /= 2
    run.restore()
    report.seconds = time.perf_counter() - start
    return report


def lsc_radii(
    net: RecurrentNet,
    sequences: SequenceSet,
    config: LSCConfig | dict | None = None,
    head: nn.Module | None = None,
    steps: int | None = None,
) -> dict[str, float]:
    """The mean radius of every LSC term on the data, without training.

    Steps through one batch as :func:`lsc_pretrain` does (same terms, halves,
    estimator and seed) and averages each term's batch-mean radius over the steps.

    Args:
        net: the network.
        sequences: as for :func:`lsc_pretrain`.
        config: an :class:`LSCConfig`, a dict of its fields, or None (defaults).
        head: the readout, for the output term.
        steps: time steps measured (default: the whole first batch).

    Returns:
        ``term name -> mean radius``.
    """
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a warm_rl.RecurrentNet, got {type(net).__name__}")
    config = LSCConfig.from_value(config)
    if steps is not None:
        check_int("steps", steps, minimum=1)
    halves = _resolve_halves(net, config.halves)
    padded, lengths = as_padded(sequences, net.input_size, next(net.parameters()).device)
    with_output = head is not None and _head_width(head, net, padded) <= OUTPUT_MAX_WIDTH
    generator = torch.Generator().manual_seed(_seed_of(config))
    stream = _Stream(LSCProblem(net, head, halves, config.target), config, padded, lengths, generator, with_output)
    sums: dict[str, float] = {}
    count = 0
    with torch.no_grad():
        while True:
            for name, (_, estimate) in stream.estimates().items():
                sums[name] = sums.get(name, 0.0) + float(estimate.radius.mean())
            count += 1
            stream.advance()
            if stream.t == stream.batch.shape[0] or (steps is not None and count == steps):
                break
    return {name: total / count for name, total in sums.items()}


def _resolve_halves(net: RecurrentNet, halves: str | None) -> str:
    if not net.double:
        if halves is not None:
            raise ValueError(f"LSCConfig.halves={halves!r} needs a double network (double=True); leave it None")
        return "both"
    if halves is not None:
        return halves
    marked = getattr(net, "warmed_up", False)
    return "cold" if bool(marked) else "both"


def _seed_of(config: LSCConfig) -> int:
    return config.seed if config.seed is not None else int(torch.randint(2**62, (1,)).item())


def _head_width(head: nn.Module, net: RecurrentNet, padded: Tensor) -> int:
    with torch.no_grad():
        out = head(padded.new_zeros(2, net.hidden_size))
    if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[0] != 2:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"head must map (B, {net.hidden_size}) to (B, out), got {shape} for B=2")
    return out.shape[1]


def _make_optimizer(params: list[Tensor], name: str, lr: float) -> torch.optim.Optimizer:
    if name == "adabelief_lookahead":
        try:
            import pytorch_optimizer
        except ImportError:
            warnings.warn("pytorch-optimizer is not installed: LSC uses Adam instead of AdaBelief + Lookahead",
                          stacklevel=4)
        else:
            return pytorch_optimizer.Lookahead(pytorch_optimizer.AdaBelief(params, lr=lr), k=5, alpha=0.5)
    return torch.optim.Adam(params, lr=lr)


class _Run:
    """The state of an LSC run across attempts: data stream, best weights, report."""

    def __init__(self, problem: LSCProblem, config: LSCConfig, padded: Tensor, lengths: Tensor,
                 generator: torch.Generator, params: list[Tensor], report: LSCReport,
                 callback: StepCallback | None, with_output: bool) -> None:
        self.problem, self.config, self.padded, self.lengths = problem, config, padded, lengths
        self.generator, self.params, self.report, self.callback = generator, params, report, callback
        self.with_output = with_output
        self.initial = [p.detach().clone() for p in params]
        self.best: list[Tensor] | None = None

    def restore(self) -> None:
        """Loads the best weights measured (the initial ones if none was)."""
        with torch.no_grad():
            for param, value in zip(self.params, self.best or self.initial, strict=True):
                param.copy_(value)

    def attempt(self, budget: int, lr: float) -> str | None:
        """Up to ``budget`` steps; what became non-finite, or None."""
        config, report = self.config, self.report
        optimizer = _make_optimizer(self.params, config.optimizer, lr)
        stream = _Stream(self.problem, config, self.padded, self.lengths, self.generator, self.with_output)
        calm = 0
        for _ in range(budget):
            estimates = stream.estimates()
            loss = torch.stack([(e.radius - t).pow(2).mean() for t, e in estimates.values()]).mean()
            radii = {name: float(e.radius.detach().mean()) for name, (_, e) in estimates.items()}
            error = sum(float((e.radius.detach() - t).abs().mean()) for t, e in estimates.values()) / len(estimates)
            loss_value = float(loss.detach())
            step = report.steps
            report.losses.append(loss_value)
            for name, (target, estimate) in estimates.items():
                report.radii.setdefault(name, []).append(radii[name])
                report.targets[name], report.estimators[name] = target, estimate.estimator
            report.stop_step = step
            if not math.isfinite(loss_value):
                return "loss became non-finite"
            if error < report.best_error:
                report.best_error, report.best_step = error, step
                self.best = [p.detach().clone() for p in self.params]
            optimizer.zero_grad()  # set_to_none: the default of torch and of every Lookahead
            loss.backward()
            if not all(bool(torch.isfinite(p.grad).all()) for p in self.params if p.grad is not None):
                return "gradient became non-finite"
            optimizer.step()
            if config.rescale_recurrent:
                self._rescale(radii)
            if not all(bool(torch.isfinite(p).all()) for p in self.params):
                return "weights became non-finite"
            if self.callback is not None:
                self.callback(step, loss_value, radii)
            within = all(abs(v - report.targets[k]) <= config.tolerance for k, v in radii.items())
            calm = calm + 1 if within else 0
            if calm >= config.patience:
                report.stop_reason = "converged"
                return None
            stream.advance()
        report.stop_reason = "budget"
        return None

    def _rescale(self, radii: dict[str, float]) -> None:
        low, high = RESCALE_CLIP
        with torch.no_grad():
            for index, layer in enumerate(self.problem.net.layers):
                measured = radii.get(f"recurrent_{index}")
                if measured is None or not measured > 0:
                    continue
                factor = min(max(self.config.target / measured, low), high)
                for module in trained_modules(layer, self.problem.halves):
                    for weight in recurrent_weights(module):
                        weight.mul_(factor)


class _Stream:
    """Batches stepped through in time: the states carried forward and the terms of each step."""

    def __init__(self, problem: LSCProblem, config: LSCConfig, padded: Tensor, lengths: Tensor,
                 generator: torch.Generator, with_output: bool) -> None:
        self.problem, self.config, self.padded, self.lengths = problem, config, padded, lengths
        self.generator, self.with_output = generator, with_output
        self.batch: Tensor | None = None
        self.t = 0

    def _draw(self) -> None:
        count = self.padded.shape[1]
        index = torch.randperm(count, generator=self.generator)[: min(self.config.batch_size, count)]
        index = index.to(self.padded.device)
        self.batch_lengths = self.lengths[index]
        self.batch = self.padded[: int(self.batch_lengths.max()), index]
        self.t, self.states, self.starts = 0, self.problem.zero_states(self.batch.shape[1], self.batch), {}

    def estimates(self) -> dict[str, tuple[float, RadiusEstimate]]:
        """``name -> (target, estimate)`` of every term at the current step (sequences still running)."""
        if self.batch is None or self.t == self.batch.shape[0]:
            self._draw()
        x = self.batch[self.t]
        self.valid = (self.batch_lengths > self.t).nonzero().squeeze(-1)
        self.new = self.problem.advance(x, self.states)
        terms = self.problem.terms(x[self.valid], [s[self.valid] for s in self.states],
                                   [s[self.valid] for s in self.new], self.with_output)
        return {term.name: (term.target, self._estimate(term)) for term in terms}

    def advance(self) -> None:
        self.states, self.t = self.new, self.t + 1

    def _estimate(self, term: LSCTerm) -> RadiusEstimate:
        """The term's radius; matrix-free estimates restart from the previous step's vectors."""
        config, valid, batch = self.config, self.valid, self.batch.shape[1]
        previous = self.starts.get(term.name)
        start = None if previous is None else tuple(None if v is None else v[valid] for v in previous)
        estimate = estimate_radius(
            term.fn, term.fn.point(term.base), (term.base, *term.context), config.radius, config.estimator,
            config.krylov_steps, config.krylov_cycles, config.dense_max_size, self.generator, start,
        )
        if estimate.estimator == "matrix_free" and estimate.right is not None:
            self.starts[term.name] = tuple(None if v is None else _scatter_rows(v, valid, batch)
                                           for v in (estimate.right, estimate.left))
        return estimate


def _scatter_rows(values: Tensor, rows: Tensor, batch: int) -> Tensor:
    """``values`` placed at ``rows`` of a ``batch``-row tensor (nan elsewhere: no warm start there)."""
    full = values.new_full((batch, *values.shape[1:]), float("nan"))
    full[rows] = values
    return full

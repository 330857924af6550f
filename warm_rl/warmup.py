"""Warm-up: gradient descent on VAA* so that a network becomes multistable.

Loss ``mean_l (VAA*_l - k)^2``; each update draws a batch of sequences and a
perturbation horizon ``M ~ U{1..M*}``, where ``M*`` starts at 1 and grows by
``horizon_increment`` per update up to ``max_horizon`` (curriculum). Only the
warm parameters change: the whole layers, or their warm halves when the network
is double.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from warm_rl.network import RecurrentNet
from warm_rl.sequences import SequenceSet, as_padded
from warm_rl.vaa import attractor_counts_padded, check_eps_for_dtype, vaa_star_padded
from warm_rl.validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    config_from_value,
    refuse_renamed_fields,
)

STUCK_THRESHOLD = 0.98
"""A layer whose VAA* ends above this is stuck (states too extreme) and is restarted."""

COLLAPSED_COUNT = 2.5
"""A layer has collapsed when a batch of its final states, after
``COLLAPSE_HORIZON_FACTOR * max_horizon`` perturbation steps, holds at most two attractors
(an exact attractor fraction of at most ``COLLAPSED_COUNT / batch_size``): too few to hold
even one bit. VAA*'s gradient vanishes there (pairs closer than ``eps`` count as one with
zero gradient), so the warm-up cannot leave it by itself: the layer is re-initialised and
warmed up again with the learning rate times :data:`LR_ESCALATION`. Seen with LSTMs, whose
small ``h`` and ``c`` let the states contract within ``eps`` before the curriculum's horizon
lets attractors form (the T-maze agent's warm-up: 5 of 6 LSTM seeds, 1 of 6 GRU seeds,
``scripts/warmup_collapse_probe.py``). The default of ``WarmupConfig.collapsed_count``; one
LSTM T-maze warm-up (seed 4) restarted once and then kept 4 of 32, monostable on the task's
episodes: 4.5 restarts it too (``results/tmaze_lstm/README.md``)."""

COLLAPSE_HORIZON_FACTOR = 5
"""The collapse check runs this many times ``max_horizon`` steps (1000 by default, the VAA's
horizon): slow transients at ``max_horizon`` are not attractors."""

LR_ESCALATION = 3.0
"""Learning-rate factor of each restart after a collapse (see :data:`COLLAPSED_COUNT`)."""

WEIGHT_LIMIT = 1e3
"""A warm-up whose warm weights grew beyond this magnitude is reported as diverged."""

IF_DIVERGED: tuple[str, ...] = ("warn", "raise")
"""Values of ``WarmupConfig.if_diverged``."""

RENAMED_FIELDS: dict[str, str] = {"steps": "updates", "max_steps": "max_horizon", "increment": "horizon_increment"}
"""Old :class:`WarmupConfig` field names and their new names (the old ones raise ``TypeError``)."""


@refuse_renamed_fields("WarmupConfig", RENAMED_FIELDS)
@dataclass
class WarmupConfig:
    """Warm-up settings; the defaults are the paper's.

    Attributes:
        updates: gradient updates ``S``.
        lr: Adam learning rate.
        batch_size: sequences per update ``n``.
        horizon_increment: growth ``c`` of the curriculum bound ``M*`` per update.
        max_horizon: cap ``M_max`` of ``M*`` (perturbation steps).
        target: ``k``, the VAA* aimed at.
        eps: distance scale of VAA*.
        restarts: how many times stuck layers (or a non-finite loss) may be
            re-initialised and warmed up again.
        progress: show a progress bar.
        seed: seed of the batches, cuts and perturbations (random if None).
        if_diverged: ``"warn"`` (default) or ``"raise"`` (``RuntimeError``) when the
            warm-up ends diverged: warm weights beyond :data:`WEIGHT_LIMIT` (a too
            large ``lr``). The reason is in ``WarmupReport.diverged`` either way.
            The final VAA* is not a criterion: warm-ups that work end far from the
            target too (the default T-maze agents' at 0.37-0.74 for ``target``
            0.95: VAA* at ``M = max_horizon`` is the hardest measurement).
        restart_collapsed: restart layers that collapsed (``collapsed_count``), with a
            larger learning rate (:data:`LR_ESCALATION`); False: the paper's procedure.
        collapsed_count: a layer whose final states of a batch hold at most this many
            attractors has collapsed (:data:`COLLAPSED_COUNT` by default; > 0, below
            ``batch_size``). 4.5 also restarts layers left with 3 or 4 attractors of 32.
    """

    updates: int = 100
    lr: float = 1e-2
    batch_size: int = 32
    horizon_increment: int = 10
    max_horizon: int = 200
    target: float = 0.95
    eps: float = 1e-4
    restarts: int = 3
    progress: bool = False
    seed: int | None = None
    if_diverged: str = "warn"
    restart_collapsed: bool = True
    collapsed_count: float = COLLAPSED_COUNT

    def __post_init__(self) -> None:
        check_choice("WarmupConfig.if_diverged", self.if_diverged, IF_DIVERGED)
        for name in ("updates", "batch_size", "max_horizon"):
            check_int(f"WarmupConfig.{name}", getattr(self, name), minimum=1)
        for name in ("horizon_increment", "restarts"):
            check_int(f"WarmupConfig.{name}", getattr(self, name), minimum=0)
        check_number("WarmupConfig.lr", self.lr, minimum=0.0, strict_minimum=True)
        check_number("WarmupConfig.eps", self.eps, minimum=0.0, strict_minimum=True)
        check_number("WarmupConfig.target", self.target, minimum=0.0, maximum=1.0, strict_minimum=True)
        check_bool("WarmupConfig.progress", self.progress)
        check_bool("WarmupConfig.restart_collapsed", self.restart_collapsed)
        check_number("WarmupConfig.collapsed_count", self.collapsed_count, minimum=0.0, strict_minimum=True)
        if self.collapsed_count >= self.batch_size:
            raise ValueError(
                f"WarmupConfig.collapsed_count={self.collapsed_count} must be below batch_size={self.batch_size} "
                "(every layer would count as collapsed)")
        if self.seed is not None:
            check_int("WarmupConfig.seed", self.seed)

    @classmethod
    def from_value(cls, value: WarmupConfig | dict | None) -> WarmupConfig:
        """A config from a config, a dict of its fields, or None (defaults)."""
        return config_from_value(cls, value, "WarmupConfig", "warm-up config", RENAMED_FIELDS)

    def to_dict(self) -> dict:
        return asdict(self)




@dataclass
class WarmupReport:
    """What a warm-up did.

    Attributes:
        losses: the loss of every update (restarted runs appended).
        vaa_star: per update, the VAA* of every layer (``nan`` for a layer that
            was not trained in that update, as in a restart of other layers).
        horizons: per update, the number of perturbation steps ``M`` drawn.
        restarts: how many restarts happened.
        restarted_layers: the layers re-initialised at each restart.
        collapsed_layers: the layers found collapsed (``WarmupConfig.collapsed_count``),
            at each restart they caused.
        learning_rates: the learning rate of each run (the first, then one per restart).
        final_attractors: per layer, the exact attractor fraction (:func:`warm_rl.vaa.count_attractors`)
            of the collapse check's final states (``WarmupConfig.collapsed_count``).
        final_vaa_star: VAA* per layer at ``M = max_horizon`` after warm-up.
        diverged: why the warm-up counts as diverged (None: it did not).
        seconds: wall time.
    """

    losses: list[float] = field(default_factory=list)
    vaa_star: list[list[float]] = field(default_factory=list)
    horizons: list[int] = field(default_factory=list)
    restarts: int = 0
    restarted_layers: list[list[int]] = field(default_factory=list)
    collapsed_layers: list[list[int]] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    final_attractors: list[float] = field(default_factory=list)
    final_vaa_star: list[float] = field(default_factory=list)
    diverged: str | None = None
    seconds: float = 0.0

    @property
    def updates(self) -> int:
        """Gradient updates done, restarts included."""
        return len(self.losses)


StepCallback = Callable[[int, float, list[float]], None]
"""Called after every update with ``(update, loss, vaa_star per layer)``."""


@dataclass
class _NonFiniteLoss:
    """Where a run stopped on a non-finite loss or gradient."""

    update: int
    layers: list[int]


@dataclass
class _Batches:
    """The validated sequences of a warm-up and its random stream."""

    padded: Tensor
    lengths: Tensor
    generator: torch.Generator

    def draw(self, batch_size: int) -> tuple[Tensor, Tensor]:
        """A random batch of ``min(batch_size, N)`` distinct sequences, trimmed to its longest.

        Shape:
            returns padded ``(T_batch, n, input_size)`` and lengths ``(n,)``.
        """
        count = self.padded.shape[1]
        index = torch.randperm(count, generator=self.generator)[: min(batch_size, count)]
        index = index.to(self.padded.device)
        lengths = self.lengths[index]
        return self.padded[: int(lengths.max()), index], lengths


def warm_up(
    net: RecurrentNet,
    sequences: SequenceSet,
    config: WarmupConfig | dict | None = None,
    callback: StepCallback | None = None,
) -> WarmupReport:
    """Warms a network up in place.

    Layers whose VAA* ends above :data:`STUCK_THRESHOLD`, layers that collapsed to
    at most ``config.collapsed_count`` attractors (warmed up again with a learning rate
    :data:`LR_ESCALATION` times larger), and all layers of a run whose loss became
    non-finite, are re-initialised and warmed up again, at most ``config.restarts`` times.

    Args:
        net: the network; with ``double=True`` only its warm halves change.
        sequences: the data the network will see: a list of
            ``(len_i, input_size)`` tensors, or ``(padded, lengths)``.
        config: a :class:`WarmupConfig`, a dict of its fields, or None (defaults).
        callback: called after every update with ``(update, loss, vaa_star)``.

    Returns:
        A :class:`WarmupReport`; ``net.warmed_up`` is set.

    Raises:
        RuntimeError: the loss stayed non-finite after all restarts.

    Shape:
        sequences: ``(len_i, input_size)`` each, or ``(T, N, input_size)`` + ``(N,)``.
    """
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a warm_rl.RecurrentNet, got {type(net).__name__}")
    config = WarmupConfig.from_value(config)
    parameter = next(net.parameters())
    padded, lengths = as_padded(sequences, net.input_size, parameter.device, parameter.dtype)
    check_eps_for_dtype("WarmupConfig.eps", config.eps, parameter.dtype)
    batches = _Batches(padded, lengths, torch.Generator().manual_seed(_seed_of(config)))
    report = WarmupReport()
    start = time.perf_counter()
    active = list(range(net.num_layers))
    lr = config.lr
    with _training_mode(net):
        for attempt in range(config.restarts + 1):
            report.learning_rates.append(lr)
            failure = _run(net, batches, config, active, report, callback, lr)
            if failure is None:
                report.final_vaa_star = _final_vaa_star(net, batches, config)
                report.final_attractors = _final_attractors(net, batches, config)
                collapsed_fraction = config.collapsed_count / config.batch_size
                collapsed = [i for i in active if report.final_attractors[i] <= collapsed_fraction]
                collapsed = collapsed if config.restart_collapsed else []
                stuck = [i for i in active if report.final_vaa_star[i] > STUCK_THRESHOLD]
                active = sorted(collapsed + stuck)
                if not active:
                    break
                if collapsed:
                    report.collapsed_layers.append(collapsed)
                    lr *= LR_ESCALATION
            else:
                active = failure.layers
            if attempt == config.restarts:
                _give_up(failure, active, report)
                break
            _reinitialise(net, active, report)
    net.warmed_up = True
    report.seconds = time.perf_counter() - start
    _check_divergence(net, config, report)
    return report


def _check_divergence(net: RecurrentNet, config: WarmupConfig, report: WarmupReport) -> None:
    """Sets ``report.diverged`` and warns or raises (``config.if_diverged``) when the warm-up diverged."""
    reasons = []
    largest = max((float(p.detach().abs().max()) for group in net.warm_parameters() for p in group), default=0.0)
    if largest > WEIGHT_LIMIT:
        reasons.append(f"warm weights reached |w| = {largest:.3g} (> {WEIGHT_LIMIT:g})")
    if not reasons:
        return
    report.diverged = "; ".join(reasons)
    message = (f"warm-up diverged: {report.diverged}, final VAA* {[round(v, 3) for v in report.final_vaa_star]}; "
               f"try a smaller lr than {config.lr:g}")
    if config.if_diverged == "raise":
        raise RuntimeError(message)
    warnings.warn(message, stacklevel=3)


def _seed_of(config: WarmupConfig) -> int:
    """The config's seed; if None, one drawn from the global RNG, which stays seeded
    (``torch.seed()`` would reseed it at random)."""
    return config.seed if config.seed is not None else int(torch.randint(2**62, (1,)).item())


@contextlib.contextmanager
def _training_mode(net: RecurrentNet) -> Iterator[None]:
    """Training mode during warm-up, the caller's mode restored after."""
    was_training = net.training
    net.train()
    try:
        yield
    finally:
        net.train(was_training)


def _give_up(failure: _NonFiniteLoss | None, layers: list[int], report: WarmupReport) -> None:
    """Out of restarts: raises for a non-finite loss, warns for stuck layers."""
    if failure is not None:
        raise RuntimeError(
            f"warm-up became non-finite (its loss, a gradient or a weight, or Adam's step overflowed) at update "
            f"{failure.update} (layers {failure.layers}) and stayed so after {report.restarts} restart(s); "
            "try a smaller lr or max_horizon"
        )
    values = [round(report.final_vaa_star[i], 3) for i in layers]
    warnings.warn(
        f"layer(s) {layers} still have VAA* > {STUCK_THRESHOLD} (stuck) or collapsed to a few attractors "
        f"(final VAA* {values}) after {report.restarts} restart(s)",
        stacklevel=3,
    )


def _reinitialise(net: RecurrentNet, layers: list[int], report: WarmupReport) -> None:
    for index in layers:
        net.layers[index].warm_module.reset_parameters()
    report.restarts += 1
    report.restarted_layers.append(list(layers))


def _run(
    net: RecurrentNet,
    batches: _Batches,
    config: WarmupConfig,
    active: list[int],
    report: WarmupReport,
    callback: StepCallback | None,
    lr: float,
) -> _NonFiniteLoss | None:
    """``config.updates`` updates of the ``active`` layers at learning rate ``lr``; where it
    stopped if the loss or a gradient became non-finite, else None."""
    warm_params = net.warm_parameters()
    params = [p for i in active for p in warm_params[i]]
    optimizer = torch.optim.Adam(params, lr=lr)
    progress = _progress_bar(config, len(active))
    try:
        for update in range(config.updates):
            horizon_cap = min(1 + update * config.horizon_increment, config.max_horizon)
            horizon = int(torch.randint(1, horizon_cap + 1, (1,), generator=batches.generator))
            batch, batch_lengths = batches.draw(config.batch_size)
            values = vaa_star_padded(net, batch, batch_lengths, horizon, config.eps, batches.generator, active)
            loss = (values - config.target).pow(2).mean()
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                return _NonFiniteLoss(report.updates, active)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if not all(bool(torch.isfinite(p.grad).all()) for p in params if p.grad is not None):
                return _NonFiniteLoss(report.updates, active)
            try:
                optimizer.step()
            except (RuntimeError, OverflowError) as error:  # Adam's arithmetic overflowed (huge lr)
                if "overflow" not in str(error):
                    raise
                return _NonFiniteLoss(report.updates, active)
            if not all(bool(torch.isfinite(p).all()) for p in params):
                return _NonFiniteLoss(report.updates, active)
            _record(report, net.num_layers, active, values, loss_value, horizon, callback)
            if progress is not None:
                progress.set_postfix(loss=f"{loss_value:.4f}", M=horizon)
                progress.update(1)
    finally:
        if progress is not None:
            progress.close()
    return None


def _record(
    report: WarmupReport,
    num_layers: int,
    active: list[int],
    values: Tensor,
    loss: float,
    horizon: int,
    callback: StepCallback | None,
) -> None:
    """Appends one update to the report (``nan`` for the layers not trained) and calls back."""
    per_layer = [math.nan] * num_layers
    for i, value in zip(active, values.detach().tolist(), strict=True):
        per_layer[i] = value
    report.losses.append(loss)
    report.vaa_star.append(per_layer)
    report.horizons.append(horizon)
    if callback is not None:
        callback(report.updates - 1, loss, per_layer)


def _final_vaa_star(net: RecurrentNet, batches: _Batches, config: WarmupConfig) -> list[float]:
    """VAA* per layer at ``M = max_horizon`` on a fresh batch (no gradient)."""
    batch, lengths = batches.draw(config.batch_size)
    with torch.no_grad():
        values = vaa_star_padded(net, batch, lengths, config.max_horizon, config.eps, batches.generator)
    return [float(v) for v in values]


def _final_attractors(net: RecurrentNet, batches: _Batches, config: WarmupConfig) -> list[float]:
    """Per layer, the exact attractor fraction of a fresh batch's final states after
    ``COLLAPSE_HORIZON_FACTOR * max_horizon`` perturbation steps (drawn after the final VAA*,
    from the warm-up's own generator: nothing else is changed by it)."""
    batch, lengths = batches.draw(config.batch_size)
    horizon = COLLAPSE_HORIZON_FACTOR * config.max_horizon
    return attractor_counts_padded(net, batch, lengths, horizon, config.eps, batches.generator)


def _progress_bar(config: WarmupConfig, active_layers: int):
    if not config.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.updates, desc=f"warm-up ({active_layers} layer(s))", leave=False)

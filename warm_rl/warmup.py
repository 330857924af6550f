"""Warm-up: gradient descent on VAA* so that a network becomes multistable.

Loss ``mean_l (VAA*_l - k)^2``; each step draws a batch of sequences and
``M ~ U{1..M*}``, where ``M*`` starts at 1 and grows by ``increment`` per step
up to ``max_steps`` (curriculum). Only the warm parameters change: the whole
layers, or their warm halves when the network is double.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from warm_rl.network import RecurrentNet
from warm_rl.sequences import SequenceSet, as_padded
from warm_rl.vaa import vaa_star_padded

STUCK_THRESHOLD = 0.98
"""A layer whose VAA* ends above this is stuck (states too extreme) and is restarted."""


@dataclass
class WarmupConfig:
    """Warm-up settings; the defaults are the paper's.

    Attributes:
        steps: gradient steps ``S``.
        lr: Adam learning rate.
        batch_size: sequences per step ``n``.
        increment: growth ``c`` of the curriculum bound ``M*`` per step.
        max_steps: cap ``M_max`` of ``M*``.
        target: ``k``, the VAA* aimed at.
        eps: distance scale of VAA*.
        restarts: how many times stuck layers (or a non-finite loss) may be
            re-initialised and warmed up again.
        progress: show a progress bar.
        seed: seed of the batches, cuts and perturbations (random if None).
    """

    steps: int = 100
    lr: float = 1e-2
    batch_size: int = 32
    increment: int = 10
    max_steps: int = 200
    target: float = 0.95
    eps: float = 1e-4
    restarts: int = 3
    progress: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "max_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"WarmupConfig.{name} must be an int >= 1, got {value!r}")
        for name in ("increment", "restarts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"WarmupConfig.{name} must be an int >= 0, got {value!r}")
        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise ValueError(f"WarmupConfig.lr must be > 0, got {self.lr!r}")
        if not isinstance(self.eps, (int, float)) or not self.eps > 0:
            raise ValueError(f"WarmupConfig.eps must be > 0, got {self.eps!r}")
        if not isinstance(self.target, (int, float)) or not 0 < self.target <= 1:
            raise ValueError(f"WarmupConfig.target must lie in (0, 1], got {self.target!r}")

    @classmethod
    def from_value(cls, value: WarmupConfig | dict | None) -> WarmupConfig:
        """A config from a config, a dict of its fields, or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.__dataclass_fields__))
            if unknown:
                raise ValueError(f"unknown WarmupConfig field(s) {unknown}")
            return cls(**value)
        raise TypeError(f"warm-up config must be a WarmupConfig, dict or None, got {type(value).__name__}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class WarmupReport:
    """What a warm-up did.

    Attributes:
        losses: the loss of every step (restarted runs appended).
        vaa_star: per step, the VAA* of every layer (``nan`` for a layer that
            was not trained in that step, as in a restart of other layers).
        horizons: per step, the number of perturbation steps ``M`` drawn.
        restarts: how many restarts happened.
        restarted_layers: the layers re-initialised at each restart.
        final_vaa_star: VAA* per layer at ``M = max_steps`` after warm-up.
        seconds: wall time.
    """

    losses: list[float] = field(default_factory=list)
    vaa_star: list[list[float]] = field(default_factory=list)
    horizons: list[int] = field(default_factory=list)
    restarts: int = 0
    restarted_layers: list[list[int]] = field(default_factory=list)
    final_vaa_star: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.losses)


StepCallback = Callable[[int, float, list[float]], None]
"""Called after every step with ``(step, loss, vaa_star per layer)``."""


class _NonFiniteLoss(Exception):
    def __init__(self, step: int, layers: list[int]):
        super().__init__(step, layers)
        self.step, self.layers = step, layers


def warm_up(
    net: RecurrentNet,
    sequences: SequenceSet,
    config: WarmupConfig | dict | None = None,
    callback: StepCallback | None = None,
) -> WarmupReport:
    """Warms a network up in place.

    Args:
        net: the network; with ``double=True`` only its warm halves change.
        sequences: the data the network will see: a list of
            ``(len_i, input_size)`` tensors, or ``(padded, lengths)``.
        config: a :class:`WarmupConfig`, a dict of its fields, or None (defaults).
        callback: called after every step with ``(step, loss, vaa_star)``.

    Returns:
        A :class:`WarmupReport`.

    Raises:
        RuntimeError: the loss stayed non-finite after all restarts.

    Shape:
        sequences: ``(len_i, input_size)`` each, or ``(T, N, input_size)`` + ``(N,)``.
    """
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a warm_rl.RecurrentNet, got {type(net).__name__}")
    config = WarmupConfig.from_value(config)
    device = next(net.parameters()).device
    padded, lengths = as_padded(sequences, net.input_size, device)
    generator = torch.Generator()
    # seed None: drawn from the global RNG, which stays seeded (torch.seed() would reseed it at random)
    seed = config.seed if config.seed is not None else int(torch.randint(2**62, (1,)).item())
    generator.manual_seed(seed)
    report = WarmupReport()
    start = time.perf_counter()
    active = list(range(net.num_layers))
    was_training = net.training
    net.train()
    try:
        while True:
            try:
                _run(net, padded, lengths, config, active, generator, report, callback)
            except _NonFiniteLoss as failure:
                if report.restarts >= config.restarts:
                    raise RuntimeError(
                        f"warm-up loss became non-finite at step {failure.step} "
                        f"(layers {failure.layers}) and stayed so after {report.restarts} "
                        "restart(s); try a smaller lr or max_steps"
                    ) from None
                active = failure.layers
            else:
                final = _final_vaa_star(net, padded, lengths, config, generator)
                report.final_vaa_star = final
                stuck = [i for i, value in enumerate(final) if value > STUCK_THRESHOLD]
                if not stuck:
                    break
                if report.restarts >= config.restarts:
                    warnings.warn(
                        f"layer(s) {stuck} still have VAA* > {STUCK_THRESHOLD} after "
                        f"{report.restarts} restart(s); they may be stuck",
                        stacklevel=2,
                    )
                    break
                active = stuck
            for index in active:
                net.layers[index].warm_module.reset_parameters()
            report.restarts += 1
            report.restarted_layers.append(list(active))
    finally:
        net.train(was_training)
        report.seconds = time.perf_counter() - start
    return report


def _run(
    net: RecurrentNet,
    padded: Tensor,
    lengths: Tensor,
    config: WarmupConfig,
    active: list[int],
    generator: torch.Generator,
    report: WarmupReport,
    callback: StepCallback | None,
) -> None:
    """One warm-up run of ``config.steps`` steps on the ``active`` layers."""
    warm_params = net.warm_parameters()
    params = [p for i in active for p in warm_params[i]]
    optimizer = torch.optim.Adam(params, lr=config.lr)
    count = padded.shape[1]
    batch = min(config.batch_size, count)
    progress = _progress_bar(config, len(active))
    for step in range(config.steps):
        horizon_cap = min(1 + step * config.increment, config.max_steps)
        horizon = int(torch.randint(1, horizon_cap + 1, (1,), generator=generator))
        index = torch.randperm(count, generator=generator)[:batch].to(padded.device)
        batch_lengths = lengths[index]
        batch_seqs = padded[: int(batch_lengths.max()), index]
        values = vaa_star_padded(
            net, batch_seqs, batch_lengths, horizon, config.eps, generator, active
        )
        loss = (values - config.target).pow(2).mean()
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise _NonFiniteLoss(len(report.losses), active)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if not all(bool(torch.isfinite(p.grad).all()) for p in params if p.grad is not None):
            raise _NonFiniteLoss(len(report.losses), active)
        optimizer.step()
        per_layer = [math.nan] * net.num_layers
        for i, value in zip(active, values.detach().tolist(), strict=True):
            per_layer[i] = value
        report.losses.append(loss_value)
        report.vaa_star.append(per_layer)
        report.horizons.append(horizon)
        if callback is not None:
            callback(len(report.losses) - 1, loss_value, per_layer)
        if progress is not None:
            progress.set_postfix(loss=f"{loss_value:.4f}", M=horizon)
            progress.update(1)
    if progress is not None:
        progress.close()


def _final_vaa_star(
    net: RecurrentNet, padded: Tensor, lengths: Tensor, config: WarmupConfig, generator
) -> list[float]:
    """VAA* per layer at ``M = max_steps`` on a fresh batch (no gradient)."""
    count = padded.shape[1]
    index = torch.randperm(count, generator=generator)[: min(config.batch_size, count)]
    index = index.to(padded.device)
    batch_lengths = lengths[index]
    with torch.no_grad():
        values = vaa_star_padded(
            net, padded[: int(batch_lengths.max()), index], batch_lengths,
            config.max_steps, config.eps, generator,
        )
    return [float(v) for v in values]


def _progress_bar(config: WarmupConfig, active_layers: int):
    if not config.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.steps, desc=f"warm-up ({active_layers} layer(s))", leave=False)

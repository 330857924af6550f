"""Keeping multistability during training: VAA* as a regulariser.

Warm-up creates attractors; training may destroy them (on copy T=300 a DLWU LSTM went
from VAA 1.0 to 0.02 in its first epoch). The warm-up paper names the remedy as future
work: VAA* in the training loss. :class:`VAARegularizer` is that term,

    lambda * mean_l (VAA*_l - k)^2,

per layer (the warm halves only, for double layers), on the batch's own input sequences,
evaluated every ``every`` updates so that its cost stays a small fraction of training.
With ``floor=True`` it is one-sided, ``lambda * mean_l max(0, k - VAA*_l)^2``: a layer at
or above ``k`` costs nothing and is left alone, so the term acts only on a network that is
losing its attractors (the two-sided term also pulls a layer *down* to ``k`` when warm-up
left it above).

    regularizer = VAARegularizer(weight=0.1)
    for update, (x, lengths) in enumerate(batches):
        loss = task_loss(model(x), y)
        extra = regularizer.term(model.rnn, x, lengths, update)
        if extra is not None:
            loss = loss + extra
        loss.backward()
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from warm_rl.network import RecurrentNet
from warm_rl.vaa import vaa_star_padded
from warm_rl.validation import check_bool, check_int, check_number


@dataclass
class VAARegularizer:
    """The VAA* regulariser ``weight * mean_l (VAA*_l - target)^2`` (or its one-sided ``floor``).

    Attributes:
        weight: ``lambda`` (> 0).
        target: ``k``, the VAA* aimed at (warm-up's 0.95 by default).
        every: updates between two evaluations (the term is None in between);
            1 evaluates it at every update.
        horizon: ``M``, perturbation steps of VAA* (a fixed one, not warm-up's curriculum).
        eps: distance scale of VAA* (warm-up's default).
        max_sequences: at most this many of the batch's sequences are used (its first
            ones), which bounds the cost.
        seed: seed of the cuts and perturbations (None: random).
        floor: True: penalise only the layers below ``target``,
            ``weight * mean_l max(0, target - VAA*_l)^2``; when none is below, the term is
            a zero without gradient (callers skip their optimiser step on it). Without a
            ``seed`` it draws from a fork of the global RNG, which it leaves as it found it,
            so that training with an idle floor is exactly training without it.
    """

    weight: float
    target: float = 0.95
    every: int = 10
    horizon: int = 100
    eps: float = 1e-4
    max_sequences: int = 32
    seed: int | None = None
    floor: bool = False

    def __post_init__(self) -> None:
        check_number("VAARegularizer.weight", self.weight, minimum=0.0, strict_minimum=True)
        check_number("VAARegularizer.target", self.target, minimum=0.0, maximum=1.0, strict_minimum=True)
        check_number("VAARegularizer.eps", self.eps, minimum=0.0, strict_minimum=True)
        for name in ("every", "horizon", "max_sequences"):
            check_int(f"VAARegularizer.{name}", getattr(self, name), minimum=1)
        if self.seed is not None:
            check_int("VAARegularizer.seed", self.seed)
        self.floor = check_bool("VAARegularizer.floor", self.floor)
        self._generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        self.last_values: Tensor | None = None
        self.log: list[tuple[int, float, float]] = []
        self.seconds = 0.0
        self._summarised = 0

    @classmethod
    def from_value(cls, value: VAARegularizer | dict | float | None) -> VAARegularizer | None:
        """A regulariser from itself, a dict of its fields, a bare ``weight``, or None (no regulariser).

        Raises:
            TypeError: any other type (named in the message).
        """
        if value is None or isinstance(value, VAARegularizer):
            return value
        if isinstance(value, dict):
            return cls(**value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(weight=float(value))
        raise TypeError(f"vaa_reg must be a VAARegularizer, a dict of its fields, a weight or None, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def due(self, update: int) -> bool:
        """Whether the term is evaluated at this update (every ``every``-th, starting with 0)."""
        return update % self.every == 0

    def term(self, net: RecurrentNet, inputs: Tensor, lengths: Tensor | None, update: int) -> Tensor | None:
        """The regularisation term at ``update``, or None when it is not due.

        Args:
            net: the recurrent network being trained.
            inputs: the batch's input sequences, time first.
            lengths: their lengths (None: all ``T`` long).
            update: the index of the training update (counted by the caller).

        Returns:
            A differentiable scalar, or None. The per-layer VAA* values are kept in
            :attr:`last_values` (detached) for logging. With ``floor`` and no layer below
            ``target`` the scalar is a zero that does not require grad.

        Shape:
            inputs ``(T, B, input_size)``; lengths ``(B,)``.
        """
        if not self.due(update):
            return None
        if inputs.dim() != 3 or inputs.shape[-1] != net.input_size:
            raise ValueError(f"inputs must be (T, B, {net.input_size}), got shape {tuple(inputs.shape)}")
        start = time.perf_counter()
        count = min(self.max_sequences, inputs.shape[1])
        if lengths is None:
            lengths = torch.full((count,), inputs.shape[0], dtype=torch.long, device=inputs.device)
        fork = self.floor and self._generator is None
        devices = [inputs.device] if inputs.device.type != "cpu" else []
        with torch.random.fork_rng(devices=devices, enabled=fork, device_type=inputs.device.type):
            values = vaa_star_padded(net, inputs[:, :count], lengths[:count], self.horizon, self.eps, self._generator)
        distance = (self.target - values).clamp(min=0.0) if self.floor else values - self.target
        term = self.weight * distance.pow(2).mean()
        if self.floor and not bool((values < self.target).any()):
            term = term.detach()  # nothing to pull up: no gradient, no optimiser step
        self.last_values = values.detach()
        self.log.append((update, float(term.detach()), float(self.last_values.mean())))
        self.seconds += time.perf_counter() - start
        return term

    def summary(self) -> dict[str, float]:
        """Means over the evaluations since the previous summary: ``vaa_reg_loss`` (the term),
        ``vaa_reg_vaa_star`` (mean VAA* over layers), and ``vaa_reg_seconds`` (forward time of
        the term since the start, a lower bound of its cost: its backward adds to the
        training step's)."""
        window = self.log[self._summarised:]
        self._summarised = len(self.log)
        if not window:
            return {"vaa_reg_loss": math.nan, "vaa_reg_vaa_star": math.nan, "vaa_reg_seconds": self.seconds}
        return {
            "vaa_reg_loss": sum(term for _, term, _ in window) / len(window),
            "vaa_reg_vaa_star": sum(value for _, _, value in window) / len(window),
            "vaa_reg_seconds": self.seconds,
        }

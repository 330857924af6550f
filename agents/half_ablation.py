"""What the policy head reads of a double layer: evaluate with one half held at its mean.

A trained agent with a double-layer actor backbone (warm half, cold half) is evaluated
three times on the same episodes: intact, with the warm half's output replaced by its
mean over an intact evaluation, and with the cold half's replaced. The return lost when a
half is held still is what the head takes from that half's dynamics (the mean keeps the
head's input in range, unlike zeros). The recurrent state itself runs untouched, so only
the reading changes. Also reported: the exact VAA of the trained actor backbone on the
intact evaluation's episodes (did the network stay multistable through training?).

``scripts/half_ablation.py`` prints the table for saved models.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from agents.evaluation import evaluate
from agents.policies import WarmRecurrentPolicy
from warm_rl.double_layer import DoubleLayer
from warm_rl.vaa import vaa

HALVES = ("warm", "cold")


def _last_double_layer(policy: WarmRecurrentPolicy) -> DoubleLayer:
    layer = policy.lstm_actor.layers[-1]
    if not isinstance(layer, DoubleLayer):
        raise ValueError(f"the actor's last layer is a {type(layer).__name__}, not a DoubleLayer: "
                         "half ablation needs double=True")
    return layer


def half_slice(policy: WarmRecurrentPolicy, half: str) -> slice:
    """The output units of ``half`` (``"warm"`` or ``"cold"``) of the actor's last double layer."""
    if half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}, got {half!r}")
    layer = _last_double_layer(policy)
    width = layer.hidden_size // 2
    return slice(0, width) if half == "warm" else slice(width, 2 * width)


@contextmanager
def recorded_outputs(policy: WarmRecurrentPolicy) -> Iterator[list[th.Tensor]]:
    """Collects every actor backbone output ``(T, N, hidden)`` (flattened to ``(T*N, hidden)``) while open."""
    outputs: list[th.Tensor] = []

    def hook(module, args, result):
        outputs.append(result[0].detach().reshape(-1, result[0].shape[-1]).clone())

    handle = policy.lstm_actor.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove()


@contextmanager
def held_half(policy: WarmRecurrentPolicy, half: str, value: th.Tensor) -> Iterator[None]:
    """While open, the actor backbone's output units of ``half`` read ``value`` (shape ``(hidden / 2,)``)."""
    units = half_slice(policy, half)
    if value.shape != (units.stop - units.start,):
        raise ValueError(f"value must have shape ({units.stop - units.start},), got {tuple(value.shape)}")

    def hook(module, args, result):
        output, state = result
        output = output.clone()
        output[..., units] = value.to(output)
        return output, state

    handle = policy.lstm_actor.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@dataclass
class HalfAblation:
    """Greedy mean returns of one agent, intact and with each half held at its mean.

    Attributes:
        intact: the agent as trained.
        warm_held: the warm half's output held at its mean.
        cold_held: the cold half's output held at its mean.
        vaa: exact VAA of the actor backbone on the intact evaluation's episodes.
        warm_std: mean over units of the warm half's output standard deviation.
        cold_std: the same for the cold half.
    """

    intact: float
    warm_held: float
    cold_held: float
    vaa: float | None
    warm_std: float
    cold_std: float


def _episodes_of(env: VecEnv, model, episodes: int) -> list[np.ndarray]:
    """Observation sequences of ``episodes`` greedy episodes (for VAA), played on ``env``."""
    observations, done_sequences = [[] for _ in range(env.num_envs)], []
    obs = env.reset()
    state, starts = None, np.ones(env.num_envs, dtype=bool)
    while len(done_sequences) < episodes:
        for index in range(env.num_envs):
            observations[index].append(obs[index])
        action, state = model.predict(obs, state=state, episode_start=starts, deterministic=True)
        obs, _, dones, _ = env.step(action)
        starts = dones
        for index in np.flatnonzero(dones):
            done_sequences.append(np.stack(observations[index]))
            observations[index] = []
    return done_sequences[:episodes]


def ablate_halves(model, env: VecEnv, episodes: int = 100, vaa_episodes: int = 32, vaa_horizon: int = 1000
                  ) -> HalfAblation:
    """Evaluates ``model`` intact and with each half of its actor's double layer held at its mean.

    Args:
        model: a trained ``WarmRecurrentPPO`` (or RecurrentPPO with a warm policy) whose actor
            backbone ends in a double layer.
        env: the evaluation VecEnv (reset before each evaluation by SB3's ``evaluate_policy``).
        episodes: evaluation episodes per condition.
        vaa_episodes: episodes whose observation sequences the VAA is measured on (0: no VAA).
        vaa_horizon: ``M`` of the VAA.

    Raises:
        ValueError: the actor is not a double layer.
    """
    policy = model.policy
    warm_units, cold_units = half_slice(policy, "warm"), half_slice(policy, "cold")
    with recorded_outputs(policy) as outputs:
        intact = evaluate(model, env, episodes).mean_return
    everything = th.cat(outputs)
    means = everything.mean(dim=0)
    stds = everything.std(dim=0)
    held = {}
    for half, units in (("warm", warm_units), ("cold", cold_units)):
        with held_half(policy, half, means[units]):
            held[half] = evaluate(model, env, episodes).mean_return
    measured = None
    if vaa_episodes:
        sequences = _episodes_of(env, model, vaa_episodes)
        with th.no_grad():
            features = policy.episode_features(sequences)["actor"]
        measured = vaa(policy.lstm_actor, features, horizon=vaa_horizon, seed=0)
    return HalfAblation(intact=intact, warm_held=held["warm"], cold_held=held["cold"], vaa=measured,
                        warm_std=float(stds[warm_units].mean()), cold_std=float(stds[cold_units].mean()))

"""Collecting rollout sequences, warming a model's backbones up, and measuring its VAA.

Shared by :class:`agents.WarmRecurrentPPO` and :class:`agents.WarmupCallback`.
"""

from __future__ import annotations

import time

import numpy as np
import torch as th
from sb3_contrib import RecurrentPPO

from agents.defaults import DEFAULT_VAA_STEPS
from agents.policies import Observation, WarmRecurrentPolicy
from warm_rl import vaa


def _check_policy(model: RecurrentPPO) -> WarmRecurrentPolicy:
    if not isinstance(model.policy, WarmRecurrentPolicy):
        raise TypeError(
            f"warm-up needs a WarmRecurrentPolicy, got {type(model.policy).__name__}; "
            "use MlpWarmPolicy / CnnWarmPolicy / MultiInputWarmPolicy"
        )
    return model.policy


def split_trajectories(observations: Observation, episode_starts: np.ndarray) -> list[Observation]:
    """Cuts ``(T, n_envs, ...)`` observations into per-env trajectories at episode starts.

    Args:
        observations: array ``(T, n_envs, *obs_shape)`` or a dict of such arrays.
        episode_starts: ``(T, n_envs)``, true where a step begins a new episode.

    Returns:
        Trajectories ``(len_i, *obs_shape)`` (dicts for Dict observations),
        whole episodes and the truncated pieces at both ends.
    """
    starts = np.asarray(episode_starts, dtype=bool).copy()
    steps, n_envs = starts.shape
    starts[0] = True
    pieces = []
    for env in range(n_envs):
        cuts = np.flatnonzero(starts[:, env]).tolist() + [steps]
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            if isinstance(observations, dict):
                pieces.append({k: v[begin:end, env] for k, v in observations.items()})
            else:
                pieces.append(observations[begin:end, env])
    return pieces


def collect_sequences(model: RecurrentPPO, n_steps: int) -> list[Observation]:
    """Runs the model's current (initial) policy in its env and records observations.

    The env is reset before and after, and ``model._last_obs`` is restored to a
    fresh reset so that training starts from clean episodes.

    Args:
        model: a RecurrentPPO whose policy is a WarmRecurrentPolicy.
        n_steps: env steps to collect in total (over all envs).

    Returns:
        Observation trajectories (see :func:`split_trajectories`).
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    env = model.get_env()
    if env is None:
        raise ValueError("the model has no env to collect warm-up sequences from")
    policy = _check_policy(model)
    per_env = max(1, -(-n_steps // env.num_envs))
    obs = env.reset()
    starts = np.ones(env.num_envs, dtype=bool)
    state = None
    recorded, recorded_starts = [], []
    for _ in range(per_env):
        recorded.append(obs)
        recorded_starts.append(starts)
        actions, state = policy.predict(obs, state, starts, deterministic=False)
        obs, _, dones, _ = env.step(actions)
        starts = dones
    model._last_obs = env.reset()
    model._last_episode_starts = np.ones(env.num_envs, dtype=bool)
    if isinstance(recorded[0], dict):
        stacked = {key: np.stack([o[key] for o in recorded]) for key in recorded[0]}
    else:
        stacked = np.stack(recorded)
    return split_trajectories(stacked, np.stack(recorded_starts))


def warm_up_model(model: RecurrentPPO, n_steps: int, vaa_steps: int = DEFAULT_VAA_STEPS) -> dict:
    """Collects ``n_steps`` of rollouts, warms the backbones up, logs under ``warmup/``.

    Logged (SB3 logger): per warm-up step ``warmup/loss_<net>`` and
    ``warmup/vaa_star_<net>_<layer>``; then ``warmup/seconds``,
    ``warmup/restarts``, ``warmup/vaa_before`` and ``warmup/vaa_after`` (exact
    VAA of the actor on the collected sequences, over ``vaa_steps`` steps).

    Returns:
        The reports by backbone name, plus ``"vaa_before"``/``"vaa_after"``.
    """
    policy = _check_policy(model)
    start = time.perf_counter()
    episodes = collect_sequences(model, n_steps)
    features = policy.episode_features(episodes)["actor"]
    before = vaa(policy.lstm_actor, features, horizon=vaa_steps, seed=0)
    logger = model.logger

    def log_step(name: str, step: int, loss: float, values: list[float]) -> None:
        logger.record(f"warmup/loss_{name}", loss)
        for layer, value in enumerate(values):
            logger.record(f"warmup/vaa_star_{name}_{layer}", value)
        logger.dump(step)

    reports = policy.warm_up(episodes, callback=log_step)
    after = vaa(policy.lstm_actor, policy.episode_features(episodes)["actor"], horizon=vaa_steps, seed=0)
    logger.record("warmup/seconds", time.perf_counter() - start)
    logger.record("warmup/restarts", sum(r.restarts for r in reports.values()))
    logger.record("warmup/vaa_before", before)
    logger.record("warmup/vaa_after", after)
    logger.record("warmup/episodes", len(episodes))
    logger.dump(model.num_timesteps)
    return {**reports, "vaa_before": before, "vaa_after": after}


def rollout_vaa(model: RecurrentPPO, steps: int) -> float:
    """Exact VAA of the actor backbone on the trajectories of the last rollout.

    Reads ``model.rollout_buffer`` before it is flattened for training
    (observations ``(n_steps, n_envs, ...)``).
    """
    policy = _check_policy(model)
    buffer = model.rollout_buffer
    episodes = split_trajectories(buffer.observations, buffer.episode_starts)
    with th.no_grad():
        features = policy.episode_features(episodes)["actor"]
    return vaa(policy.lstm_actor, features, horizon=steps, seed=0)

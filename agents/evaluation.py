"""Greedy evaluation of a recurrent agent: success rate and mean return."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes:
        episodes: episodes played.
        mean_return: mean undiscounted return.
        success_rate: fraction of episodes whose last ``info`` had
            ``is_success`` true (None if the env never reports it).
    """

    episodes: int
    mean_return: float
    success_rate: float | None


def evaluate(model: BaseAlgorithm, env: VecEnv, episodes: int = 100, deterministic: bool = True) -> Evaluation:
    """Plays ``episodes`` episodes with the model's greedy policy, recurrent state carried.

    Args:
        model: a trained (recurrent) SB3 model.
        env: a VecEnv to play in (reset here).
        episodes: number of episodes to finish.
        deterministic: greedy actions.

    Returns:
        An :class:`Evaluation`.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    obs = env.reset()
    state = None
    starts = np.ones(env.num_envs, dtype=bool)
    running = np.zeros(env.num_envs)
    returns: list[float] = []
    successes: list[bool] = []
    while len(returns) < episodes:
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=deterministic)
        obs, rewards, dones, infos = env.step(actions)
        running += rewards
        for index in np.flatnonzero(dones):
            returns.append(float(running[index]))
            running[index] = 0.0
            if "is_success" in infos[index]:
                successes.append(bool(infos[index]["is_success"]))
        starts = dones
    returns, successes = returns[:episodes], successes[:episodes]
    rate = float(np.mean(successes)) if successes else None
    return Evaluation(episodes=len(returns), mean_return=float(np.mean(returns)), success_rate=rate)

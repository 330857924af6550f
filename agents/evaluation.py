"""Greedy evaluation of a recurrent agent, on SB3's ``evaluate_policy``: success rate, return, length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv

from warm_rl.validation import check_bool, check_int


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes:
        episodes: episodes played.
        mean_return: mean undiscounted return (SB3's ``eval/mean_reward``).
        success_rate: fraction of episodes whose last ``info`` had
            ``is_success`` true (None if the env never reports it).
        mean_length: mean episode length (SB3's ``eval/mean_ep_length``).
    """

    episodes: int
    mean_return: float
    success_rate: float | None
    mean_length: float | None = None


class SuccessTracker:
    """An ``evaluate_policy`` callback that keeps the ``is_success`` of every finished episode.

    SB3's ``evaluate_policy`` calls it once per env and step, only for envs that still
    owe episodes, so :attr:`successes` holds exactly the evaluated episodes' outcomes.
    """

    def __init__(self) -> None:
        self.successes: list[bool] = []

    def __call__(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        if locals_["done"] and "is_success" in locals_["info"]:
            self.successes.append(bool(locals_["info"]["is_success"]))

    @property
    def rate(self) -> float | None:
        """The success rate, None if no episode reported ``is_success``."""
        return float(np.mean(self.successes)) if self.successes else None


def evaluate(model: BaseAlgorithm, env: VecEnv, episodes: int = 100, deterministic: bool = True) -> Evaluation:
    """Plays ``episodes`` episodes with SB3's ``evaluate_policy`` (recurrent state carried).

    The episodes are spread evenly over the envs (SB3's rule, so that short episodes
    are not over-counted).

    Args:
        model: a trained (recurrent) SB3 model.
        env: a VecEnv to play in (reset here).
        episodes: number of episodes to finish.
        deterministic: greedy actions.

    Returns:
        An :class:`Evaluation`.

    Raises:
        ValueError: ``episodes < 1``.
    """
    check_int("episodes", episodes, minimum=1)
    check_bool("deterministic", deterministic)
    tracker = SuccessTracker()
    returns, lengths = evaluate_policy(
        model, env, n_eval_episodes=episodes, deterministic=deterministic, return_episode_rewards=True,
        callback=tracker, warn=False,
    )
    return Evaluation(
        episodes=len(returns), mean_return=float(np.mean(returns)), success_rate=tracker.rate,
        mean_length=float(np.mean(lengths)),
    )

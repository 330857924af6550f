"""Env wrappers for recurrent agents."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class PreviousActionReward(gym.Wrapper):
    """Appends the previous action and reward to a flat Box observation.

    As in the recurrent Q-learning agents of the warm-up paper, the recurrent
    backbone then sees what it did and what it got. The observation becomes
    ``[obs, one_hot(prev_action) | prev_action, prev_reward]`` (zeros after a reset).

    Args:
        env: an env with a 1-D ``Box`` observation space and a ``Discrete`` or
            1-D ``Box`` action space.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        obs_space = env.observation_space
        if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
            raise TypeError(f"PreviousActionReward needs a 1-D Box observation space, got {obs_space}")
        act_space = env.action_space
        if isinstance(act_space, spaces.Discrete):
            self._action_size = int(act_space.n)
            low_a, high_a = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(act_space, spaces.Box) and len(act_space.shape) == 1:
            self._action_size = int(act_space.shape[0])
            low_a, high_a = act_space.low, act_space.high
        else:
            raise TypeError(f"PreviousActionReward needs a Discrete or 1-D Box action space, got {act_space}")
        self._obs_size = int(obs_space.shape[0])
        self.observation_space = spaces.Box(
            low=np.concatenate([obs_space.low, low_a, [-np.inf]]).astype(np.float32),
            high=np.concatenate([obs_space.high, high_a, [np.inf]]).astype(np.float32),
            dtype=np.float32,
        )

    def _augment(self, obs: np.ndarray, action: Any, reward: float) -> np.ndarray:
        out = np.zeros(self.observation_space.shape, dtype=np.float32)
        out[: self._obs_size] = obs
        if action is not None:
            if isinstance(self.env.action_space, spaces.Discrete):
                out[self._obs_size + int(action)] = 1.0
            else:
                out[self._obs_size : self._obs_size + self._action_size] = action
        out[-1] = reward
        return out

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self._augment(obs, None, 0.0), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._augment(obs, action, float(reward)), reward, terminated, truncated, info


class TruncationAsTermination(gym.Wrapper):
    """Reports an episode cut by its time limit as terminated, so PPO does not bootstrap past it.

    SB3 treats truncation as a time limit outside the task: it adds
    ``gamma * V(last observation)`` to the last reward. When the horizon is part of
    the task - the T-maze ends after ``3L - 1`` steps whatever the agent does - that
    bootstrap pays a wandering agent about what reaching the goal pays, because a
    recurrent critic cannot tell from its observations how far it got. (On the
    T-maze L=50 this did not measurably change how often PPO's exploration
    collapses: ``results/tmaze_exploration_collapse/README.md``.)

    The step that hits the limit keeps ``info["horizon_reached"] = True``.
    """

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated:
            info = {**info, "horizon_reached": True}
            return obs, reward, True, False, info
        return obs, reward, terminated, truncated, info

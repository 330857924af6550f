"""Throughput of the memory tasks: steps per second, single env and vectorised.

Used by ``scripts/speed_envs.py``; kept here so it can be imported and tested.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

MODES = ("raw", "make", "sync")
"""``raw``: the env class alone; ``make``: ``gym.make`` with its default wrappers (order
enforcing, passive env checker); ``sync``: a ``SyncVectorEnv`` of ``gym.make`` envs."""


def _actions(space: gym.Space, n: int, seed: int) -> np.ndarray:
    """Draw ``n`` actions ahead of time (shape ``(n, *space.shape)``), so sampling is not timed."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gym.spaces.Discrete):
        return space.start + rng.integers(space.n, size=n)
    if isinstance(space, gym.spaces.Box):
        return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)
    raise TypeError(f"unsupported action space {space}")


def steps_per_second(
    env_id: str,
    mode: str = "raw",
    n_steps: int = 100_000,
    num_envs: int = 8,
    seed: int = 0,
    **kwargs: Any,
) -> float:
    """Measure how many environment steps per second an env runs under random actions.

    Episodes are reset when they end (resets are part of the timed loop). Actions are drawn
    before timing starts.

    Args:
        env_id: A registered id, e.g. ``"warm_rl/TMaze-v0"``.
        mode: One of ``MODES``.
        n_steps: Number of timed calls to ``step`` (for ``sync``: of the vector env).
        num_envs: Number of sub-envs for ``mode="sync"``.
        seed: Seed of the envs and of the actions.
        **kwargs: Passed to ``gym.make`` (the task's arguments).

    Returns:
        Environment steps per second (for ``sync``: summed over the sub-envs).

    Raises:
        ValueError: If ``mode`` is unknown or ``n_steps`` / ``num_envs`` is below 1.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps}")
    if num_envs < 1:
        raise ValueError(f"num_envs must be an integer >= 1, got {num_envs}")

    if mode == "sync":
        venv = gym.vector.SyncVectorEnv([lambda: gym.make(env_id, **kwargs)] * num_envs)
        space = venv.single_action_space
        flat = _actions(space, n_steps * num_envs, seed)
        batches = flat.reshape(n_steps, num_envs, *space.shape)
        venv.reset(seed=seed)
        start = time.perf_counter()
        for batch in batches:
            venv.step(batch)
        elapsed = time.perf_counter() - start
        venv.close()
        return n_steps * num_envs / elapsed

    env = gym.make(env_id, **kwargs)
    if mode == "raw":
        env = env.unwrapped
    actions = _actions(env.action_space, n_steps, seed)
    actions = actions.tolist() if actions.ndim == 1 else list(actions)  # ints, or (1,) arrays
    step, reset = env.step, env.reset
    reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    elapsed = time.perf_counter() - start
    env.close()
    return n_steps / elapsed


def benchmark_table(
    env_ids: Sequence[str], n_steps: int = 100_000, num_envs: int = 8, seed: int = 0
) -> str:
    """Measure every mode for every id and return a Markdown table in thousands of steps/s.

    Args:
        env_ids: Registered ids, each with its default arguments.
        n_steps: Timed steps per measurement (vector steps for the vector env).
        num_envs: Number of sub-envs of the vector env.
        seed: Seed of the envs and of the actions.

    Returns:
        The table, one row per id.
    """
    lines = [
        f"| env id | raw env | gym.make | SyncVectorEnv({num_envs}) |",
        "|---|---:|---:|---:|",
    ]
    for env_id in env_ids:
        rates = [
            steps_per_second(env_id, mode, n_steps=n_steps, num_envs=num_envs, seed=seed)
            for mode in MODES
        ]
        lines.append(f"| `{env_id}` | " + " | ".join(f"{r / 1e3:.0f}k" for r in rates) + " |")
    return "\n".join(lines)

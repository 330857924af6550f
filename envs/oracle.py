"""The oracle policy used by tests to prove that each task's best return is reachable."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from envs._episode import MemoryTask


def oracle_action(env: gym.Env) -> Any:
    """Return the best action in the current state of one of the ``envs`` tasks.

    The oracle may cheat: it reads the hidden state (the goal side, the cue to recall). Followed
    from ``reset`` to the end of an episode it reaches the task's ``max_return`` (for the T-maze,
    when ``stochasticity`` is 0).

    Args:
        env: A task of this package, wrapped or not (``env.unwrapped`` is used).

    Returns:
        An action of ``env.action_space``.

    Raises:
        TypeError: If the env has no oracle (it is not one of the ``envs`` tasks).
        RuntimeError: If the env was never ``reset()`` (there is no episode to act in yet).
    """
    base = env.unwrapped
    optimal_action = getattr(base, "optimal_action", None)
    if optimal_action is None:
        raise TypeError(f"no oracle for {type(base).__name__}: it has no optimal_action() method")
    if isinstance(base, MemoryTask):
        base._check_started("oracle_action()")
    return optimal_action()

"""Memory tasks with sparse, delayed rewards, as gymnasium environments.

Importing this package registers every task under the ``warm_rl`` namespace::

    import gymnasium as gym
    import envs  # registers warm_rl/TMaze-v0, ...

    env = gym.make("warm_rl/TMaze-v0", length=20)

or, without importing it first, ``gym.make("envs:warm_rl/TMaze-v0")`` (gymnasium imports the
module named before the colon). Difficulty is set by keyword arguments, see each class.
Only gymnasium and numpy are used.
"""

from __future__ import annotations

import gymnasium as gym

from envs.copy_first import CopyFirst
from envs.copy_first_continuous import CopyFirstContinuous
from envs.cue_recall import CueRecall
from envs.delayed_match import DelayedMatch
from envs.oracle import oracle_action
from envs.tmaze import TMaze

__all__ = [
    "ALL_ENV_IDS",
    "CopyFirst",
    "CopyFirstContinuous",
    "CueRecall",
    "DelayedMatch",
    "TMaze",
    "oracle_action",
]

_ENTRY_POINTS = {
    "warm_rl/TMaze-v0": "envs.tmaze:TMaze",
    "warm_rl/CopyFirst-v0": "envs.copy_first:CopyFirst",
    "warm_rl/DelayedMatch-v0": "envs.delayed_match:DelayedMatch",
    "warm_rl/CueRecall-v0": "envs.cue_recall:CueRecall",
    "warm_rl/CopyFirstContinuous-v0": "envs.copy_first_continuous:CopyFirstContinuous",
}

ALL_ENV_IDS: tuple[str, ...] = tuple(_ENTRY_POINTS)
"""Ids of every registered task."""

# Episode lengths depend on the kwargs, so each env ends its own episodes: no max_episode_steps.
for _env_id, _entry_point in _ENTRY_POINTS.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point=_entry_point)

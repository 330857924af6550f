"""Memory tasks with sparse, delayed or hidden-state rewards, as gymnasium environments.

Importing this package registers every task under the ``warm_rl`` namespace::

    import gymnasium as gym
    import envs  # registers warm_rl/TMaze-v0, ...

    env = gym.make("warm_rl/TMaze-v0", length=20)

or, without importing it first, ``gym.make("envs:warm_rl/TMaze-v0")`` (gymnasium imports the
module named before the colon). Difficulty is set by keyword arguments, see each class, or
by a named variant (:mod:`envs.variants`): ``warm_rl/TMaze-L50-v0``,
``warm_rl/CopyFirst-Hard-v0``, ... (``ALL_ENV_IDS`` lists them all; so does
``gymnasium.pprint_registry()``). Only gymnasium and numpy are used.

The tasks, by the kind of memory they test:

- ``warm_rl/TMaze-v0`` (:class:`TMaze`): one bit carried along a corridor.
- ``warm_rl/CopyFirst-v0`` (:class:`CopyFirst`): one symbol held through distractors.
- ``warm_rl/CopyFirstContinuous-v0`` (:class:`CopyFirstContinuous`): one real number, held
  precisely, with a continuous action.
- ``warm_rl/DelayedMatch-v0`` (:class:`DelayedMatch`): a symbol held, then compared with a new one.
- ``warm_rl/CueRecall-v0`` (:class:`CueRecall`): several marked items, recalled in order.
- ``warm_rl/RepeatPrevious-v0`` (:class:`RepeatPrevious`): a short, exact, sliding window of the
  last ``k`` symbols, scored at every step.
- ``warm_rl/CountEvents-v0`` (:class:`CountEvents`): a running count (saturating or modulo).
- ``warm_rl/KeyValueRecall-v0`` (:class:`KeyValueRecall`): key-value bindings, looked up by key.
- ``warm_rl/HiddenVelocityPendulum-v0`` (:class:`HiddenVelocityPendulum`): a hidden speed to
  infer from noisy angle readings, for continuous control (swing-up and balance).

:func:`oracle_action` gives, for every task, an action of a policy that reaches the best return
(for the pendulum, a good controller that reads the hidden state).
"""

from __future__ import annotations

import gymnasium as gym

from envs.copy_first import CopyFirst
from envs.copy_first_continuous import CopyFirstContinuous
from envs.count_events import CountEvents
from envs.cue_recall import CueRecall
from envs.delayed_match import DelayedMatch
from envs.hidden_velocity_pendulum import HiddenVelocityPendulum
from envs.key_value_recall import KeyValueRecall
from envs.oracle import oracle_action
from envs.repeat_previous import RepeatPrevious
from envs.tmaze import TMaze

__all__ = [
    "ALL_ENV_IDS",
    "TASK_IDS",
    "CopyFirst",
    "CopyFirstContinuous",
    "CountEvents",
    "CueRecall",
    "DelayedMatch",
    "HiddenVelocityPendulum",
    "KeyValueRecall",
    "RepeatPrevious",
    "TMaze",
    "oracle_action",
]

from envs.variants import TASK_ENTRY_POINTS, variant_specs  # noqa: E402

TASK_IDS: tuple[str, ...] = tuple(f"warm_rl/{task}-v0" for task in TASK_ENTRY_POINTS)
"""Ids of the tasks with their default kwargs."""

_SPECS: dict[str, tuple[str, dict]] = {
    **{f"warm_rl/{task}-v0": (entry, {}) for task, entry in TASK_ENTRY_POINTS.items()},
    **variant_specs(),
}

ALL_ENV_IDS: tuple[str, ...] = tuple(_SPECS)
"""Ids of every registered task and named variant."""

# Episode lengths depend on the kwargs, so each env ends its own episodes: no max_episode_steps.
for _env_id, (_entry_point, _kwargs) in _SPECS.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point=_entry_point, kwargs=dict(_kwargs))

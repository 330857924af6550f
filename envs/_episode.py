"""What every memory task does the same way: episode bookkeeping and render dispatch.

:class:`MemoryTask` keeps the step count ``_t``, whether the episode is over (``_done``) and the
last reward (``_last_reward``, ``None`` before the first step), refuses ``step()`` before the
first ``reset()`` and after the end, and routes ``render()`` to the subclass's ``_render_text``
or ``_render_rgb``. ``reset()`` is here too: it checks ``options`` against ``option_keys`` and a
subclass draws its episode in ``_new_episode``. The sequence tasks, whose episodes
all last ``horizon`` steps, end their steps with :meth:`MemoryTask._silent_step` (no reward) or
:meth:`MemoryTask._paid_step` (the tasks that pay at every step) and :meth:`MemoryTask._final_step`.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, TypeVar

import gymnasium as gym
import numpy as np

from envs import _render
from envs._validation import check_options

ActType = TypeVar("ActType")

StepResult = tuple[np.ndarray, float, bool, bool, dict[str, Any]]
"""What ``step()`` returns: observation, reward, terminated, truncated, info."""


class MemoryTask(gym.Env[np.ndarray, ActType], abc.ABC):
    """Base of the memory tasks: see the module docstring.

    Subclasses set ``render_mode``, ``horizon`` and ``max_return`` in ``__init__`` and implement
    ``_new_episode``, ``_render_text`` and ``_render_rgb``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    max_return: float

    option_keys: ClassVar[frozenset[str]] = frozenset()
    """The keys ``reset(options=...)`` accepts; a task that takes options overrides it."""

    _t: int = 0
    _done: bool = True
    _last_reward: float | None = None
    _started: bool = False  # whether reset() was ever called

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode: step 0, no reward yet, the task's hidden values drawn anew.

        Args:
            seed: Seed for ``self.np_random`` (``None`` keeps its stream going).
            options: ``None`` or a dict of task-specific keys (``option_keys``): the T-maze takes
                ``{"goal": 0 or 1}``, the pendulum ``{"angle": ..., "speed": ...}``; the other
                tasks take none (``{}`` is fine).

        Returns:
            The first observation and an empty info dict.

        Raises:
            TypeError: If ``options`` is neither ``None`` nor a dict.
            ValueError: If ``options`` has a key the task does not know (or a bad value).
        """
        options = check_options(options, self.option_keys)
        super().reset(seed=seed)
        first = self._new_episode(options)
        self._started = True
        self._t = 0
        self._done = False
        self._last_reward = None
        return first.copy(), {}

    @abc.abstractmethod
    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw what the episode hides (cues, delays, ...) and return its first observation."""

    def _check_running(self) -> None:
        """Call first in ``step()``.

        Raises:
            RuntimeError: The episode is over (or was never started) and needs ``reset()``.
        """
        if self._done:
            if not self._started:
                raise RuntimeError("step() called before reset(): call reset() first")
            raise RuntimeError("step() called on a finished episode: call reset() first")

    def _check_started(self, what: str) -> None:
        """Refuse ``what`` (e.g. ``"oracle_action()"``) before the first ``reset()``.

        Raises:
            RuntimeError: ``reset()`` was never called, so there is no state to act on.
        """
        if not self._started:
            raise RuntimeError(f"{what} called before reset(): call reset() first")

    def _silent_step(self, obs: np.ndarray) -> StepResult:
        """A step of a sequence task before its last: no reward, the episode goes on."""
        self._last_reward = 0.0
        return obs.copy(), 0.0, False, False, {}

    def _paid_step(self, obs: np.ndarray, reward: float) -> StepResult:
        """A step before the last of a task that pays as it goes: ``reward``, the episode goes on."""
        self._last_reward = reward
        return obs.copy(), reward, False, False, {}

    def _final_step(self, obs: np.ndarray, reward: float, info: dict[str, Any]) -> StepResult:
        """The last step of a sequence task: it pays ``reward`` and terminates the episode."""
        self._done = True
        self._last_reward = reward
        return obs.copy(), reward, True, False, info

    def _score(self) -> float | None:
        """The last reward as a fraction of ``max_return`` (``None`` before the first step)."""
        return None if self._last_reward is None else self._last_reward / self.max_return

    def _with_reward(self, line: str) -> str:
        """``line`` followed by the last reward, if any, and a newline (the ``"ansi"`` frames)."""
        if self._last_reward is not None:
            line += f", reward {self._last_reward:g}"
        return line + "\n"

    def render(self) -> str | np.ndarray | None:
        """Describe the current step as text (``"ansi"``) or draw the episode (``"rgb_array"``).

        Returns:
            A string for ``"ansi"``, a ``(height, width, 3)`` uint8 image for ``"rgb_array"``,
            ``None`` (with gymnasium's warning) when the env was made without a render mode.
        """
        if self.render_mode is None:
            _render.warn_no_render_mode()
            return None
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return self._render_text()

    @abc.abstractmethod
    def _render_text(self) -> str:
        """The ``"ansi"`` frame: one or more lines describing the current step."""

    @abc.abstractmethod
    def _render_rgb(self) -> np.ndarray:
        """The ``"rgb_array"`` frame, a ``(height, width, 3)`` uint8 image."""

"""Count the events of an episode and report the count at its last step: an accumulating memory.

Registered as ``warm_rl/CountEvents-v0``; see :class:`CountEvents`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_choice, check_int, check_real, check_render_mode, discrete_action

REPORTS = ("clip", "modulo")
"""Allowed values of the ``report`` argument."""

EVENT_CHANNEL, LAST_CHANNEL = 0, 1
"""Observation channels: the event flag and the last-step flag."""


class CountEvents(MemoryTask[int]):
    """
    ## Description

    An episode lasts `length` steps. At each step an event happens, independently, with
    probability `p`; the observation flags it. The last step is flagged too, and the action taken
    there must report how many events the episode showed (the last step's own event included).
    Nothing tells the agent where the events were, so it must keep a running count, adding one
    at each event, for the whole episode: an integrating memory rather than a stored item. The
    count is reported as one of `max_count + 1` classes, either saturating (`report="clip"`: the
    class is `min(count, max_count)`) or wrapping around (`report="modulo"`: `count mod
    (max_count + 1)`, a cyclic counter). The difficulty grows with `length` and `p` (more events,
    held longer) and with `max_count` (finer counts to tell apart).

    ```
    step 5/20: event, count 3 | answer 4 (count 4)
    ```

    ## Action Space

    The action is an `int` in `{0, ..., max_count}`: the class of the count, reported at the
    last step. Actions at every other step are ignored.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(2,)`:

    | Num | Observation      | Min | Max |
    |-----|------------------|-----|-----|
    | 0   | Event flag       | 0   | 1   |
    | 1   | Last-step flag   | 0   | 1   |

    The event flag is 1 at the steps with an event, the last-step flag is 1 at the last step
    only (which may show an event too). The observation returned with the end of the episode is
    all zeros.

    ## Rewards

    The reward of a step is one of `{0, 1}`: `1` if the action at the last step names the class
    of the count, `0` otherwise (and at every other step). The best return is `1`; a uniformly
    random policy gets `1 / (max_count + 1)` on average.

    ## Starting State

    The events of the `length` steps are drawn independently, each with probability `p`: the
    count follows a binomial law of mean `p * length`.

    ## Episode End

    Termination: after the action at the last step, i.e. after exactly `length` steps (the
    `horizon` attribute). There is no truncation. At the last step `info` holds `is_success`
    (`True` iff the class was right), `count` (the number of events) and `target` (its class).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/CountEvents-v0", length=50, p=0.1, max_count=9, report="modulo")

    ```

    | Parameter     | Type      | Default  | Description                                        |
    |---------------|-----------|----------|----------------------------------------------------|
    | `length`      | **int**   | `20`     | Number of steps (`>= 2`)                           |
    | `p`           | **float** | `0.2`    | Probability of an event at each step, in `(0, 1)`  |
    | `max_count`   | **int**   | `8`      | Largest class: `max_count + 1` actions (`>= 1`)    |
    | `report`      | **str**   | `"clip"` | `"clip"` or `"modulo"` (see Description)           |
    | `render_mode` | **str**   | `None`   | `"ansi"` or `"rgb_array"` (see Rendering)          |

    ## Rendering

    - `"ansi"`: the line of text above: the step, whether it shows an event, the count so far,
      the answer due at the end (with the full count) and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (length + 1) * 8, 3)`: a strip of 8-pixel
      cells, one column per step plus one. The top row shows the steps reached so far: events in
      white, other steps in grey; later steps are dark blue. The agent is a yellow square in the
      current step. The bottom row holds the hidden running count, as the class it would be
      reported in, in grey levels from dark (class 0) to light (class `max_count`): under the
      last step it is the answer due. Once the episode is over the agent moves to the last
      column, colored red (wrong answer) or green (right answer).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        length: int = 20,
        p: float = 0.2,
        max_count: int = 8,
        report: str = "clip",
        render_mode: str | None = None,
    ) -> None:
        self.length = check_int("length", length, 2)
        self.p = check_real("p", p, 0.0, 1.0, exclusive=True)
        self.max_count = check_int("max_count", max_count, 1)
        self.report = check_choice("report", report, REPORTS)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.length
        """Number of steps of every episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        self.observation_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.max_count + 1)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.length + 1, 2), dtype=np.float32)
        self._episode[self.length - 1, LAST_CHANNEL] = 1.0
        self._count = 0
        self._target = 0

    def count_class(self, count: int | np.ndarray) -> int | np.ndarray:
        """The class a count is reported in (``report`` decides how counts above ``max_count``
        are folded); works on arrays of counts too."""
        if self.report == "clip":
            return np.minimum(count, self.max_count)
        return count % (self.max_count + 1)

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the events of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation.
        """
        events = self.np_random.random(self.length) < self.p
        self._episode[: self.length, EVENT_CHANNEL] = events
        self._count = int(events.sum())
        self._target = int(self.count_class(self._count))
        return self._episode[0]

    def step(self, action: int) -> StepResult:
        """Advance one step; the action counts only at the last step."""
        self._check_running()
        a = discrete_action(action, self.max_count + 1)
        t = self._t = self._t + 1
        if t < self.horizon:
            return self._silent_step(self._episode[t])
        success = a == self._target
        info = {"is_success": success, "count": self._count, "target": self._target}
        return self._final_step(self._episode[t], 1.0 if success else 0.0, info)

    def optimal_action(self) -> int:
        """The oracle: the class of the count (reads the hidden events; any action is optimal
        before the last step)."""
        return self._target

    def _render_text(self) -> str:
        t = self._t
        if self._done:
            what = "done"
        else:
            so_far = int(self._episode[: t + 1, EVENT_CHANNEL].sum())
            event = "event" if self._episode[t, EVENT_CHANNEL] else "no event"
            last = "last step, " if t == self.length - 1 else ""
            what = f"{last}{event}, count {so_far}"
        line = f"step {t}/{self.horizon}: {what} | answer {self._target} (count {self._count})"
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        events = self._episode[: self.length, EVENT_CHANNEL]
        shown = np.where(events[:, None] > 0, np.array(_render.QUERY), np.array(_render.BLANK))
        running = self.count_class(np.cumsum(events).astype(np.int64))
        answers = _render.grey(2.0 * running / self.max_count - 1.0)
        return _render.strip(
            shown.astype(np.uint8), answers, self.length, self._t, self._done, self._score()
        )

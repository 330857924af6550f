"""Copy-first-input with a real-valued cue and a continuous action.

Registered as ``warm_rl/CopyFirstContinuous-v0``; see :class:`CopyFirstContinuous`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_render_mode, scalar_action

SUCCESS_TOLERANCE = 0.05
"""An episode counts as a success when the answer is within this distance of the cue."""


class CopyFirstContinuous(MemoryTask[np.ndarray]):
    """
    ## Description

    The closest reinforcement-learning analogue of the copy-first-input benchmark of the
    warm-up paper (Vecoven, Ernst and Drion, arXiv 2106.01001), where a network must output
    the first value of a random series. The first observation shows a cue, a real number drawn
    uniformly in `[-1, 1]`. Then come `delay` distractor steps showing, on the same channel,
    values from the same distribution, so nothing but its position tells the cue apart. At the
    final query step the action must reproduce the cue. Unlike `warm_rl/CopyFirst-v0` the
    memory must hold a real number precisely, and the agent has a continuous action. The
    difficulty grows with `delay`.

    ```
    step 4/12: distractor +0.31 | cue -0.42
    ```

    ## Action Space

    The action is a float32 `ndarray` of shape `(1,)` in `[-1, 1]` (values outside are clipped):
    the value recalled at the query. It is ignored at every other step.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(2,)`:

    | Num | Observation   | Min | Max |
    |-----|---------------|-----|-----|
    | 0   | Value         | -1  | 1   |
    | 1   | Query flag    | 0   | 1   |

    The first step shows the cue, distractor steps a fresh uniform value (query flag 0 for
    both); the query step shows value 0 and query flag 1.

    ## Rewards

    At the query the reward is `1 - |a - cue|` (in `[-1, 1]`) for the clipped action `a`; it is
    `0` at every other step. The best return is `1`; a random uniform policy gets `1/3` on average.

    ## Starting State

    The cue and the distractors are drawn uniformly in `[-1, 1]`.

    ## Episode End

    Termination: after the action at the query, i.e. after exactly `delay + 2` steps (the
    `horizon` attribute). There is no truncation. At the last step `info` holds `is_success`
    (`True` iff `|a - cue| <= 0.05`) and `target` (the cue).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/CopyFirstContinuous-v0", delay=50)

    ```

    | Parameter     | Type    | Default | Description                                    |
    |---------------|---------|---------|------------------------------------------------|
    | `delay`       | **int** | `10`    | Number of distractor steps (`>= 0`)            |
    | `render_mode` | **str** | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)      |

    ## Rendering

    - `"ansi"`: the line of text above: the step, what it shows, the cue and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (delay + 3) * 8, 3)`: a strip of 8-pixel
      cells, one column per step plus one. The top row shows what the steps reached so far
      showed: values in grey (dark for -1, light for +1), the query in white; later steps are
      dark blue. The agent is a yellow square in the current step. The bottom row holds the
      hidden answer, the cue, under the query. Once the episode is over the agent moves to the
      last column, colored from red (reward <= 0) to green (reward 1).

    ## Version History
    * v0: Initial version.
    """

    def __init__(self, delay: int = 10, render_mode: str | None = None) -> None:
        self.delay = check_int("delay", delay, 0)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.delay + 2
        """Number of steps of every episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        self.observation_space = spaces.Box(
            np.array([-1.0, 0.0], dtype=np.float32), np.array([1.0, 1.0], dtype=np.float32)
        )
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.horizon + 1, 2), dtype=np.float32)
        self._episode[self.horizon - 1, 1] = 1.0

    @property
    def _target(self) -> float:
        return float(self._episode[0, 0])

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the cue and the distractors of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation (the cue).
        """
        self._episode[: self.delay + 1, 0] = self.np_random.uniform(-1.0, 1.0, size=self.delay + 1)
        return self._episode[0]

    def step(self, action: np.ndarray) -> StepResult:
        """Advance one step; the action counts only at the query."""
        self._check_running()
        value = scalar_action(action)
        self._t += 1
        if self._t < self.horizon:
            return self._silent_step(self._episode[self._t])
        error = abs(min(max(value, -1.0), 1.0) - self._target)
        info = {"is_success": error <= SUCCESS_TOLERANCE, "target": self._target}
        return self._final_step(self._episode[self._t], 1.0 - error, info)

    def optimal_action(self) -> np.ndarray:
        """The oracle: the cue (reads it back; any action is optimal before the query)."""
        return np.array([self._target], dtype=np.float32)

    def _render_text(self) -> str:
        t = self._t
        if self._done:
            what = "done"
        elif t == 0:
            what = "cue"
        elif t == self.horizon - 1:
            what = "query"
        else:
            what = f"distractor {self._episode[t, 0]:+.2f}"
        return self._with_reward(f"step {t}/{self.horizon}: {what} | cue {self._target:+.2f}")

    def _render_rgb(self) -> np.ndarray:
        shown = np.empty((self.horizon, 3), dtype=np.uint8)
        shown[:-1] = _render.grey(self._episode[: self.horizon - 1, 0])
        shown[-1] = _render.QUERY
        answers = _render.blank(1, self.horizon)[0]
        answers[-1] = _render.grey(self._target)
        return _render.strip(shown, answers, self.horizon, self._t, self._done, self._score())

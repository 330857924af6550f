"""Denoising as a reinforcement-learning task: recall, in order, the marked values of a stream.

Registered as ``warm_rl/CueRecall-v0``; see :class:`CueRecall`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_render_mode, discrete_action


class CueRecall(MemoryTask[int]):
    """
    ## Description

    The reinforcement-learning form of the denoising benchmark of the warm-up paper (Vecoven,
    Ernst and Drion, arXiv 2106.01001). A stream of `length` steps shows one random value per
    step, drawn from an alphabet of `n_values`. At `n_cues` of these steps, drawn at random, a
    marker flags the value as one to remember. After the stream come `n_cues` recall steps: at
    the `k`-th the action must name the `k`-th marked value. The agent must store several items,
    keep their order and ignore the unmarked values; the single reward comes at the very end.
    The difficulty grows with `length` (how long the first cue must be held) and `n_cues`.

    ```
    step 12/23: stream value 3 (marked) | cues [0, 3, 1], recalled 0/0
    ```

    ## Action Space

    The action is an `int` in `{0, ..., n_values - 1}`: the value recalled at a recall step. It
    is ignored during the stream.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(n_values + 2,)`:

    | Num               | Observation         | Min | Max |
    |-------------------|---------------------|-----|-----|
    | 0 .. n_values - 1 | Value (one-hot)     | 0   | 1   |
    | n_values          | Marker              | 0   | 1   |
    | n_values + 1      | Recall flag         | 0   | 1   |

    Stream steps show the one-hot of their value, with marker 1 at the `n_cues` marked steps and
    0 elsewhere; recall steps show all zeros but the recall flag, 1.

    ## Rewards

    The reward of a step is one of `{0, 1/n_cues, 2/n_cues, ..., 1}`: at the last recall step,
    the fraction of marked values recalled at the right position; `0` at every other step. The
    best return is `1`; a random policy gets `1 / n_values` on average.

    ## Starting State

    The stream values are drawn uniformly and independently; the marked steps are `n_cues`
    distinct steps drawn uniformly among the `length` stream steps.

    ## Episode End

    Termination: after the action at the last recall step, i.e. after exactly
    `length + n_cues` steps (the `horizon` attribute). There is no truncation. At the last step
    `info` holds `is_success` (`True` iff every value was recalled) and `n_correct`.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/CueRecall-v0", length=100, n_cues=5, n_values=4)

    ```

    | Parameter     | Type    | Default | Description                                          |
    |---------------|---------|---------|------------------------------------------------------|
    | `length`      | **int** | `20`    | Number of stream steps (`>= n_cues`)                 |
    | `n_cues`      | **int** | `3`     | Number of marked values to recall (`>= 1`)           |
    | `n_values`    | **int** | `4`     | Size of the value alphabet (`>= 2`)                  |
    | `render_mode` | **str** | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)            |

    ## Rendering

    - `"ansi"`: the line of text above: the step, what it shows, the marked values, how many
      were recalled and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (length + n_cues + 1) * 8, 3)`: a strip of
      8-pixel cells, one column per step plus one. The top row shows what the steps reached so
      far showed: stream values in their colors (one hue per value), recall steps in white;
      later steps are dark blue. The agent is a yellow square in the current step. The bottom
      row holds the hidden answers: white under the marked stream steps and, under the `k`-th
      recall step, the `k`-th marked value. Once the episode is over the agent moves to the
      last column, colored from red (reward 0) to green (reward 1).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        length: int = 20,
        n_cues: int = 3,
        n_values: int = 4,
        render_mode: str | None = None,
    ) -> None:
        self.n_cues = check_int("n_cues", n_cues, 1)
        self.length = check_int("length", length, self.n_cues)
        self.n_values = check_int("n_values", n_values, 2)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.length + self.n_cues
        """Number of steps of every episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        m = self.n_values
        self.observation_space = spaces.Box(0.0, 1.0, shape=(m + 2,), dtype=np.float32)
        self.action_space = spaces.Discrete(m)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.horizon + 1, m + 2), dtype=np.float32)
        self._episode[self.length : self.horizon, m + 1] = 1.0
        self._values = np.zeros(self.length, dtype=np.int64)
        self._cues: list[int] = [0] * self.n_cues  # the marked values, in order
        self._marked = np.zeros(self.n_cues, dtype=np.int64)  # their steps
        self._n_correct = 0

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the stream and the marked steps of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation.
        """
        rng, m, length = self.np_random, self.n_values, self.length
        self._values = rng.integers(m, size=length)
        self._marked = np.sort(rng.choice(length, size=self.n_cues, replace=False))
        self._cues = self._values[self._marked].tolist()
        stream = self._episode[:length]
        stream[:] = 0.0
        stream[np.arange(length), self._values] = 1.0
        stream[self._marked, m] = 1.0
        self._n_correct = 0
        return self._episode[0]

    def step(self, action: int) -> StepResult:
        """Advance one step; the action counts only at recall steps."""
        self._check_running()
        a = discrete_action(action, self.n_values)
        k = self._t - self.length  # index of the recall step just answered (< 0 in the stream)
        if k >= 0 and a == self._cues[k]:
            self._n_correct += 1
        t = self._t = self._t + 1
        if t < self.horizon:
            return self._silent_step(self._episode[t])
        info = {"is_success": self._n_correct == self.n_cues, "n_correct": self._n_correct}
        return self._final_step(self._episode[t], self._n_correct / self.n_cues, info)

    def optimal_action(self) -> int:
        """The oracle: the marked value due now (reads the hidden cues; 0 in the stream)."""
        k = self._t - self.length
        return self._cues[k] if k >= 0 else 0

    def _render_text(self) -> str:
        t = self._t
        if self._done:
            what = "done"
        elif t < self.length:
            marked = " (marked)" if t in self._marked else ""
            what = f"stream value {int(self._values[t])}{marked}"
        else:
            what = f"recall {t - self.length + 1}/{self.n_cues}"
        answered = max(0, min(t - self.length, self.n_cues))
        line = (
            f"step {t}/{self.horizon}: {what} | cues {self._cues}, "
            f"recalled {self._n_correct}/{answered}"
        )
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        length, horizon = self.length, self.horizon
        colors = _render.symbol_colors(self.n_values)
        shown = np.empty((horizon, 3), dtype=np.uint8)
        shown[:length] = colors[self._values]
        shown[length:] = _render.QUERY
        answers = _render.blank(1, horizon)[0]
        answers[self._marked] = _render.QUERY
        answers[length:] = colors[np.asarray(self._cues, dtype=np.int64)]
        return _render.strip(shown, answers, horizon, self._t, self._done, self._score())

"""Repeat, at every step, the symbol shown exactly ``k`` steps earlier: a short, exact memory.

Registered as ``warm_rl/RepeatPrevious-v0``; see :class:`RepeatPrevious`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_render_mode, discrete_action


class RepeatPrevious(MemoryTask[int]):
    """
    ## Description

    A stream of `length` random symbols, one per step, each one of `n_symbols`. At every step
    the action must name the symbol shown exactly `k` steps earlier: after seeing the symbol of
    step `t` the agent answers with the symbol of step `t - k`. The first `k` answers, due before
    anything that old was shown, are not scored. Unlike the copy-first tasks the memory is short,
    but it must be exact and it slides: at every step the agent holds the last `k` symbols in
    order, drops the oldest and takes in the new one, and it is scored all along the episode.
    The difficulty grows with `k`; `k = 0` (name the symbol on screen) needs no memory at all,
    a control for memoryless agents.

    ```
    step 7/50: symbol 2 | due 3 (shown at step 3), right 3/3, reward 1
    ```

    ## Action Space

    The action is an `int` in `{0, ..., n_symbols - 1}`: the symbol the agent says was shown `k`
    steps ago. It is ignored at the first `k` steps.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(n_symbols,)`, the one-hot of the symbol of
    the current step (values in `[0, 1]`). The observation returned with the end of the episode
    is all zeros.

    ## Rewards

    The reward of the step that answers the observation of step `t` (`t = 0, ..., length - 1`)
    is one of `{-1, 0, 1}`: `0` for `t < k`; from `t = k` on, `+1` if the action names the symbol
    of step `t - k` and `-1` otherwise. The best return is `length - k` (the `max_return`
    attribute); a uniformly random policy gets `(length - k) * (2 / n_symbols - 1)` on average.

    ## Starting State

    The `length` symbols are drawn uniformly and independently.

    ## Episode End

    Termination: after exactly `length` steps (the `horizon` attribute). There is no truncation.
    At the last step `info` holds `is_success` (`True` iff every scored answer was right) and
    `n_correct` (the number of right answers, out of `length - k`).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/RepeatPrevious-v0", n_symbols=4, k=8, length=100)

    ```

    | Parameter     | Type    | Default | Description                                         |
    |---------------|---------|---------|-----------------------------------------------------|
    | `n_symbols`   | **int** | `4`     | Size of the symbol alphabet (`>= 2`)                |
    | `k`           | **int** | `4`     | Lag of the symbol to name (`>= 0`)                  |
    | `length`      | **int** | `50`    | Number of steps (`>= k + 1` and `>= 2`)             |
    | `render_mode` | **str** | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)           |

    ## Rendering

    - `"ansi"`: the line of text above: the step, its symbol, the answer due (the symbol shown
      `k` steps earlier), the right answers so far and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (length + 1) * 8, 3)`: a strip of 8-pixel
      cells, one column per step plus one. The top row shows the symbols of the steps reached so
      far in their colors (one hue per symbol); later steps are dark blue. The agent is a yellow
      square in the current step. The bottom row holds the hidden answers: under step `t >= k`,
      the symbol of step `t - k`. Once the episode is over the agent moves to the last column,
      colored from red (return <= 0) to green (every answer right).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        n_symbols: int = 4,
        k: int = 4,
        length: int = 50,
        render_mode: str | None = None,
    ) -> None:
        self.n_symbols = check_int("n_symbols", n_symbols, 2)
        self.k = check_int("k", k, 0)
        self.length = check_int("length", length, max(2, self.k + 1))
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.length
        """Number of steps of every episode."""
        self.max_return = float(self.length - self.k)
        """Best return an episode can reach (one point per scored step)."""

        n = self.n_symbols
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32)
        self.action_space = spaces.Discrete(n)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.length + 1, n), dtype=np.float32)
        self._symbols: list[int] = [0] * self.length
        self._n_correct = 0
        self._return = 0.0

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the symbols of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation.
        """
        length = self.length
        symbols = self.np_random.integers(self.n_symbols, size=length)
        stream = self._episode[:length]
        stream[:] = 0.0
        stream[np.arange(length), symbols] = 1.0
        self._symbols = symbols.tolist()
        self._n_correct = 0
        self._return = 0.0
        return self._episode[0]

    def step(self, action: int) -> StepResult:
        """Score the answer to the current step (from step ``k`` on) and show the next symbol."""
        self._check_running()
        a = discrete_action(action, self.n_symbols)
        lag = self._t - self.k  # the step whose symbol is due now (< 0: nothing due yet)
        if lag < 0:
            reward = 0.0
        elif a == self._symbols[lag]:
            reward = 1.0
            self._n_correct += 1
        else:
            reward = -1.0
        self._return += reward
        t = self._t = self._t + 1
        if t < self.horizon:
            return self._paid_step(self._episode[t], reward)
        info = {"is_success": self._n_correct == self.length - self.k, "n_correct": self._n_correct}
        return self._final_step(self._episode[t], reward, info)

    def optimal_action(self) -> int:
        """The oracle: the symbol of ``k`` steps ago (reads the hidden stream; 0 before step ``k``)."""
        lag = self._t - self.k
        return self._symbols[lag] if lag >= 0 else 0

    def _render_text(self) -> str:
        t, k = self._t, self.k
        if self._done:
            what = "done |"
        else:
            what = f"symbol {self._symbols[t]} |"
            if t >= k:
                what += f" due {self._symbols[t - k]} (shown at step {t - k}),"
        scored = max(0, min(t, self.length) - k)
        line = f"step {t}/{self.horizon}: {what} right {self._n_correct}/{scored}"
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        length, k = self.length, self.k
        colors = _render.symbol_colors(self.n_symbols)
        symbols = np.asarray(self._symbols, dtype=np.int64)
        answers = _render.blank(1, length)[0]
        answers[k:] = colors[symbols[: length - k]]
        score = None if self._last_reward is None else self._return / self.max_return
        return _render.strip(colors[symbols], answers, length, self._t, self._done, score)

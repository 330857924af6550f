"""Copy-first-input as a reinforcement-learning task: name the first cue after a delay.

Registered as ``warm_rl/CopyFirst-v0``; see :class:`CopyFirst`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_choice, check_int, check_render_mode, discrete_action

DISTRACTORS = ("noise", "symbols")
"""Allowed values of the ``distractor`` argument."""


class CopyFirst(MemoryTask[int]):
    """
    ## Description

    The reinforcement-learning form of the copy-first-input benchmark of the warm-up paper
    (Vecoven, Ernst and Drion, arXiv 2106.01001). The first observation shows one of
    `n_symbols` cues. Then come `delay` distractor steps and finally a query step: the action
    taken at the query must name the first cue. Actions before the query are ignored and the only
    reward comes at the query, `delay + 1` steps after the cue: the difficulty grows with `delay`.

    ```
    step 4/12: distractor noise=+0.31 | target 2
    ```

    ## Action Space

    The action is an `int` in `{0, ..., n_symbols - 1}`: the symbol named at the query. It is
    ignored at every other step.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(n_symbols + 2,)`:

    | Num                | Observation            | Min | Max |
    |--------------------|------------------------|-----|-----|
    | 0 .. n_symbols - 1 | Symbol (one-hot)       | 0   | 1   |
    | n_symbols          | Noise                  | -1  | 1   |
    | n_symbols + 1      | Query flag             | 0   | 1   |

    - First step: the one-hot of the cue, noise 0, query flag 0.
    - Distractor steps, with `distractor="noise"`: symbol channels 0, noise uniform in `[-1, 1]`;
      with `distractor="symbols"`: the one-hot of a uniformly random symbol (as likely as not to
      look like a cue), noise 0. The second form is the closer analogue of the original task,
      where every input comes from the same distribution.
    - Query step: all zeros but the query flag, 1.

    ## Rewards

    The reward of a step is one of `{0, 1}`: `1` if the action at the query names the cue, `0`
    otherwise (and at every other step). The best return is `1`; a random policy gets
    `1 / n_symbols` on average.

    ## Starting State

    The cue is drawn uniformly from the `n_symbols` symbols.

    ## Episode End

    Termination: after the action at the query, i.e. after exactly `delay + 2` steps (the
    `horizon` attribute). There is no truncation. At the last step `info` holds `is_success`
    (`True` iff the cue was named) and `target` (the cue).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/CopyFirst-v0", n_symbols=4, delay=50, distractor="symbols")

    ```

    | Parameter     | Type    | Default   | Description                                       |
    |---------------|---------|-----------|---------------------------------------------------|
    | `n_symbols`   | **int** | `4`       | Number of possible cues (`>= 2`)                  |
    | `delay`       | **int** | `10`      | Number of distractor steps (`>= 0`)               |
    | `distractor`  | **str** | `"noise"` | `"noise"` or `"symbols"` (see Observation Space)  |
    | `render_mode` | **str** | `None`    | `"ansi"` or `"rgb_array"` (see Rendering)         |

    ## Rendering

    - `"ansi"`: the line of text above: the step, what it shows, the cue to name and the last
      reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (delay + 3) * 8, 3)`: a strip of 8-pixel
      cells, one column per step plus one. The top row shows what the steps reached so far
      showed: the cue in its symbol color (one hue per symbol), a noise distractor in grey (dark
      for -1, light for +1), a symbol distractor in its symbol color, the query in white; later
      steps are dark blue. The agent is a yellow square in the current step. The bottom row
      holds the hidden answer, the cue, under the query. Once the episode is over the agent
      moves to the last column, colored from red (reward 0) to green (reward 1).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        n_symbols: int = 4,
        delay: int = 10,
        distractor: str = "noise",
        render_mode: str | None = None,
    ) -> None:
        self.n_symbols = check_int("n_symbols", n_symbols, 2)
        self.delay = check_int("delay", delay, 0)
        self.distractor = check_choice("distractor", distractor, DISTRACTORS)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.delay + 2
        """Number of steps of every episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        n = self.n_symbols
        low = np.zeros(n + 2, dtype=np.float32)
        low[n] = -1.0
        self.observation_space = spaces.Box(low, np.ones(n + 2, dtype=np.float32))
        self.action_space = spaces.Discrete(n)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.horizon + 1, n + 2), dtype=np.float32)
        self._episode[self.horizon - 1, n + 1] = 1.0
        self._target = 0

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the cue and the distractors of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation (the cue).
        """
        n, delay, episode = self.n_symbols, self.delay, self._episode
        self._target = int(self.np_random.integers(n))
        episode[: self.horizon - 1] = 0.0
        episode[0, self._target] = 1.0
        if delay:
            if self.distractor == "noise":
                episode[1 : delay + 1, n] = self.np_random.uniform(-1.0, 1.0, size=delay)
            else:
                symbols = self.np_random.integers(n, size=delay)
                episode[np.arange(1, delay + 1), symbols] = 1.0
        return episode[0]

    def step(self, action: int) -> StepResult:
        """Advance one step; the action counts only at the query."""
        self._check_running()
        a = discrete_action(action, self.n_symbols)
        self._t += 1
        if self._t < self.horizon:
            return self._silent_step(self._episode[self._t])
        success = a == self._target
        info = {"is_success": success, "target": self._target}
        return self._final_step(self._episode[self._t], 1.0 if success else 0.0, info)

    def optimal_action(self) -> int:
        """The oracle: the cue (reads the hidden target; any action is optimal before the query)."""
        return self._target

    def _render_text(self) -> str:
        t, n = self._t, self.n_symbols
        row = self._episode[min(t, self.horizon)]
        if self._done:
            what = "done"
        elif t == 0:
            what = f"cue {self._target}"
        elif t == self.horizon - 1:
            what = "query"
        elif self.distractor == "noise":
            what = f"distractor noise={row[n]:+.2f}"
        else:
            what = f"distractor symbol {int(row[:n].argmax())}"
        line = f"step {t}/{self.horizon}: {what} | target {self._target}"
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        n, delay = self.n_symbols, self.delay
        episode = self._episode[: self.horizon]
        shown = np.empty((self.horizon, 3), dtype=np.uint8)
        colors = _render.symbol_colors(n)
        shown[0] = colors[self._target]
        if self.distractor == "noise":
            shown[1 : delay + 1] = _render.grey(episode[1 : delay + 1, n])
        else:
            shown[1 : delay + 1] = colors[episode[1 : delay + 1, :n].argmax(axis=1)]
        shown[-1] = _render.QUERY
        answers = _render.blank(1, self.horizon)[0]
        answers[-1] = colors[self._target]
        return _render.strip(shown, answers, self.horizon, self._t, self._done, self._score())

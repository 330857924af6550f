"""Delayed match-to-sample: after a random delay, tell whether a test cue matches the sample.

Registered as ``warm_rl/DelayedMatch-v0``; see :class:`DelayedMatch`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_render_mode, discrete_action

NON_MATCH, MATCH = 0, 1
"""Action indices."""


class DelayedMatch(MemoryTask[int]):
    """
    ## Description

    Delayed match-to-sample, a classic working-memory test. The first observation shows a sample
    cue, one of `n_cues`. Then comes a delay of blank steps whose length is drawn uniformly in
    `[min_delay, max_delay]`, so the test cannot be anticipated by counting. Then a test cue
    appears, flagged as such: the action taken at that step must say whether it matches the
    sample. Unlike copy-first-input, the agent must compare the remembered cue with a new one.
    The difficulty grows with the delay.

    ```
    step 7/9: test cue 1 | sample 1, match
    ```

    ## Action Space

    The action is an `int` in `{0, 1}`, used only at the test step and ignored elsewhere:

    - 0: Non-match
    - 1: Match

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(n_cues + 1,)`:

    | Num             | Observation      | Min | Max |
    |-----------------|------------------|-----|-----|
    | 0 .. n_cues - 1 | Cue (one-hot)    | 0   | 1   |
    | n_cues          | Test flag        | 0   | 1   |

    The first observation is the one-hot sample (test flag 0); delay steps are all zeros; the
    test step shows the one-hot test cue and test flag 1.

    ## Rewards

    The reward of a step is one of `{0, 1}`: `1` for the right answer at the test step, `0`
    otherwise (and at every other step). The best return is `1`; a random policy gets `0.5`.

    ## Starting State

    The sample is drawn uniformly among the `n_cues` cues. The test cue is the sample with
    probability 1/2, otherwise one of the other cues drawn uniformly.

    ## Episode End

    Termination: after the action at the test step, i.e. after `delay + 2` steps, at most
    `max_delay + 2` (the `horizon` attribute). There is no truncation. At the last step `info`
    holds `is_success` (`True` iff the answer was right) and `match` (whether the cues matched).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/DelayedMatch-v0", n_cues=4, min_delay=20, max_delay=40)

    ```

    | Parameter     | Type    | Default | Description                                       |
    |---------------|---------|---------|---------------------------------------------------|
    | `n_cues`      | **int** | `4`     | Number of distinct cues (`>= 2`)                  |
    | `min_delay`   | **int** | `5`     | Shortest delay (`>= 0`)                           |
    | `max_delay`   | **int** | `10`    | Longest delay (`>= min_delay`)                    |
    | `render_mode` | **str** | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)         |

    ## Rendering

    - `"ansi"`: the line of text above: the step, what it shows, the sample, whether the test
      cue matches it and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (max_delay + 3) * 8, 3)`: a strip of 8-pixel
      cells, one column per step plus one. The top row shows what the steps reached so far
      showed: the sample and the test cue in their colors (one hue per cue), the delay in grey;
      later steps are dark blue, and columns past the end of a shorter episode stay empty (every
      frame has the same size). The agent is a yellow square in the current step. The bottom
      row holds the hidden test cue, under the test step: the cues match iff it has the color of
      the sample. Once the episode is over the agent moves to the last column, colored red
      (wrong answer) or green (right answer).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        n_cues: int = 4,
        min_delay: int = 5,
        max_delay: int = 10,
        render_mode: str | None = None,
    ) -> None:
        self.n_cues = check_int("n_cues", n_cues, 2)
        self.min_delay = check_int("min_delay", min_delay, 0)
        self.max_delay = check_int("max_delay", max_delay, self.min_delay)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.max_delay + 2
        """Maximum number of steps of an episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        n = self.n_cues
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n + 1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)

        # Read-only rows: sample cues, test cues (with flag) and a blank.
        self._sample_rows = np.eye(n, n + 1, dtype=np.float32)
        self._test_rows = self._sample_rows.copy()
        self._test_rows[:, n] = 1.0
        self._blank = np.zeros(n + 1, dtype=np.float32)
        for rows in (self._sample_rows, self._test_rows, self._blank):
            rows.setflags(write=False)
        self._sample = 0
        self._test = 0
        self._delay = self.min_delay

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the sample, the delay and the test cue of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation (the sample).
        """
        rng, n = self.np_random, self.n_cues
        self._sample = int(rng.integers(n))
        self._delay = int(rng.integers(self.min_delay, self.max_delay + 1))
        if rng.random() < 0.5:
            self._test = self._sample
        else:
            self._test = (self._sample + 1 + int(rng.integers(n - 1))) % n
        return self._sample_rows[self._sample]

    def step(self, action: int) -> StepResult:
        """Advance one step; the action counts only at the test step."""
        self._check_running()
        a = discrete_action(action, 2)
        t = self._t = self._t + 1
        decision = self._delay + 2
        if t < decision:
            return self._silent_step(self._test_rows[self._test] if t == decision - 1 else self._blank)
        match = self._test == self._sample
        success = a == (MATCH if match else NON_MATCH)
        return self._final_step(self._blank, 1.0 if success else 0.0, {"is_success": success, "match": match})

    def optimal_action(self) -> int:
        """The oracle: the right answer (reads the hidden cues; any action is fine before)."""
        return MATCH if self._test == self._sample else NON_MATCH

    def _render_text(self) -> str:
        t, decision = self._t, self._delay + 2
        if self._done:
            what = "done"
        elif t == 0:
            what = f"sample cue {self._sample}"
        elif t == decision - 1:
            what = f"test cue {self._test}"
        else:
            what = f"delay {t}/{self._delay}"
        match = "match" if self._test == self._sample else "non-match"
        line = f"step {t}/{decision}: {what} | sample {self._sample}, {match}"
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        length = self._delay + 2
        colors = _render.symbol_colors(self.n_cues)
        shown = np.empty((length, 3), dtype=np.uint8)
        shown[:] = _render.BLANK
        shown[0] = colors[self._sample]
        shown[-1] = colors[self._test]
        answers = _render.blank(1, length)[0]
        answers[-1] = colors[self._test]
        return _render.strip(shown, answers, self.horizon, self._t, self._done, self._score())

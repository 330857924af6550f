"""Associative recall: after a list of key-value pairs, give the value bound to a queried key.

Registered as ``warm_rl/KeyValueRecall-v0``; see :class:`KeyValueRecall`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_render_mode, discrete_action


class KeyValueRecall(MemoryTask[int]):
    """
    ## Description

    An associative (content-addressable) memory task. The episode first shows `n_pairs`
    key-value pairs, one per step: a key, one of `n_keys` (all keys of an episode distinct), and
    the value bound to it, one of `n_values`. Then come `delay` blank steps and a query step
    that shows one of the episode's keys: the action taken there must name the value it was
    paired with. Which pair will be asked for is unknown until the end, so the agent must store
    every binding and look one up by its key; neither the order of the pairs nor the most recent
    one helps. The difficulty grows with `n_pairs` (more bindings to hold, and to keep apart)
    and with `delay`.

    ```
    step 1/6: key 4 -> value 2 | query key 4, answer 2
    ```

    ## Action Space

    The action is an `int` in `{0, ..., n_values - 1}`: the value named at the query. It is
    ignored at every other step.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(n_keys + n_values + 1,)`:

    | Num                                | Observation       | Min | Max |
    |------------------------------------|-------------------|-----|-----|
    | 0 .. n_keys - 1                    | Key (one-hot)     | 0   | 1   |
    | n_keys .. n_keys + n_values - 1    | Value (one-hot)   | 0   | 1   |
    | n_keys + n_values                  | Query flag        | 0   | 1   |

    - Pair steps: the one-hot key and the one-hot value, query flag 0.
    - Delay steps: all zeros.
    - Query step: the one-hot of the queried key, no value, query flag 1.

    The observation returned with the end of the episode is all zeros.

    ## Rewards

    The reward of a step is one of `{0, 1}`: `1` if the action at the query names the value
    bound to the queried key, `0` otherwise (and at every other step). The best return is `1`; a
    uniformly random policy gets `1 / n_values` on average, one that remembers only the last pair
    `1 / n_pairs + (1 - 1 / n_pairs) / n_values`.

    ## Starting State

    The keys are `n_pairs` distinct keys drawn uniformly among the `n_keys`; each value is drawn
    uniformly and independently (two keys may share a value); the queried pair is drawn
    uniformly among the `n_pairs`.

    ## Episode End

    Termination: after the action at the query, i.e. after exactly `n_pairs + delay + 1` steps
    (the `horizon` attribute). There is no truncation. At the last step `info` holds
    `is_success` (`True` iff the value was right), `key` (the queried key) and `target` (its
    value).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/KeyValueRecall-v0", n_pairs=5, n_keys=10, n_values=4, delay=20)

    ```

    | Parameter     | Type    | Default | Description                                        |
    |---------------|---------|---------|----------------------------------------------------|
    | `n_pairs`     | **int** | `3`     | Number of key-value pairs shown (`>= 1`)           |
    | `n_keys`      | **int** | `6`     | Size of the key alphabet (`>= n_pairs`, `>= 2`)    |
    | `n_values`    | **int** | `4`     | Size of the value alphabet (`>= 2`)                |
    | `delay`       | **int** | `2`     | Number of blank steps before the query (`>= 0`)    |
    | `render_mode` | **str** | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)          |

    ## Rendering

    - `"ansi"`: the line of text above: the step, what it shows, the queried key, the value to
      name and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(16, (n_pairs + delay + 2) * 8, 3)`: a strip of
      8-pixel cells, one column per step plus one. The top row shows the keys of the steps
      reached so far in their colors (one hue per key), the delay in grey; later steps are dark
      blue. The agent is a yellow square in the current step. The bottom row holds the values,
      in their colors (one hue per value): under each pair step the value bound to its key and,
      under the query, the hidden value to name. Once the episode is over the agent moves to the
      last column, colored red (wrong value) or green (right value).

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        n_pairs: int = 3,
        n_keys: int = 6,
        n_values: int = 4,
        delay: int = 2,
        render_mode: str | None = None,
    ) -> None:
        self.n_pairs = check_int("n_pairs", n_pairs, 1)
        self.n_keys = check_int("n_keys", n_keys, max(2, self.n_pairs))
        self.n_values = check_int("n_values", n_values, 2)
        self.delay = check_int("delay", delay, 0)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.n_pairs + self.delay + 1
        """Number of steps of every episode."""
        self.max_return = 1.0
        """Best return an episode can reach."""

        nk, nv = self.n_keys, self.n_values
        self.observation_space = spaces.Box(0.0, 1.0, shape=(nk + nv + 1,), dtype=np.float32)
        self.action_space = spaces.Discrete(nv)

        # Row t is the observation after t steps; the last row (all zeros) is the final one.
        self._episode = np.zeros((self.horizon + 1, nk + nv + 1), dtype=np.float32)
        self._episode[self.horizon - 1, nk + nv] = 1.0
        self._keys = np.zeros(self.n_pairs, dtype=np.int64)
        self._values = np.zeros(self.n_pairs, dtype=np.int64)
        self._query = 0  # index of the queried pair
        self._target = 0

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the pairs and the query of a new episode.

        Args:
            options: Unused: this task takes no options (``reset()`` refuses any key).

        Returns:
            The first observation (the first pair).
        """
        nk, n = self.n_keys, self.n_pairs
        # One draw for everything (resets are frequent in short episodes): the keys are the
        # first n of a random permutation, the values and the query uniform integers.
        u = self.np_random.random(nk + n + 1)
        self._keys = np.argsort(u[:nk])[:n]
        self._values = (u[nk : nk + n] * self.n_values).astype(np.int64)
        self._query = int(u[-1] * n)
        self._target = int(self._values[self._query])
        episode = self._episode
        episode[:n] = 0.0
        rows = np.arange(n)
        episode[rows, self._keys] = 1.0
        episode[rows, nk + self._values] = 1.0
        query = episode[self.horizon - 1]
        query[:nk] = 0.0
        query[self._keys[self._query]] = 1.0
        return episode[0]

    def step(self, action: int) -> StepResult:
        """Advance one step; the action counts only at the query."""
        self._check_running()
        a = discrete_action(action, self.n_values)
        t = self._t = self._t + 1
        if t < self.horizon:
            return self._silent_step(self._episode[t])
        success = a == self._target
        info = {"is_success": success, "key": int(self._keys[self._query]), "target": self._target}
        return self._final_step(self._episode[t], 1.0 if success else 0.0, info)

    def optimal_action(self) -> int:
        """The oracle: the value of the queried key (reads the hidden query; any action is
        optimal before it)."""
        return self._target

    def _render_text(self) -> str:
        t, n = self._t, self.n_pairs
        if self._done:
            what = "done"
        elif t < n:
            what = f"key {int(self._keys[t])} -> value {int(self._values[t])}"
        elif t < self.horizon - 1:
            what = "delay"
        else:
            what = f"query key {int(self._keys[self._query])}"
        line = (
            f"step {t}/{self.horizon}: {what} | query key {int(self._keys[self._query])}, "
            f"answer {self._target}"
        )
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        n, horizon = self.n_pairs, self.horizon
        key_colors = _render.symbol_colors(self.n_keys)
        value_colors = _render.symbol_colors(self.n_values)
        shown = np.empty((horizon, 3), dtype=np.uint8)
        shown[:] = _render.BLANK
        shown[:n] = key_colors[self._keys]
        shown[-1] = key_colors[self._keys[self._query]]
        answers = _render.blank(1, horizon)[0]
        answers[:n] = value_colors[self._values]
        answers[-1] = value_colors[self._target]
        return _render.strip(shown, answers, horizon, self._t, self._done, self._score())

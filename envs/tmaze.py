"""The T-maze of the warm-up paper (journal version): remember a cue across a corridor.

Registered as ``warm_rl/TMaze-v0``; see :class:`TMaze`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_probability, check_render_mode, discrete_action

RIGHT, UP, LEFT, DOWN = 0, 1, 2, 3
"""Action indices."""

GOAL_UP, GOAL_DOWN = 0, 1
"""Goal sides (also the observation channel of the matching cue)."""

CORRIDOR_CHANNEL, JUNCTION_CHANNEL = 2, 3
"""Observation channels of corridor and junction cells."""

GOAL_REWARD = 4.0
"""Reward for turning to the cued side at the junction."""

PENALTY = -0.1
"""Reward for bumping into a wall or turning to the wrong side."""


class TMaze(MemoryTask[int]):
    """
    ## Description

    The T-maze of Lambrechts, De Geeter, Vecoven, Ernst and Drion, "Warming-up recurrent neural
    networks to maximise reachable multistability greatly improves learning" (Neural Networks,
    2023). The agent starts at the left end of a corridor of length `L`. The first cell shows a
    cue telling which side, up or down, holds the goal; the cue is visible only in that cell.
    The agent walks right along the corridor to the junction at its right end and must turn to
    the cued side there. Only the last action is rewarded, `L + 1` steps after the cue was seen,
    so the agent must carry one bit across the corridor: the difficulty grows with `length`.

    ```
    step 3/29, goal up
              G
    u--A------+
              x
    ```

    Cells are numbered `x = 0..L`: `x = 0` is the cue cell, `0 < x < L` the corridor and `x = L`
    the junction (`u`/`d`: cue cell, `A`: agent, `+`: junction, `G`: goal exit, `x`: wrong exit).

    ## Action Space

    The action is an `int` in `{0, 1, 2, 3}`:

    - 0: Move right
    - 1: Move up
    - 2: Move left
    - 3: Move down

    With `stochasticity = λ > 0`, while the agent is in the corridor (`x < L`, the cue cell
    included) the chosen action is replaced, with probability `λ`, by one drawn uniformly from
    the four (which may be the chosen one). At the junction actions are always executed.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(4,)`, a one-hot vector:

    | Num | Observation       | Shown at            |
    |-----|-------------------|---------------------|
    | 0   | Goal-up cue       | `x = 0`, goal up    |
    | 1   | Goal-down cue     | `x = 0`, goal down  |
    | 2   | Corridor          | `0 < x < L`         |
    | 3   | Junction          | `x = L`             |

    The cue is shown whenever the agent stands in the cue cell (also when it walks back there).

    ## Rewards

    The reward of a step is one of `{-0.1, 0, 4}`:

    - `+4`: turning to the cued side at the junction (ends the episode);
    - `-0.1`: turning to the wrong side at the junction (ends the episode), or bumping into a
      wall: left at `x = 0`, up or down in the corridor, right at the junction (the agent stays);
    - `0`: any other move.

    The best return, `4`, is reached by walking right `L` times and turning to the cued side:
    `L + 1` steps.

    ## Starting State

    The agent is at `x = 0`; the goal side is drawn uniformly from up and down (or set through
    `reset(options={"goal": 0 or 1})`, 0 = up, 1 = down).

    ## Episode End

    The episode ends if any one of the following occurs:

    1. Termination: the agent turns up or down at the junction.
    2. Truncation: the episode reaches `3L - 1` steps (the `horizon` attribute).

    At the last step `info` holds `is_success` (`True` iff the agent turned to the cued side)
    and `goal` (0 = up, 1 = down).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/TMaze-v0", length=20, stochasticity=0.1, render_mode="ansi")
    >>> obs, info = env.reset(seed=0)

    ```

    | Parameter       | Type      | Default | Description                                          |
    |-----------------|-----------|---------|------------------------------------------------------|
    | `length`        | **int**   | `10`    | Corridor length `L >= 2` (cue-to-junction steps)     |
    | `stochasticity` | **float** | `0.0`   | `λ` in `[0, 1)`: chance of a random corridor action  |
    | `render_mode`   | **str**   | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)            |

    ## Rendering

    - `"ansi"`: the text drawing above, headed by the step count, the goal side and the last
      reward.
    - `"rgb_array"`: the same maze as a uint8 image of shape `(24, (L + 1) * 8, 3)`, one
      8-pixel cell per square: the cue cell in the cue color (blue: up, orange: down), the
      corridor grey, the junction white, the goal exit green and the wrong one red; the agent
      is a yellow square inside its cell, drawn in the exit it took once it has turned.

    ## Version History
    * v0: Initial version.
    """

    option_keys = frozenset({"goal"})

    def __init__(
        self, length: int = 10, stochasticity: float = 0.0, render_mode: str | None = None
    ) -> None:
        self.length = check_int("length", length, 2)
        self.stochasticity = check_probability("stochasticity", stochasticity)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = 3 * self.length - 1
        """Maximum number of steps of an episode."""
        self.max_return = GOAL_REWARD
        """Best return an episode can reach."""

        self.observation_space = spaces.Box(0.0, 1.0, shape=(4,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)

        # One read-only row per observation; step() returns a copy of one of them.
        self._rows = np.eye(4, dtype=np.float32)
        self._rows.setflags(write=False)
        self._x = 0
        self._goal = GOAL_UP
        self._exit: int | None = None  # the side the agent turned to, once it has

    @property
    def position(self) -> int:
        """The agent's corridor cell: 0 at the cue, ``length`` at the junction."""
        return self._x

    def _obs(self) -> np.ndarray:
        """The read-only row shown at the agent's cell (callers hand out copies)."""
        x = self._x
        if x == 0:
            return self._rows[self._goal]
        return self._rows[CORRIDOR_CHANNEL if x < self.length else JUNCTION_CHANNEL]

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Start an episode at the cue cell with a random (or given) goal side.

        Args:
            options: ``{"goal": 0 or 1}`` fixes the goal side (0 = up, 1 = down); ``{}`` draws it.

        Returns:
            The first observation (the cue).
        """
        goal = options.get("goal")
        if goal is None:
            self._goal = int(self.np_random.integers(2))
        else:
            self._goal = check_int("options['goal']", goal, 0, 1)
        self._x = 0
        self._exit = None
        return self._obs()

    def step(self, action: int) -> StepResult:
        """Move the agent; see the class docstring for the rules."""
        self._check_running()
        a = discrete_action(action, 4)
        x = self._x
        length = self.length
        terminated = False
        if x < length:  # cue cell or corridor
            if self.stochasticity and self.np_random.random() < self.stochasticity:
                a = int(self.np_random.integers(4))
            if a == RIGHT:
                x += 1
                reward = 0.0
            elif a == LEFT and x > 0:
                x -= 1
                reward = 0.0
            else:
                reward = PENALTY
        elif a == LEFT:  # junction
            x -= 1
            reward = 0.0
        elif a == RIGHT:
            reward = PENALTY
        else:
            terminated = True
            self._exit = a
            success = (a == UP) == (self._goal == GOAL_UP)
            reward = GOAL_REWARD if success else PENALTY
        self._x = x
        self._t += 1
        truncated = not terminated and self._t >= self.horizon
        self._last_reward = reward
        if terminated or truncated:
            self._done = True
            info = {"is_success": terminated and reward == GOAL_REWARD, "goal": self._goal}
        else:
            info = {}
        return self._obs().copy(), reward, terminated, truncated, info

    def optimal_action(self) -> int:
        """The oracle: right along the corridor, then the cued side (reads the hidden goal)."""
        if self._x < self.length:
            return RIGHT
        return UP if self._goal == GOAL_UP else DOWN

    def _render_text(self) -> str:
        """Three lines of text under a header; see Rendering in the class docstring."""
        length = self.length
        cells = ["u" if self._goal == GOAL_UP else "d"] + ["-"] * (length - 1) + ["+"]
        cells[self._x] = "A"
        up_exit, down_exit = ("G", "x") if self._goal == GOAL_UP else ("x", "G")
        pad = " " * length
        header = f"step {self._t}/{self.horizon}, goal {'up' if self._goal == GOAL_UP else 'down'}"
        if self._last_reward is not None:
            header += f", reward {self._last_reward:g}"
        return "\n".join([header, pad + up_exit, "".join(cells), pad + down_exit]) + "\n"

    def _render_rgb(self) -> np.ndarray:
        length = self.length
        cells = _render.blank(3, length + 1)
        cells[1, 0] = _render.symbol_colors(2)[self._goal]
        cells[1, 1:length] = _render.CORRIDOR
        cells[1, length] = _render.JUNCTION
        goal_row = 0 if self._goal == GOAL_UP else 2
        cells[goal_row, length] = _render.GOOD
        cells[2 - goal_row, length] = _render.BAD
        if self._exit is None:
            agent = (1, self._x)
        else:
            agent = (0 if self._exit == UP else 2, length)
        return _render.to_image(cells, agent)

"""Pendulum swing-up and balance from noisy angle readings only: the speed must be inferred.

Registered as ``warm_rl/HiddenVelocityPendulum-v0``; see :class:`HiddenVelocityPendulum`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from envs import _render
from envs._episode import MemoryTask, StepResult
from envs._validation import check_int, check_real, check_render_mode, scalar_action

GRAVITY = 10.0
"""Gravitational acceleration, m/s^2."""
POLE_LENGTH = 1.0
"""Length of the massless rod, m."""
MASS = 1.0
"""The point mass at the end of the rod, kg."""
DT = 0.05
"""Time step, s."""
MAX_TORQUE = 2.0
"""Torque of the motor at full action, N m: well below the ``MASS * GRAVITY * POLE_LENGTH``
it would take to lift the pendulum straight up, so it has to be swung up."""
MAX_SPEED = 8.0
"""Angular speeds are clipped to ``[-MAX_SPEED, MAX_SPEED]``, rad/s."""

COST_SCALE = math.pi**2 + 0.1 * MAX_SPEED**2 + 0.001 * MAX_TORQUE**2
"""The largest cost of a step: rewards are ``1 - cost / COST_SCALE``, in ``[0, 1]``."""

SUCCESS_ANGLE = 0.3
"""An episode is a success if the pendulum stays this close to upright (rad) over its last quarter."""

BALANCE_ANGLE = 0.5
"""The oracle balances (PD control) within this angle of upright and pumps energy elsewhere."""
KP, KD = 20.0, 5.0
"""Gains of the oracle's balancing torque ``-(KP * angle + KD * speed)``, N m per rad (per rad/s)."""

SCENE = 64
"""Side of the drawing of the pendulum in the ``"rgb_array"`` frames, in pixels."""
ROD = 24
"""Length of the drawn rod, in pixels."""


def wrap_angle(angle: float) -> float:
    """``angle`` brought into ``[-pi, pi)`` (0 is upright)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class HiddenVelocityPendulum(MemoryTask[np.ndarray]):
    """
    ## Description

    A partially observed control task. A motor at the pivot of a pendulum (a point mass on a
    massless rod) must swing it up from a random start and keep it balanced upright. The motor
    is too weak to lift the pendulum directly: the agent must pump energy into it by pushing
    along its motion, then catch and hold it at the top. The agent sees only the angle, as its
    cosine and sine, optionally blurred by Gaussian noise: the angular speed is hidden. A
    torque that depends on the current angle alone is conservative (up to the discretisation):
    it can neither pump energy in nor damp it out, so a memoryless policy cannot solve the task
    and the agent must estimate the speed from the angles it saw. Without noise two consecutive
    readings give it; with noise the agent must filter over longer stretches (from
    `noise_std = 0.02` on, the oracle's controller fed with the speed estimated from the last
    two readings no longer keeps the pendulum up). The difficulty grows with `noise_std`.

    ```
    step 12/200: angle +2.31, speed -1.20 (hidden), torque +2.00 | seen cos -0.67 sin +0.74, reward 0.52
    ```

    The dynamics, with the angle `θ` measured from upright (`θ = 0` at the top, `±π` hanging
    down) and the torque `τ`, are `θ'' = (g / l) sin θ + τ / (m l²)` with `g = 10`, `l = 1`,
    `m = 1`, integrated by semi-implicit Euler steps of `dt = 0.05` s (the speed first, clipped to
    `[-8, 8]` rad/s, then the angle).

    ## Action Space

    The action is a float32 `ndarray` of shape `(1,)` in `[-1, 1]` (values outside are
    clipped): the torque as a fraction of the motor's maximum, `τ = 2 * action` N m.

    ## Observation Space

    The observation is a float32 `ndarray` of shape `(2,)`, `(cos θ, sin θ)` plus independent
    Gaussian noise of standard deviation `noise_std` on each. Both channels lie in
    `[-b, b]` with `b = 1 + 4 * noise_std`; a noisy reading beyond (chance below 1e-4) is
    clipped to it. The speed `θ'` is not observed.

    ## Rewards

    The usual swing-up cost of a step, `θ² + 0.1 θ'² + 0.001 τ²` (state before the step, `θ` in
    `[-π, π)`), rescaled by its largest value `C = π² + 0.1 * 8² + 0.001 * 2²`: the reward is
    `1 - cost / C`, in `[0, 1]`, `1` only upright at rest with no torque. Every episode lasting
    `time_limit` steps, the rescaling changes the ranking of no two policies. The best return
    is bounded by `time_limit` (the `max_return` attribute), a bound reachable only from an
    upright start at rest.

    With the default `time_limit`, a random policy gets about `0.65 * time_limit` and never
    succeeds (see Episode End). The oracle (`envs.oracle_action`, which reads the hidden speed:
    energy pumping at full torque away from the top, PD control within 0.5 rad of it) swings
    the pendulum up from any start within 7 s (140 steps) and balances it from then on: it
    succeeds in every episode and gets about `0.92 * time_limit` on average (at least
    `0.85 * time_limit` over 30 episodes, the tested threshold).

    ## Starting State

    The angle is drawn uniformly in `[-π, π)` and the speed uniformly in `[-1, 1]` rad/s, unless
    given through `reset(options={"angle": θ, "speed": θ'})` (either or both).

    ## Episode End

    Truncation: after exactly `time_limit` steps (the `horizon` attribute). There is no
    termination. At the last step `info` holds `is_success`: `True` iff the pendulum stayed
    within 0.3 rad of upright at every step of the last quarter of the episode (the states after
    steps `time_limit - time_limit // 4` to `time_limit`).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("warm_rl/HiddenVelocityPendulum-v0", noise_std=0.05, time_limit=300)

    ```

    | Parameter     | Type      | Default | Description                                       |
    |---------------|-----------|---------|---------------------------------------------------|
    | `noise_std`   | **float** | `0.0`   | Standard deviation of the reading noise (`>= 0`)  |
    | `time_limit`  | **int**   | `200`   | Number of steps of an episode (`>= 2`)            |
    | `render_mode` | **str**   | `None`  | `"ansi"` or `"rgb_array"` (see Rendering)         |

    ## Rendering

    - `"ansi"`: the line of text above: the step, the true state (hidden speed included), the
      last torque, the last observation and the last reward.
    - `"rgb_array"`: a uint8 image of shape `(65 + ceil(time_limit / 64), 64, 3)`: the pendulum
      (a grey rod, a yellow mass, the top marked white) in a 64-pixel square with, in dark grey
      at its rim, the direction the last observation points to; below it a timeline of one pixel
      per step, wrapping every 64 steps, lit grey for the steps done and, once the episode is
      over, green (success) or red (failure).

    ## Version History
    * v0: Initial version.
    """

    option_keys = frozenset({"angle", "speed"})

    def __init__(
        self, noise_std: float = 0.0, time_limit: int = 200, render_mode: str | None = None
    ) -> None:
        self.noise_std = check_real("noise_std", noise_std, 0.0)
        self.time_limit = check_int("time_limit", time_limit, 2)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.horizon = self.time_limit
        """Number of steps of every episode."""
        self.max_return = float(self.time_limit)
        """Upper bound of the return (reward 1 at every step)."""

        bound = np.float32(1.0 + 4.0 * self.noise_std)
        self._bound = bound
        self.observation_space = spaces.Box(-bound, bound, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

        self._angle = math.pi  # hanging down at rest, until the first reset
        self._speed = 0.0
        self._torque = 0.0
        self._noise = np.zeros((self.time_limit + 1, 2), dtype=np.float32)
        self._obs = np.array([-1.0, 0.0], dtype=np.float32)
        self._strayed = False  # whether it left the upright band in the last quarter
        self._last_quarter = self.time_limit - self.time_limit // 4

    @property
    def state(self) -> tuple[float, float]:
        """The true ``(angle, speed)``: angle in ``[-pi, pi)`` from upright, speed in rad/s."""
        return self._angle, self._speed

    def _observe(self) -> np.ndarray:
        """The reading of the current angle (noisy, clipped), kept for ``render``."""
        obs = np.array((math.cos(self._angle), math.sin(self._angle)), dtype=np.float32)
        if self.noise_std:
            obs += self._noise[self._t]
            np.clip(obs, -self._bound, self._bound, out=obs)
        self._obs = obs
        return obs

    def _new_episode(self, options: dict[str, Any]) -> np.ndarray:
        """Draw the start state (or take it from ``options``) and the reading noise of the episode.

        Args:
            options: ``{"angle": θ, "speed": θ'}`` (either or both, in rad and rad/s; the angle
                is wrapped into ``[-pi, pi)``, the speed clipped to ``[-8, 8]``) fixes the start;
                what is missing is drawn.

        Returns:
            The first observation.
        """
        rng = self.np_random
        angle = float(rng.uniform(-math.pi, math.pi))
        speed = float(rng.uniform(-1.0, 1.0))
        if self.noise_std:
            self._noise[:] = rng.normal(0.0, self.noise_std, size=self._noise.shape)
        if "angle" in options:
            angle = check_real("options['angle']", options["angle"], -math.inf)
        if "speed" in options:
            speed = check_real("options['speed']", options["speed"], -math.inf)
        self._angle = wrap_angle(angle)
        self._speed = min(max(speed, -MAX_SPEED), MAX_SPEED)
        self._torque = 0.0
        self._strayed = False
        self._t = 0
        return self._observe()

    def step(self, action: np.ndarray) -> StepResult:
        """Apply the torque for one time step; see the class docstring for the dynamics."""
        self._check_running()
        torque = MAX_TORQUE * min(max(scalar_action(action), -1.0), 1.0)
        angle, speed = self._angle, self._speed
        reward = 1.0 - (angle * angle + 0.1 * speed * speed + 0.001 * torque * torque) / COST_SCALE
        accel = GRAVITY / POLE_LENGTH * math.sin(angle) + torque / (MASS * POLE_LENGTH**2)
        speed = min(max(speed + DT * accel, -MAX_SPEED), MAX_SPEED)
        self._angle = wrap_angle(angle + DT * speed)
        self._speed = speed
        self._torque = torque
        self._last_reward = reward
        t = self._t = self._t + 1
        if t >= self._last_quarter and abs(self._angle) > SUCCESS_ANGLE:
            self._strayed = True
        obs = self._observe()
        if t < self.horizon:
            return obs.copy(), reward, False, False, {}
        self._done = True
        return obs.copy(), reward, False, True, {"is_success": not self._strayed}

    def optimal_action(self) -> np.ndarray:
        """The oracle, which reads the hidden speed: a good controller, not an optimal one.

        Within ``BALANCE_ANGLE`` of upright, PD control; elsewhere, full torque along the motion
        while the energy is below that of the upright pendulum at rest, against it above.
        """
        angle, speed = self._angle, self._speed
        if abs(angle) < BALANCE_ANGLE:
            action = -(KP * angle + KD * speed) / MAX_TORQUE
        else:
            # energy per unit m l^2, minus that of the upright pendulum at rest
            excess = 0.5 * speed * speed + GRAVITY / POLE_LENGTH * (math.cos(angle) - 1.0)
            action = 1.0 if excess * speed <= 0.0 else -1.0
        return np.array([min(max(action, -1.0), 1.0)], dtype=np.float32)

    def _render_text(self) -> str:
        cos, sin = self._obs.tolist()
        line = (
            f"step {self._t}/{self.horizon}: angle {self._angle:+.2f}, speed {self._speed:+.2f} "
            f"(hidden), torque {self._torque:+.2f} | seen cos {cos:+.2f} sin {sin:+.2f}"
        )
        return self._with_reward(line)

    def _render_rgb(self) -> np.ndarray:
        rows = -(-self.time_limit // SCENE)
        img = np.full((SCENE + 1 + rows, SCENE, 3), _render.BACKGROUND, dtype=np.uint8)
        center = SCENE // 2
        # the direction the last reading points to, at the rim, and the top
        seen = math.atan2(float(self._obs[1]), float(self._obs[0]))
        for angle, color, radius in ((seen, _render.BLANK, ROD + 5), (0.0, _render.QUERY, ROD + 5)):
            y = round(center - radius * math.cos(angle))
            x = round(center + radius * math.sin(angle))
            img[y - 1 : y + 2, x - 1 : x + 2] = color
        r = np.linspace(0.0, ROD, 2 * ROD + 1)
        ys = np.rint(center - r * math.cos(self._angle)).astype(np.int64)
        xs = np.rint(center + r * math.sin(self._angle)).astype(np.int64)
        img[ys, xs] = _render.CORRIDOR
        img[ys[-1] - 2 : ys[-1] + 3, xs[-1] - 2 : xs[-1] + 3] = _render.AGENT
        # timeline: one pixel per step done
        line = img[SCENE + 1 :].reshape(rows * SCENE, 3)
        if self._done and self._last_reward is not None:
            line[: self._t] = _render.BAD if self._strayed else _render.GOOD
        else:
            line[: self._t] = _render.CORRIDOR
        return img

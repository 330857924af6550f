"""Tests of the memory tasks in ``envs``: API conformance, determinism, oracle, properties.

T-maze specifics live in ``tests/test_tmaze.py``.
"""

from __future__ import annotations

import importlib
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

import envs
from envs.benchmark import steps_per_second

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_IDS = {
    "warm_rl/TMaze-v0",
    "warm_rl/CopyFirst-v0",
    "warm_rl/DelayedMatch-v0",
    "warm_rl/CueRecall-v0",
    "warm_rl/CopyFirstContinuous-v0",
    "warm_rl/RepeatPrevious-v0",
    "warm_rl/CountEvents-v0",
    "warm_rl/KeyValueRecall-v0",
    "warm_rl/HiddenVelocityPendulum-v0",
}
CONTINUOUS_IDS = {"warm_rl/CopyFirstContinuous-v0", "warm_rl/HiddenVelocityPendulum-v0"}

# Every id with its defaults, plus variants at the edges of each difficulty knob.
CASES: list[tuple[str, dict[str, Any]]] = [(env_id, {}) for env_id in envs.TASK_IDS] + [
    ("warm_rl/TMaze-v0", {"length": 2}),
    ("warm_rl/TMaze-v0", {"length": 5, "stochasticity": 0.5}),
    ("warm_rl/CopyFirst-v0", {"delay": 0, "n_symbols": 2}),
    ("warm_rl/CopyFirst-v0", {"delay": 7, "n_symbols": 3, "distractor": "symbols"}),
    ("warm_rl/DelayedMatch-v0", {"n_cues": 2, "min_delay": 0, "max_delay": 0}),
    ("warm_rl/DelayedMatch-v0", {"n_cues": 5, "min_delay": 3, "max_delay": 30}),
    ("warm_rl/CueRecall-v0", {"length": 1, "n_cues": 1, "n_values": 2}),
    ("warm_rl/CueRecall-v0", {"length": 6, "n_cues": 6, "n_values": 3}),
    ("warm_rl/CopyFirstContinuous-v0", {"delay": 0}),
    ("warm_rl/RepeatPrevious-v0", {"k": 0, "n_symbols": 2, "length": 2}),
    ("warm_rl/RepeatPrevious-v0", {"k": 8, "n_symbols": 2, "length": 10}),
    ("warm_rl/RepeatPrevious-v0", {"k": 1, "n_symbols": 6, "length": 30}),
    ("warm_rl/CountEvents-v0", {"length": 2, "p": 0.5, "max_count": 1}),
    ("warm_rl/CountEvents-v0", {"max_count": 2}),
    ("warm_rl/CountEvents-v0", {"length": 30, "p": 0.6, "max_count": 5, "report": "modulo"}),
    ("warm_rl/KeyValueRecall-v0", {"n_pairs": 1, "n_keys": 2, "n_values": 2, "delay": 0}),
    ("warm_rl/KeyValueRecall-v0", {"n_pairs": 6, "n_keys": 6, "n_values": 3, "delay": 5}),
    ("warm_rl/HiddenVelocityPendulum-v0", {"noise_std": 0.1}),
    ("warm_rl/HiddenVelocityPendulum-v0", {"noise_std": 0.5, "time_limit": 300}),
]
CASE_IDS = [
    env_id.split("/")[1] + "".join(f"-{k}={v}" for k, v in kw.items()) for env_id, kw in CASES
]

# Mean return of the uniform random policy, for the tasks where it is known in closed form.
RANDOM_MEAN = {
    "warm_rl/CopyFirst-v0": lambda env: 1 / env.n_symbols,
    "warm_rl/DelayedMatch-v0": lambda env: 0.5,
    "warm_rl/CueRecall-v0": lambda env: 1 / env.n_values,
    "warm_rl/CopyFirstContinuous-v0": lambda env: 1 / 3,
    "warm_rl/RepeatPrevious-v0": lambda env: env.max_return * (2 / env.n_symbols - 1),
    "warm_rl/CountEvents-v0": lambda env: 1 / (env.max_count + 1),
    "warm_rl/KeyValueRecall-v0": lambda env: 1 / env.n_values,
}

PAY_AS_THEY_GO = (envs.TMaze, envs.RepeatPrevious, envs.HiddenVelocityPendulum)
"""The tasks whose rewards are not all at the last step."""


def make_raw(env_id: str, **kwargs: Any) -> gym.Env:
    """The env without gymnasium's wrappers."""
    return gym.make(env_id, **kwargs).unwrapped


def reward_allowed(env: gym.Env, reward: float) -> bool:
    """Whether ``reward`` is in the reward set documented for ``env``."""
    if isinstance(env, envs.TMaze):
        return reward in (-0.1, 0.0, 4.0)
    if isinstance(env, envs.CueRecall):
        k = reward * env.n_cues
        return 0 <= round(k) <= env.n_cues and math.isclose(k, round(k), abs_tol=1e-9)
    if isinstance(env, envs.CopyFirstContinuous):
        return -1.0 <= reward <= 1.0
    if isinstance(env, envs.RepeatPrevious):
        return reward in (-1.0, 0.0, 1.0)
    if isinstance(env, envs.HiddenVelocityPendulum):
        return 0.0 <= reward <= 1.0
    return reward in (0.0, 1.0)


def to_action(env: gym.Env, code: int) -> Any:
    """Map an integer drawn by a test to an action of ``env`` (continuous ones may be out of
    bounds, which the env clips)."""
    if isinstance(env.action_space, gym.spaces.Discrete):
        return code % env.action_space.n
    return np.array([(code % 3001) / 1000.0 - 1.5], dtype=np.float32)


def run_episode(env: gym.Env, policy, seed: int | None = None) -> tuple[float, int, dict]:
    """Run one episode; return its return, its length and the last info."""
    env.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        _, reward, terminated, truncated, info = env.step(policy(env))
        total += reward
        steps += 1
        if terminated or truncated:
            return total, steps, info


def trajectory(env: gym.Env, seed: int, codes: list[int]) -> list[tuple]:
    """Everything the env returns under a fixed action sequence (resetting when episodes end)."""
    obs, info = env.reset(seed=seed)
    out: list[tuple] = [(obs.tolist(), info)]
    for code in codes:
        obs, reward, terminated, truncated, info = env.step(to_action(env, code))
        out.append((obs.tolist(), reward, terminated, truncated, info))
        if terminated or truncated:
            out.append(env.reset()[0].tolist())
    return out


# --------------------------------------------------------------------------- registration


def test_all_ids_registered():
    assert set(envs.TASK_IDS) == EXPECTED_IDS
    assert len(envs.TASK_IDS) == len(EXPECTED_IDS)
    for env_id in envs.ALL_ENV_IDS:
        assert env_id in gym.registry
        assert gym.spec(env_id).namespace == "warm_rl"


def test_named_variants_preset_their_kwargs_and_are_listed():
    import io
    from contextlib import redirect_stdout

    assert {"warm_rl/TMaze-L50-v0", "warm_rl/TMaze-L100-v0", "warm_rl/CopyFirst-Hard-v0"} <= set(envs.ALL_ENV_IDS)
    for task_id in envs.TASK_IDS:
        task = task_id.removeprefix("warm_rl/").removesuffix("-v0")
        for level in ("Easy", "Medium", "Hard"):
            assert f"warm_rl/{task}-{level}-v0" in envs.ALL_ENV_IDS
    assert gym.make("warm_rl/TMaze-L50-v0").unwrapped.length == 50
    assert gym.make("warm_rl/TMaze-L50-v0", length=7).unwrapped.length == 7, "given kwargs override the preset"
    assert gym.make("warm_rl/RepeatPrevious-Hard-v0").unwrapped.k == 8
    listing = io.StringIO()
    with redirect_stdout(listing):
        gym.pprint_registry()
    assert "TMaze-L50-v0" in listing.getvalue() and "KeyValueRecall-Medium-v0" in listing.getvalue()


def test_importing_agents_registers_the_tasks():
    code = "import agents, gymnasium as gym\nprint(gym.make('warm_rl/TMaze-v0').unwrapped.length)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "10", done.stderr


def test_reimport_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(envs)
    assert set(envs.ALL_ENV_IDS) <= set(gym.registry)


def test_make_with_module_prefix_in_fresh_interpreter():
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'envs' not in sys.modules\n"
        "env = gym.make('envs:warm_rl/TMaze-v0', length=3)\n"
        "import envs\n"
        "for env_id in envs.ALL_ENV_IDS:\n"
        "    gym.make('envs:' + env_id).reset(seed=0)\n"
        "heavy = {'torch', 'stable_baselines3', 'sb3_contrib', 'warm_rl', 'agents'}\n"
        "bad = heavy & set(sys.modules)\n"
        "assert not bad, bad\n"
        "print(type(env.unwrapped).__name__, env.unwrapped.length)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "TMaze 3"


# --------------------------------------------------------------------------- API conformance


@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_gymnasium_check_env(env_id, render_mode):
    env = make_raw(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env)


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_sb3_check_env(env_id):
    env = make_raw(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
def test_spaces(env_id, kwargs):
    env = make_raw(env_id, **kwargs)
    assert isinstance(env.observation_space, gym.spaces.Box)
    assert env.observation_space.dtype == np.float32
    assert isinstance(env.action_space, gym.spaces.Discrete | gym.spaces.Box)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs in env.observation_space
    assert obs.flags.writeable
    assert info == {}
    assert env.horizon >= 2 and env.max_return > 0


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_observations_are_owned_by_the_caller(env_id):
    """Held observations never change later, and writing to them does not affect the env."""
    env = make_raw(env_id)
    held = [env.reset(seed=3)[0]]
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(to_action(env, 0))
        held.append(obs)
        done = terminated or truncated
    snapshot = [obs.copy() for obs in held]
    reference = trajectory(make_raw(env_id), 4, [0] * 40)
    for obs in held:
        assert obs.flags.writeable
        obs[:] = 0.5
    assert trajectory(env, 4, [0] * 40) == reference
    for obs, saved in zip(held, snapshot, strict=True):
        obs[:] = saved
    run_episode(env, envs.oracle_action, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(held, snapshot, strict=True))


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_render_ansi(env_id):
    env = make_raw(env_id, render_mode="ansi")
    env.reset(seed=0)
    frames = [env.render()]
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(envs.oracle_action(env))
        done = terminated or truncated
        frames.append(env.render())
    assert all(isinstance(f, str) and f.startswith("step ") for f in frames)
    assert len(set(frames)) > 1
    assert "reward" in frames[-1]

    quiet = make_raw(env_id)
    quiet.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert quiet.render() is None


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
def test_render_rgb_array(env_id, kwargs):
    """uint8 (H, W, 3) frames of one size per env, that change whenever the drawn state does:
    at every step and reset of the sequence tasks; for the T-maze, whenever the agent moves or
    turns (a slip that leaves it in place redraws the same maze)."""
    env = make_raw(env_id, render_mode="rgb_array", **kwargs)

    def drawn_state(step: int) -> tuple:
        if isinstance(env, envs.TMaze):
            return (env._x, env._exit, env._goal)
        return (step,)

    frames = [env.render()]  # before the first reset too
    states = [("before reset",)]
    step = 0
    for seed in range(3):
        env.reset(seed=seed)
        frames.append(env.render())
        states.append(drawn_state(step := step + 1))
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(envs.oracle_action(env))
            done = terminated or truncated
            frames.append(env.render())
            states.append(drawn_state(step := step + 1))
    for frame in frames:
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.ndim == 3 and frame.shape == frames[0].shape and frame.shape[2] == 3
    for i in range(2, len(frames)):
        assert np.array_equal(frames[i - 1], frames[i]) == (states[i - 1] == states[i])
    # rendering does not touch the episode
    codes = list(range(60))
    assert trajectory(env, 7, codes) == trajectory(make_raw(env_id, **kwargs), 7, codes)


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_sb3_make_vec_env_with_defaults(env_id):
    """SB3's make_vec_env asks for render_mode="rgb_array" unless told otherwise."""
    venv = make_vec_env(env_id, n_envs=2, seed=0)
    assert venv.render_mode == "rgb_array"
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    n_done = 0
    for _ in range(max(40, make_raw(env_id).horizon)):
        actions = np.stack([venv.action_space.sample() for _ in range(2)])
        obs, rewards, dones, infos = venv.step(actions)
        assert obs.shape == (2, *venv.observation_space.shape) and rewards.shape == (2,)
        n_done += int(dones.sum())
    assert n_done > 0
    images = venv.get_images()
    assert len(images) == 2 and all(img.dtype == np.uint8 and img.ndim == 3 for img in images)
    assert venv.render().dtype == np.uint8
    venv.close()


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_step_before_reset_and_after_end_raise(env_id):
    env = make_raw(env_id)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(to_action(env, 0))
    run_episode(env, envs.oracle_action, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(to_action(env, 0))


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_vector_env(env_id):
    venv = gym.vector.SyncVectorEnv([lambda: gym.make(env_id)] * 8)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, *venv.single_observation_space.shape)
    venv.action_space.seed(0)
    n_done = 0
    for _ in range(max(60, make_raw(env_id).horizon)):
        obs, reward, terminated, truncated, _ = venv.step(venv.action_space.sample())
        assert obs in venv.observation_space
        n_done += int(np.sum(terminated | truncated))
    assert n_done > 0
    venv.close()


# --------------------------------------------------------------------------- arguments


BAD_KWARGS = [
    ("warm_rl/TMaze-v0", {"length": 1}, ValueError, r"length must be an integer >= 2, got 1"),
    ("warm_rl/TMaze-v0", {"length": 4.0}, TypeError, r"length must be an integer >= 2"),
    ("warm_rl/TMaze-v0", {"length": True}, TypeError, r"length must be an integer >= 2"),
    ("warm_rl/TMaze-v0", {"stochasticity": 1.0}, ValueError, r"stochasticity .* \[0, 1\)"),
    ("warm_rl/TMaze-v0", {"stochasticity": -0.1}, ValueError, r"stochasticity .* \[0, 1\)"),
    ("warm_rl/TMaze-v0", {"stochasticity": "0.1"}, TypeError, r"stochasticity .* \[0, 1\)"),
    ("warm_rl/TMaze-v0", {"stochasticity": math.nan}, ValueError, r"stochasticity"),
    ("warm_rl/CopyFirst-v0", {"n_symbols": 1}, ValueError, r"n_symbols must be an integer >= 2"),
    ("warm_rl/CopyFirst-v0", {"delay": -1}, ValueError, r"delay must be an integer >= 0"),
    ("warm_rl/CopyFirst-v0", {"distractor": "zeros"}, ValueError, r"distractor must be one of"),
    ("warm_rl/DelayedMatch-v0", {"n_cues": 1}, ValueError, r"n_cues must be an integer >= 2"),
    ("warm_rl/DelayedMatch-v0", {"min_delay": -2}, ValueError, r"min_delay .* >= 0, got -2"),
    ("warm_rl/DelayedMatch-v0", {"min_delay": 8, "max_delay": 7}, ValueError, r"max_delay .* >= 8"),
    ("warm_rl/CueRecall-v0", {"n_cues": 0}, ValueError, r"n_cues must be an integer >= 1"),
    ("warm_rl/CueRecall-v0", {"length": 2, "n_cues": 3}, ValueError, r"length .* >= 3, got 2"),
    ("warm_rl/CueRecall-v0", {"n_values": 1}, ValueError, r"n_values must be an integer >= 2"),
    ("warm_rl/CopyFirstContinuous-v0", {"delay": -1}, ValueError, r"delay must be .* >= 0"),
    ("warm_rl/RepeatPrevious-v0", {"n_symbols": 1}, ValueError, r"n_symbols must be an integer >= 2, got 1"),
    ("warm_rl/RepeatPrevious-v0", {"k": -1}, ValueError, r"k must be an integer >= 0, got -1"),
    ("warm_rl/RepeatPrevious-v0", {"k": 2.0}, TypeError, r"k must be an integer >= 0, got 2.0"),
    ("warm_rl/RepeatPrevious-v0", {"k": 4, "length": 4}, ValueError, r"length must be an integer >= 5, got 4"),
    ("warm_rl/RepeatPrevious-v0", {"k": 0, "length": 1}, ValueError, r"length must be an integer >= 2, got 1"),
    ("warm_rl/CountEvents-v0", {"length": 1}, ValueError, r"length must be an integer >= 2, got 1"),
    ("warm_rl/CountEvents-v0", {"p": 0}, ValueError, r"p must be a number in \(0, 1\), got 0.0"),
    ("warm_rl/CountEvents-v0", {"p": 1.0}, ValueError, r"p must be a number in \(0, 1\), got 1.0"),
    ("warm_rl/CountEvents-v0", {"p": math.nan}, ValueError, r"p must be a number in \(0, 1\), got nan"),
    ("warm_rl/CountEvents-v0", {"p": "0.2"}, TypeError, r"p must be a number in \(0, 1\), got '0.2'"),
    ("warm_rl/CountEvents-v0", {"max_count": 0}, ValueError, r"max_count must be an integer >= 1, got 0"),
    ("warm_rl/CountEvents-v0", {"report": "sum"}, ValueError, r"report must be one of \['clip', 'modulo'\], got 'sum'"),
    ("warm_rl/KeyValueRecall-v0", {"n_pairs": 0}, ValueError, r"n_pairs must be an integer >= 1, got 0"),
    ("warm_rl/KeyValueRecall-v0", {"n_pairs": 4, "n_keys": 3}, ValueError, r"n_keys .* >= 4, got 3"),
    ("warm_rl/KeyValueRecall-v0", {"n_pairs": 1, "n_keys": 1}, ValueError, r"n_keys .* >= 2, got 1"),
    ("warm_rl/KeyValueRecall-v0", {"n_values": 1}, ValueError, r"n_values must be an integer >= 2, got 1"),
    ("warm_rl/KeyValueRecall-v0", {"delay": -3}, ValueError, r"delay must be an integer >= 0, got -3"),
    ("warm_rl/HiddenVelocityPendulum-v0", {"noise_std": -0.1}, ValueError, r"noise_std .* number >= 0, got -0.1"),
    ("warm_rl/HiddenVelocityPendulum-v0", {"noise_std": math.inf}, ValueError, r"noise_std .* got inf"),
    ("warm_rl/HiddenVelocityPendulum-v0", {"noise_std": None}, TypeError, r"noise_std .* >= 0, got None"),
    ("warm_rl/HiddenVelocityPendulum-v0", {"time_limit": 1}, ValueError, r"time_limit must be an integer >= 2, got 1"),
    ("warm_rl/HiddenVelocityPendulum-v0", {"time_limit": 99.5}, TypeError, r"time_limit .* got 99.5"),
] + [(e, {"render_mode": "depth_array"}, ValueError, r"render_mode") for e in sorted(EXPECTED_IDS)]


@pytest.mark.filterwarnings("ignore:.*render_mode='depth_array' that is not in the possible")
@pytest.mark.parametrize(
    ("env_id", "kwargs", "error", "match"),
    BAD_KWARGS,
    ids=[f"{e.split('/')[1]}-{'-'.join(map(str, kw.items()))}" for e, kw, *_ in BAD_KWARGS],
)
def test_bad_kwargs_raise(env_id, kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_human_render_mode(env_id):
    """The classes reject "human"; gym.make turns it into gymnasium's HumanRendering wrapper
    around the rgb_array mode."""
    with pytest.raises(ValueError, match=r"render_mode must be None or one of \['ansi', 'rgb_ar"):
        type(make_raw(env_id))(render_mode="human")
    with pytest.warns(UserWarning, match="HumanRendering"):
        env = gym.make(env_id, render_mode="human")
    assert isinstance(env, gym.wrappers.HumanRendering)
    assert env.unwrapped.render_mode == "rgb_array"


def test_numpy_integer_kwargs_accepted():
    env = gym.make("warm_rl/TMaze-v0", length=np.int64(4), stochasticity=np.float32(0.25))
    assert env.unwrapped.length == 4 and isinstance(env.unwrapped.length, int)


@pytest.mark.parametrize("env_id", sorted(EXPECTED_IDS - CONTINUOUS_IDS))
def test_bad_discrete_actions_raise(env_id):
    env = make_raw(env_id)
    env.reset(seed=0)
    n = env.action_space.n
    with pytest.raises(ValueError, match=rf"action must be an integer in \[0, {n - 1}\]"):
        env.step(n)
    with pytest.raises(ValueError, match="action"):
        env.step(-1)
    with pytest.raises(TypeError, match="action"):
        env.step(0.5)
    env.step(np.int64(0))  # numpy integers and 0-d arrays are fine
    env.step(np.array(0))


@pytest.mark.parametrize("action", [np.array([np.nan]), np.array([0.1, 0.2]), "a", None])
@pytest.mark.parametrize("env_id", sorted(CONTINUOUS_IDS))
def test_bad_continuous_actions_raise(env_id, action):
    env = make_raw(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


# Options each task supports, with valid values (the other tasks take none).
VALID_OPTIONS: dict[str, dict[str, Any]] = {
    "warm_rl/TMaze-v0": {"goal": 1},
    "warm_rl/HiddenVelocityPendulum-v0": {"angle": 0.5, "speed": -0.25},
}


@pytest.mark.parametrize("render_mode", ["depth_array", "ANSI", "", 3])
@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_bad_render_mode_raises_at_construction(env_id, render_mode):
    cls = type(make_raw(env_id))
    with pytest.raises(ValueError, match=rf"render_mode must be None or one of .*got {re.escape(repr(render_mode))}"):
        cls(render_mode=render_mode)
    for ok in (None, *cls.metadata["render_modes"]):
        assert cls(render_mode=ok).render_mode == ok


@pytest.mark.parametrize("options", [[("goal", 0)], "goal", 0, ("angle",), {"goal"}])
@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_reset_options_must_be_a_dict(env_id, options):
    env = make_raw(env_id)
    with pytest.raises(TypeError, match=rf"options must be None or a dict, got {re.escape(repr(options))}"):
        env.reset(seed=0, options=options)
    with pytest.raises(RuntimeError, match="reset"):  # a refused reset() starts no episode
        env.step(to_action(env, 0))


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_unknown_reset_options_raise(env_id):
    env = make_raw(env_id)
    valid = VALID_OPTIONS.get(env_id, {})
    with pytest.raises(ValueError, match=r"unknown reset\(\) option\(s\) \['bogus', 'Goal'\]") as info:
        env.reset(seed=0, options={**valid, "bogus": 1, "Goal": 0})
    for key in valid:  # the known keys are named as the allowed ones, not as unknown
        assert repr(key) in str(info.value).split(":")[-1]
    if not valid:
        assert "takes no options" in str(info.value)
    # None, {} and the supported options still work
    for options in (None, {}, valid):
        obs, reset_info = env.reset(seed=0, options=options)
        assert obs in env.observation_space and reset_info == {}
    env.step(to_action(env, 0))


def test_supported_reset_options_take_effect():
    tmaze = make_raw("warm_rl/TMaze-v0")
    assert tmaze.reset(seed=0, options={"goal": 1})[0].tolist() == [0.0, 1.0, 0.0, 0.0]
    pendulum = make_raw("warm_rl/HiddenVelocityPendulum-v0")
    pendulum.reset(seed=0, options={"angle": 0.5, "speed": -0.25})
    assert pendulum._angle == pytest.approx(0.5) and pendulum._speed == pytest.approx(-0.25)


@pytest.mark.parametrize("action", [True, False, np.bool_(True), np.bool_(False), np.array(True)])
@pytest.mark.parametrize("env_id", sorted(EXPECTED_IDS - CONTINUOUS_IDS))
def test_bool_discrete_actions_raise(env_id, action):
    env = make_raw(env_id)
    env.reset(seed=0)
    n = env.action_space.n
    with pytest.raises(TypeError, match=rf"action must be an integer in \[0, {n - 1}\].*got {re.escape(repr(action))}"):
        env.step(action)
    env.step(1)  # the refused step did not count


@pytest.mark.parametrize("action", [np.array([0]), np.zeros((1, 1), dtype=np.int64), [0], (0, 1), [[0], [0, 1]]])
@pytest.mark.parametrize("env_id", sorted(EXPECTED_IDS - CONTINUOUS_IDS))
def test_wrongly_shaped_discrete_actions_raise(env_id, action):
    env = make_raw(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be a single integer .*\(shape \(\)\), got .* of shape"):
        env.step(action)


@pytest.mark.parametrize("action", [np.zeros((1, 1)), np.zeros(0), [[0.5]], np.float32(0.5), 0.5])
@pytest.mark.parametrize("env_id", sorted(CONTINUOUS_IDS))
def test_wrongly_shaped_continuous_actions_raise(env_id, action):
    env = make_raw(env_id)
    env.reset(seed=0)
    match = rf"action must hold one finite number \(shape \(1,\)\), got {re.escape(repr(action))}"
    with pytest.raises(ValueError, match=match):
        env.step(action)


@pytest.mark.parametrize("env_id", envs.TASK_IDS)
def test_oracle_and_step_before_reset_raise(env_id):
    env = gym.make(env_id)  # wrapped: the oracle looks through the wrappers
    with pytest.raises(RuntimeError, match=r"oracle_action\(\) called before reset\(\): call reset\(\) first"):
        envs.oracle_action(env)
    with pytest.raises(RuntimeError, match=r"step\(\) called before reset\(\): call reset\(\) first"):
        env.unwrapped.step(to_action(env.unwrapped, 0))
    env.reset(seed=0)
    assert envs.oracle_action(env) in env.action_space


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
def test_same_seed_same_episodes(env_id, kwargs):
    codes = np.random.default_rng(1).integers(0, 2**20, size=300).tolist()
    a = trajectory(make_raw(env_id, **kwargs), 123, codes)
    b = trajectory(make_raw(env_id, **kwargs), 123, codes)
    assert a == b
    env = make_raw(env_id, **kwargs)
    assert trajectory(env, 123, codes) == trajectory(env, 123, codes)  # reseeding resets
    others = [trajectory(make_raw(env_id, **kwargs), seed, codes) for seed in range(5)]
    assert any(other != a for other in others)


# --------------------------------------------------------------------------- returns


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
def test_oracle_reaches_max_return(env_id, kwargs):
    env = make_raw(env_id, **kwargs)
    if isinstance(env, envs.HiddenVelocityPendulum):  # the documented threshold instead
        assert env.time_limit >= 200
        episodes = [run_episode(env, envs.oracle_action, seed=seed) for seed in range(30)]
        assert all(info["is_success"] and steps == env.horizon for _, steps, info in episodes)
        assert np.mean([total for total, _, _ in episodes]) >= 0.85 * env.max_return
        return
    slips = isinstance(env, envs.TMaze) and env.stochasticity > 0
    successes = 0
    for seed in range(30):
        total, steps, info = run_episode(env, envs.oracle_action, seed=seed)
        assert steps <= env.horizon
        if slips:  # random slips may waste steps or bump, but never cause a wrong turn
            assert total <= env.max_return
            assert info["is_success"] or steps == env.horizon
            successes += info["is_success"]
        else:
            assert total == env.max_return
            assert info["is_success"] is True
    assert successes > 0 or not slips


def test_oracle_works_through_wrappers_and_rejects_foreign_envs():
    env = gym.make("warm_rl/CopyFirst-v0", delay=3)
    total, _, _ = run_episode(env, envs.oracle_action, seed=0)
    assert total == 1.0
    with pytest.raises(TypeError, match="no oracle"):
        envs.oracle_action(gym.make("CartPole-v1"))


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
def test_random_policy_falls_short(env_id, kwargs):
    env = make_raw(env_id, **kwargs)
    env.action_space.seed(0)
    returns, successes = [], []
    for seed in range(min(1500, 60_000 // env.horizon)):  # the pendulum's episodes are long
        total, _, info = run_episode(env, lambda e: e.action_space.sample(), seed=seed)
        returns.append(total)
        successes.append(info["is_success"])
    mean = float(np.mean(returns))
    assert mean < 0.8 * env.max_return
    assert 0.0 <= np.mean(successes) < 0.8
    if env_id in RANDOM_MEAN:
        assert mean == pytest.approx(RANDOM_MEAN[env_id](env), abs=0.04 * env.max_return)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), codes=st.lists(st.integers(0, 2**20), max_size=150))
def test_random_action_sequences_respect_the_contract(env_id, kwargs, seed, codes):
    env = make_raw(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    assert obs in env.observation_space
    steps, total = 0, 0.0
    for code in codes:
        obs, reward, terminated, truncated, info = env.step(to_action(env, code))
        steps += 1
        total += reward
        assert obs.dtype == np.float32 and obs in env.observation_space
        assert isinstance(reward, float) and reward_allowed(env, reward)
        assert isinstance(terminated, bool) and isinstance(truncated, bool)
        assert not (terminated and truncated)
        assert steps <= env.horizon
        if truncated:
            assert steps == env.horizon  # truncation happens exactly at the horizon
        done = terminated or truncated
        assert ("is_success" in info) == done
        if not isinstance(env, PAY_AS_THEY_GO):
            assert done or reward == 0.0  # sparse: the only reward is the last one
        if done:
            assert isinstance(info["is_success"], bool)
            if isinstance(env, envs.RepeatPrevious):
                assert info["is_success"] == (total == env.max_return)
            elif not isinstance(env, envs.CopyFirstContinuous | envs.HiddenVelocityPendulum):
                assert info["is_success"] == (reward == env.max_return)
            obs, _ = env.reset()
            steps, total = 0, 0.0


# --------------------------------------------------------------------------- task specifics


@pytest.mark.parametrize("distractor", ["noise", "symbols"])
def test_copy_first_timeline(distractor):
    env = make_raw("warm_rl/CopyFirst-v0", n_symbols=3, delay=6, distractor=distractor)
    for seed in range(20):
        first, _ = env.reset(seed=seed)
        assert first[:3].sum() == 1 and first[3] == 0 and first[4] == 0
        target = int(first[:3].argmax())
        observations = [env.step(0)[0] for _ in range(7)]
        *distractors, query = observations
        assert np.array_equal(query, [0, 0, 0, 0, 1])
        for obs in distractors:
            assert obs[4] == 0
            if distractor == "noise":
                assert obs[:3].sum() == 0 and -1 <= obs[3] <= 1 and obs[3] != 0
            else:
                assert obs[:3].sum() == 1 and obs[3] == 0
        _, reward, terminated, _, info = env.step(target)
        assert (reward, terminated, info["target"]) == (1.0, True, target)


def test_delayed_match_statistics_and_timeline():
    env = make_raw("warm_rl/DelayedMatch-v0", n_cues=3, min_delay=2, max_delay=5)
    matches, delays = [], []
    for seed in range(600):
        sample, _ = env.reset(seed=seed)
        assert sample[3] == 0 and sample[:3].sum() == 1
        t = 0
        while True:
            obs, *_ = env.step(0)
            t += 1
            if obs[3] == 1:
                break
            assert not obs.any()  # blank delay
        delays.append(t - 1)
        is_match = bool(np.array_equal(obs[:3], sample[:3]))
        _, reward, terminated, _, info = env.step(int(is_match))
        assert terminated and reward == 1.0 and info["match"] == is_match
        matches.append(is_match)
    assert set(delays) == {2, 3, 4, 5}
    assert np.mean(matches) == pytest.approx(0.5, abs=0.06)


def test_cue_recall_timeline_and_partial_credit():
    env = make_raw("warm_rl/CueRecall-v0", length=12, n_cues=4, n_values=5)
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        stream = [obs]
        for _ in range(11):
            stream.append(env.step(0)[0])
        stream = np.array(stream)
        assert (stream[:, :5].sum(axis=1) == 1).all() and not stream[:, 6].any()
        assert stream[:, 5].sum() == 4
        cues = stream[stream[:, 5] == 1, :5].argmax(axis=1).tolist()
        obs, reward, terminated, _, _ = env.step(0)  # the action at the last stream step
        assert np.array_equal(obs, [0, 0, 0, 0, 0, 0, 1]) and reward == 0 and not terminated
        # answer the first two right and the last two wrong: reward 2/4
        answers = cues[:2] + [(c + 1) % 5 for c in cues[2:]]
        for k, answer in enumerate(answers):
            obs, reward, terminated, _, info = env.step(answer)
            last = k == 3
            assert terminated == last
            if not last:
                assert np.array_equal(obs, [0, 0, 0, 0, 0, 0, 1])
        assert reward == 0.5 and info == {"is_success": False, "n_correct": 2}


def test_copy_first_continuous_reward_and_clipping():
    env = make_raw("warm_rl/CopyFirstContinuous-v0", delay=2)
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        cue = float(obs[0])
        for _ in range(3):  # two distractors, then the query
            obs, *_ = env.step(np.zeros(1, np.float32))
        assert np.array_equal(obs, [0, 1])
        answer = cue - 0.25 if cue > 0 else cue + 0.25  # stays inside [-1, 1]
        _, reward, terminated, _, info = env.step(np.array([answer], np.float32))
        assert terminated and reward == pytest.approx(0.75, abs=1e-6) and not info["is_success"]
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros(1, np.float32))
    target = env.unwrapped._target
    _, reward, *_ = env.step(np.array([5.0], np.float32))  # clipped to 1
    assert reward == pytest.approx(1.0 - abs(1.0 - target))


def lagged_policy(lag: int):
    """A RepeatPrevious policy that names the symbol seen ``lag`` steps ago (0 before that)."""
    seen: list[int] = []

    def policy(env):
        if env._t == 0:
            seen.clear()
        seen.append(int(env._episode[env._t].argmax()))  # what the agent was just shown
        return seen[-1 - lag] if len(seen) > lag else 0

    return policy


@pytest.mark.parametrize("k", [0, 1, 4])
def test_repeat_previous_scores_the_symbol_k_steps_back(k):
    env = make_raw("warm_rl/RepeatPrevious-v0", n_symbols=3, k=k, length=12)
    assert env.max_return == 12 - k and env.horizon == 12
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        shown, rewards = [int(obs.argmax())], []
        for t in range(12):
            answer = shown[t - k] if t >= k else 0
            obs, reward, terminated, truncated, info = env.step(answer)
            rewards.append(reward)
            assert terminated == (t == 11) and not truncated
            if not terminated:
                assert obs.sum() == 1
                shown.append(int(obs.argmax()))
        assert not obs.any()  # the final observation is blank
        assert rewards == [0.0] * k + [1.0] * (12 - k)
        assert info == {"is_success": True, "n_correct": 12 - k}
    # the lag is what is rewarded: remembering one step too many or too few pays about nothing
    for lag in (k - 1, k + 1):
        if lag >= 0:
            totals = [run_episode(env, lagged_policy(lag), seed=s)[0] for s in range(300)]
            assert np.mean(totals) == pytest.approx(env.max_return * (2 / 3 - 1), abs=0.5)
    assert all(run_episode(env, lagged_policy(k), seed=s)[0] == env.max_return for s in range(20))


def test_repeat_previous_wrong_answers_cost_one():
    env = make_raw("warm_rl/RepeatPrevious-v0", n_symbols=4, k=2, length=6)
    env.reset(seed=0)
    due = [env._symbols[t - 2] for t in range(2, 6)]
    rewards = [env.step(0)[1], env.step(0)[1]] + [env.step((d + 1) % 4)[1] for d in due]
    assert rewards == [0.0, 0.0, -1.0, -1.0, -1.0, -1.0]


@pytest.mark.parametrize("report", ["clip", "modulo"])
def test_count_events_counts_every_event(report):
    env = make_raw("warm_rl/CountEvents-v0", length=15, p=0.5, max_count=3, report=report)
    assert env.action_space.n == 4
    seen_classes = set()
    for seed in range(40):
        obs, _ = env.reset(seed=seed)
        observations = [obs]
        for _ in range(14):
            obs, reward, terminated, _, _ = env.step(0)
            assert reward == 0 and not terminated
            observations.append(obs)
        observations = np.array(observations)
        assert observations[:, 1].tolist() == [0.0] * 14 + [1.0]  # only the last step is marked
        count = int(observations[:, 0].sum())
        target = min(count, 3) if report == "clip" else count % 4
        seen_classes.add(target)
        for wrong in (target + 1) % 4, (target + 2) % 4:  # any wrong class fails
            env.reset(seed=seed)
            for _ in range(14):
                env.step(target)  # actions before the last step are ignored
            assert env.step(wrong)[1] == 0.0
        env.reset(seed=seed)
        for _ in range(14):
            env.step(wrong)
        obs, reward, terminated, _, info = env.step(target)
        assert not obs.any() and terminated and reward == 1.0
        assert info == {"is_success": True, "count": count, "target": target}
    assert seen_classes == {0, 1, 2, 3} or report == "clip"


def test_count_events_rate_follows_p():
    for p in (0.1, 0.5):
        env = make_raw("warm_rl/CountEvents-v0", length=40, p=p, max_count=40)
        counts = []
        for seed in range(200):
            env.reset(seed=seed)
            counts.append(env._count)
        assert np.mean(counts) == pytest.approx(40 * p, rel=0.1)


def test_key_value_recall_timeline():
    env = make_raw("warm_rl/KeyValueRecall-v0", n_pairs=4, n_keys=5, n_values=3, delay=2)
    assert env.horizon == 7 and env.observation_space.shape == (9,)
    for seed in range(30):
        obs, _ = env.reset(seed=seed)
        observations = [obs] + [env.step(0)[0] for _ in range(6)]
        pairs, delay, query = observations[:4], observations[4:6], observations[6]
        binding = {}
        for pair in pairs:
            assert pair[:5].sum() == 1 and pair[5:8].sum() == 1 and pair[8] == 0
            binding[int(pair[:5].argmax())] = int(pair[5:8].argmax())
        assert len(binding) == 4  # distinct keys
        assert not np.any(delay)
        assert query[:5].sum() == 1 and not query[5:8].any() and query[8] == 1
        key = int(query[:5].argmax())
        assert key in binding
        _, reward, terminated, _, info = env.step(binding[key])
        assert terminated and reward == 1.0 and info == {"is_success": True, "key": key, "target": binding[key]}
    # the query is drawn among all the pairs, not the last one
    queried = []
    for seed in range(200):
        env.reset(seed=seed)
        queried.append(env._query)
    assert set(queried) == {0, 1, 2, 3}


def test_key_value_recall_horizon_follows_n_pairs_and_delay():
    for n_pairs, delay in [(1, 0), (3, 0), (3, 7), (8, 1)]:
        env = make_raw("warm_rl/KeyValueRecall-v0", n_pairs=n_pairs, n_keys=8, delay=delay)
        _, steps, _ = run_episode(env, envs.oracle_action, seed=0)
        assert steps == env.horizon == n_pairs + delay + 1


@pytest.mark.parametrize("n_pairs", [1, 2, 4])
def test_key_value_recall_needs_every_pair(n_pairs):
    """Remembering only the last pair gets the documented 1/n_pairs + (1 - 1/n_pairs)/n_values."""
    env = make_raw("warm_rl/KeyValueRecall-v0", n_pairs=n_pairs, n_keys=6, n_values=4, delay=1)
    last_value = lambda e: int(e._values[-1])  # noqa: E731 (the value the last pair showed)
    mean = np.mean([run_episode(env, last_value, seed=seed)[0] for seed in range(1000)])
    assert mean == pytest.approx(1 / n_pairs + (1 - 1 / n_pairs) / 4, abs=0.04)


PENDULUM = "warm_rl/HiddenVelocityPendulum-v0"


def test_pendulum_physics():
    from envs.hidden_velocity_pendulum import COST_SCALE, wrap_angle

    env = make_raw(PENDULUM, time_limit=50)
    # upright at rest, no torque: it stays, at the best reward
    env.reset(seed=0, options={"angle": 0.0, "speed": 0.0})
    for _ in range(50):
        obs, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
        assert np.array_equal(obs, [1.0, 0.0]) and reward == 1.0 and not terminated
    assert truncated and info == {"is_success": True}
    # hanging at rest, no torque: it stays down, at the cost of pi^2
    env.reset(seed=0, options={"angle": np.pi, "speed": 0.0})
    obs, reward, *_ = env.step(np.zeros(1, np.float32))
    assert obs == pytest.approx([-1.0, 0.0], abs=1e-6)
    assert reward == pytest.approx(1 - np.pi**2 / COST_SCALE)
    # one semi-implicit Euler step; actions beyond [-1, 1] are clipped
    for action in (1.0, 7.0):
        env.reset(seed=0, options={"angle": 1.0, "speed": 0.5})
        obs, reward, *_ = env.step(np.array([action], np.float32))
        speed = 0.5 + 0.05 * (10.0 * np.sin(1.0) + 2.0)
        assert env.state == pytest.approx((1.0 + 0.05 * speed, speed))
        assert obs == pytest.approx([np.cos(1.0 + 0.05 * speed), np.sin(1.0 + 0.05 * speed)], abs=1e-6)
        assert reward == pytest.approx(1 - (1.0 + 0.1 * 0.25 + 0.004) / COST_SCALE)
    # the speed saturates, the angle wraps
    env.reset(seed=0, options={"angle": 3.0, "speed": 50.0})
    env.step(np.ones(1, np.float32))
    angle, speed = env.state
    assert speed == 8.0 and angle == pytest.approx(wrap_angle(3.0 + 0.4)) and -np.pi <= angle < np.pi
    with pytest.raises(TypeError, match=r"options\['angle'\]"):
        env.reset(options={"angle": "up"})


def test_pendulum_time_limit_and_success_window():
    env = make_raw(PENDULUM, time_limit=2)
    env.reset(seed=0, options={"angle": 0.0, "speed": 0.0})
    assert env.step(np.zeros(1, np.float32))[2:4] == (False, False)
    *_, terminated, truncated, info = env.step(np.zeros(1, np.float32))
    assert (terminated, truncated, info) == (False, True, {"is_success": True})
    env = make_raw(PENDULUM, time_limit=8)  # success: upright after each of steps 6, 7 and 8
    for hanging, success in [(5, True), (6, False)]:
        env.reset(seed=0, options={"angle": np.pi, "speed": 0.0})
        for _ in range(hanging):
            env.step(np.zeros(1, np.float32))
        env._angle, env._speed = 0.0, 0.0  # teleported to the top
        info = [env.step(np.zeros(1, np.float32))[4] for _ in range(8 - hanging)][-1]
        assert info == {"is_success": success}


@pytest.mark.parametrize("noise_std", [0.0, 0.05, 0.3])
def test_pendulum_observations_hide_the_speed_behind_noise(noise_std):
    env = make_raw(PENDULUM, noise_std=noise_std)
    assert env.observation_space.shape == (2,)
    assert env.observation_space.high[0] == np.float32(1 + 4 * noise_std)
    env.reset(seed=1)
    errors = []
    for _ in range(200):
        angle = env.state[0]
        obs = env._obs
        errors.append(obs - np.array([np.cos(angle), np.sin(angle)], np.float32))
        env.step(envs.oracle_action(env))
    errors = np.array(errors)
    if noise_std == 0:
        assert np.abs(errors).max() < 1e-6
    else:
        assert errors.std() == pytest.approx(noise_std, rel=0.15)
        assert abs(errors.mean()) < noise_std / 5


def two_reading_policy():
    """The oracle's controller fed with the speed estimated from the last two readings."""
    from envs.hidden_velocity_pendulum import BALANCE_ANGLE, KD, KP, wrap_angle

    previous: list[float] = []

    def policy(env):
        if env._t == 0:
            previous.clear()
        angle = float(np.arctan2(env._obs[1], env._obs[0]))
        speed = wrap_angle(angle - previous[-1]) / 0.05 if previous else 0.0
        previous.append(angle)
        if abs(angle) < BALANCE_ANGLE:
            return np.array([np.clip(-(KP * angle + KD * speed) / 2.0, -1, 1)], np.float32)
        excess = 0.5 * speed**2 + 10.0 * (np.cos(angle) - 1.0)
        return np.array([1.0 if excess * speed <= 0 else -1.0], np.float32)

    return policy


def test_pendulum_needs_memory_and_noise_makes_it_harder():
    clean, noisy = make_raw(PENDULUM), make_raw(PENDULUM, noise_std=0.05)

    def success_rate(env, policy, n=20):
        return np.mean([run_episode(env, policy, seed=seed)[2]["is_success"] for seed in range(n)])

    # one step of memory is enough without noise, not with it
    assert success_rate(clean, two_reading_policy()) == 1.0
    assert success_rate(noisy, two_reading_policy()) <= 0.1
    # a memoryless policy (torque from the current reading only) does not swing it up
    assert success_rate(clean, lambda e: np.clip(-5 * e._obs[1:], -1, 1).astype(np.float32)) <= 0.1


# --------------------------------------------------------------------------- benchmark


def test_steps_per_second_runs_every_mode():
    for mode in ("raw", "make", "sync"):
        assert steps_per_second("warm_rl/TMaze-v0", mode, n_steps=200, num_envs=2) > 0
    assert steps_per_second("warm_rl/CopyFirstContinuous-v0", "sync", n_steps=50) > 0
    with pytest.raises(ValueError, match="mode"):
        steps_per_second("warm_rl/TMaze-v0", "async")


def test_bench_script_smoke():
    result = subprocess.run(
        [sys.executable, "scripts/speed_envs.py", "--steps", "100", "--num-envs", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `warm_rl/")]
    assert len(rows) == len(envs.TASK_IDS)


def test_a_memory_task_must_draw_episodes_and_render():
    from envs._episode import MemoryTask

    class OnlyDraws(MemoryTask[int]):
        def _new_episode(self, options):
            return np.zeros(1, dtype=np.float32)

    with pytest.raises(TypeError, match="_render_rgb"):
        OnlyDraws()

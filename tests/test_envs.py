"""Tests of the memory tasks in ``envs``: API conformance, determinism, oracle, properties.

T-maze specifics live in ``tests/test_tmaze.py``.
"""

from __future__ import annotations

import importlib
import math
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
}

# Every id with its defaults, plus variants at the edges of each difficulty knob.
CASES: list[tuple[str, dict[str, Any]]] = [(env_id, {}) for env_id in envs.ALL_ENV_IDS] + [
    ("warm_rl/TMaze-v0", {"length": 2}),
    ("warm_rl/TMaze-v0", {"length": 5, "stochasticity": 0.5}),
    ("warm_rl/CopyFirst-v0", {"delay": 0, "n_symbols": 2}),
    ("warm_rl/CopyFirst-v0", {"delay": 7, "n_symbols": 3, "distractor": "symbols"}),
    ("warm_rl/DelayedMatch-v0", {"n_cues": 2, "min_delay": 0, "max_delay": 0}),
    ("warm_rl/DelayedMatch-v0", {"n_cues": 5, "min_delay": 3, "max_delay": 30}),
    ("warm_rl/CueRecall-v0", {"length": 1, "n_cues": 1, "n_values": 2}),
    ("warm_rl/CueRecall-v0", {"length": 6, "n_cues": 6, "n_values": 3}),
    ("warm_rl/CopyFirstContinuous-v0", {"delay": 0}),
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
}


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
    assert set(envs.ALL_ENV_IDS) == EXPECTED_IDS
    assert len(envs.ALL_ENV_IDS) == len(EXPECTED_IDS)
    for env_id in envs.ALL_ENV_IDS:
        assert env_id in gym.registry
        assert gym.spec(env_id).namespace == "warm_rl"


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
@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
def test_gymnasium_check_env(env_id, render_mode):
    env = make_raw(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env)


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
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


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
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


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
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


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
def test_sb3_make_vec_env_with_defaults(env_id):
    """SB3's make_vec_env asks for render_mode="rgb_array" unless told otherwise."""
    venv = make_vec_env(env_id, n_envs=2, seed=0)
    assert venv.render_mode == "rgb_array"
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    n_done = 0
    for _ in range(40):
        actions = np.stack([venv.action_space.sample() for _ in range(2)])
        obs, rewards, dones, infos = venv.step(actions)
        assert obs.shape == (2, *venv.observation_space.shape) and rewards.shape == (2,)
        n_done += int(dones.sum())
    assert n_done > 0
    images = venv.get_images()
    assert len(images) == 2 and all(img.dtype == np.uint8 and img.ndim == 3 for img in images)
    assert venv.render().dtype == np.uint8
    venv.close()


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
def test_step_before_reset_and_after_end_raise(env_id):
    env = make_raw(env_id)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(to_action(env, 0))
    run_episode(env, envs.oracle_action, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(to_action(env, 0))


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
def test_vector_env(env_id):
    venv = gym.vector.SyncVectorEnv([lambda: gym.make(env_id)] * 8)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, *venv.single_observation_space.shape)
    venv.action_space.seed(0)
    n_done = 0
    for _ in range(60):
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
] + [(e, {"render_mode": "depth_array"}, ValueError, r"render_mode") for e in EXPECTED_IDS]


@pytest.mark.filterwarnings("ignore:.*render_mode='depth_array' that is not in the possible")
@pytest.mark.parametrize(
    ("env_id", "kwargs", "error", "match"),
    BAD_KWARGS,
    ids=[f"{e.split('/')[1]}-{'-'.join(map(str, kw.items()))}" for e, kw, *_ in BAD_KWARGS],
)
def test_bad_kwargs_raise(env_id, kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize("env_id", envs.ALL_ENV_IDS)
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


@pytest.mark.parametrize("env_id", sorted(EXPECTED_IDS - {"warm_rl/CopyFirstContinuous-v0"}))
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


@pytest.mark.parametrize("action", [np.array([np.nan]), np.array([0.1, 0.2]), "a"])
def test_bad_continuous_actions_raise(action):
    env = make_raw("warm_rl/CopyFirstContinuous-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


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
    for seed in range(1500):
        total, _, info = run_episode(env, lambda e: e.action_space.sample(), seed=seed)
        returns.append(total)
        successes.append(info["is_success"])
    mean = float(np.mean(returns))
    assert mean < 0.8 * env.max_return
    assert 0.0 <= np.mean(successes) < 0.8
    if env_id in RANDOM_MEAN:
        assert mean == pytest.approx(RANDOM_MEAN[env_id](env), abs=0.04)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=CASE_IDS)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), codes=st.lists(st.integers(0, 2**20), max_size=150))
def test_random_action_sequences_respect_the_contract(env_id, kwargs, seed, codes):
    env = make_raw(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    assert obs in env.observation_space
    steps = 0
    for code in codes:
        obs, reward, terminated, truncated, info = env.step(to_action(env, code))
        steps += 1
        assert obs.dtype == np.float32 and obs in env.observation_space
        assert isinstance(reward, float) and reward_allowed(env, reward)
        assert isinstance(terminated, bool) and isinstance(truncated, bool)
        assert not (terminated and truncated)
        assert steps <= env.horizon
        if truncated:
            assert steps == env.horizon  # truncation happens exactly at the horizon
        done = terminated or truncated
        assert ("is_success" in info) == done
        if not isinstance(env, envs.TMaze):
            assert done or reward == 0.0  # sparse: the only reward is the last one
        if done:
            assert isinstance(info["is_success"], bool)
            assert info["is_success"] == (reward == env.max_return) or isinstance(
                env, envs.CopyFirstContinuous
            )
            obs, _ = env.reset()
            steps = 0


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
    assert len(rows) == len(envs.ALL_ENV_IDS)


def test_a_memory_task_must_draw_episodes_and_render():
    from envs._episode import MemoryTask

    class OnlyDraws(MemoryTask[int]):
        def _new_episode(self, options):
            return np.zeros(1, dtype=np.float32)

    with pytest.raises(TypeError, match="_render_rgb"):
        OnlyDraws()

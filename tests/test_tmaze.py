"""T-maze specifics (``warm_rl/TMaze-v0``): geometry, rewards, cue visibility, slips."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs.tmaze import DOWN, GOAL_DOWN, GOAL_UP, LEFT, RIGHT, UP

CUE_UP, CUE_DOWN, CORRIDOR, JUNCTION = np.eye(4, dtype=np.float32)


def make(length: int = 10, stochasticity: float = 0.0) -> envs.TMaze:
    return gym.make("warm_rl/TMaze-v0", length=length, stochasticity=stochasticity).unwrapped


@pytest.mark.parametrize("length", [2, 3, 10, 57])
@pytest.mark.parametrize("goal", [GOAL_UP, GOAL_DOWN], ids=["up", "down"])
def test_walk_right_then_turn_to_cue_gives_4_in_L_plus_1_steps(length, goal):
    env = make(length)
    obs, _ = env.reset(seed=0, options={"goal": goal})
    assert np.array_equal(obs, CUE_UP if goal == GOAL_UP else CUE_DOWN)
    for x in range(1, length + 1):
        obs, reward, terminated, truncated, info = env.step(RIGHT)
        assert (reward, terminated, truncated, info) == (0.0, False, False, {})
        assert np.array_equal(obs, JUNCTION if x == length else CORRIDOR)
    _, reward, terminated, truncated, info = env.step(UP if goal == GOAL_UP else DOWN)
    assert (reward, terminated, truncated) == (4.0, True, False)
    assert info == {"is_success": True, "goal": goal}


@pytest.mark.parametrize("goal", [GOAL_UP, GOAL_DOWN], ids=["up", "down"])
def test_wrong_turn_costs_0_1_and_ends_the_episode(goal):
    env = make(4)
    env.reset(seed=0, options={"goal": goal})
    for _ in range(4):
        env.step(RIGHT)
    _, reward, terminated, truncated, info = env.step(DOWN if goal == GOAL_UP else UP)
    assert (reward, terminated, truncated) == (-0.1, True, False)
    assert info["is_success"] is False


def test_bumping_costs_0_1_and_the_agent_stays():
    env = make(3)
    env.reset(seed=0, options={"goal": GOAL_DOWN})
    # cue cell: left, up and down are walls
    for action in (LEFT, UP, DOWN):
        obs, reward, terminated, truncated, _ = env.step(action)
        assert (reward, terminated, truncated) == (-0.1, False, False)
        assert np.array_equal(obs, CUE_DOWN) and env._x == 0
    env.step(RIGHT)
    # corridor: up and down are walls
    for action in (UP, DOWN):
        obs, reward, terminated, _, _ = env.step(action)
        assert (reward, terminated) == (-0.1, False)
        assert np.array_equal(obs, CORRIDOR) and env._x == 1
    env.reset(seed=0, options={"goal": GOAL_DOWN})
    for _ in range(3):
        env.step(RIGHT)
    # junction: right is a wall, left goes back into the corridor
    obs, reward, terminated, _, _ = env.step(RIGHT)
    assert (reward, terminated) == (-0.1, False)
    assert np.array_equal(obs, JUNCTION) and env._x == 3
    obs, reward, terminated, _, _ = env.step(LEFT)
    assert (reward, terminated) == (0.0, False)
    assert np.array_equal(obs, CORRIDOR) and env._x == 2


def test_cue_visible_only_at_x_0():
    env = make(5)
    for goal, cue in ((GOAL_UP, CUE_UP), (GOAL_DOWN, CUE_DOWN)):
        obs, _ = env.reset(seed=1, options={"goal": goal})
        # walk to the junction and all the way back: the cue shows exactly when x == 0
        seen = [(env._x, obs)]
        for action in [RIGHT] * 5 + [LEFT] * 5:
            obs, *_ = env.step(action)
            seen.append((env._x, obs))
        assert [x for x, _ in seen] == [0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0]
        for x, obs in seen:
            assert obs[:2].any() == (x == 0)
            if x == 0:
                assert np.array_equal(obs, cue)


def test_truncation_at_3L_minus_1_steps():
    length = 6
    env = make(length)
    env.reset(seed=0)
    for step in range(1, 3 * length):
        _, reward, terminated, truncated, info = env.step(LEFT)  # bump forever
        assert reward == -0.1 and not terminated
        assert truncated == (step == 3 * length - 1)
        assert ("is_success" in info) == truncated
    assert info["is_success"] is False
    assert env.horizon == 3 * length - 1


def test_goal_is_uniform_over_seeds():
    env = make(2)
    goals = [int(env.reset(seed=seed)[0][1]) for seed in range(400)]
    assert np.mean(goals) == pytest.approx(0.5, abs=0.08)


def test_reset_option_goal_is_validated():
    env = make(2)
    with pytest.raises(ValueError, match=r"options\['goal'\] must be an integer in \[0, 1\]"):
        env.reset(options={"goal": 2})


def test_stochasticity_0_is_deterministic_given_actions():
    """Without slips the trajectory depends only on the goal and the actions, not the seed."""
    actions = np.random.default_rng(0).integers(4, size=200).tolist()

    def run(seed: int, goal: int) -> list:
        env = make(4, stochasticity=0.0)
        out = [env.reset(seed=seed, options={"goal": goal})[0].tolist()]
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            out.append((obs.tolist(), reward, terminated, truncated, env._x))
            if terminated or truncated:
                out.append(env.reset(options={"goal": goal})[0].tolist())
        return out

    for goal in (GOAL_UP, GOAL_DOWN):
        reference = run(0, goal)
        assert all(run(seed, goal) == reference for seed in range(1, 6))


@pytest.mark.parametrize("stochasticity", [0.2, 0.6])
def test_slips_replace_corridor_actions_at_the_given_rate(stochasticity):
    """Always choosing right, a corridor step fails to advance with probability 3/4 * lambda
    (the random replacement is right one time in four); at the junction actions never slip."""
    env = make(8, stochasticity=stochasticity)
    corridor_steps = stalls = junction_turns = wrong_turns = 0
    for seed in range(300):
        env.reset(seed=seed)
        done = False
        while not done:
            x = env._x
            action = envs.oracle_action(env)
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            if x < env.length:
                corridor_steps += 1
                stalls += env._x != x + 1
            elif terminated:
                junction_turns += 1
                wrong_turns += not info["is_success"]
    assert stalls / corridor_steps == pytest.approx(0.75 * stochasticity, abs=0.03)
    assert junction_turns > 100 and wrong_turns == 0


def test_stochastic_maze_is_reproducible_from_the_seed():
    def run(seed: int) -> list[int]:
        env = make(5, stochasticity=0.5)
        env.reset(seed=seed)
        positions = []
        for _ in range(12):
            env.step(LEFT)  # never ends the episode: slips show up as moves right or bumps
            positions.append(env._x)
        return positions

    assert run(7) == run(7)
    assert any(run(seed) != run(7) for seed in range(5))


def test_render_shows_agent_cue_and_exits():
    env = gym.make("warm_rl/TMaze-v0", length=4, render_mode="ansi").unwrapped
    env.reset(seed=0, options={"goal": GOAL_UP})
    env.step(RIGHT)
    assert env.render() == "step 1/11, goal up, reward 0\n    G\nuA--+\n    x\n"


def test_render_rgb_array_draws_maze_agent_cue_and_exits():
    from envs import _render

    cell, length = _render.CELL, 4
    env = gym.make("warm_rl/TMaze-v0", length=length, render_mode="rgb_array").unwrapped

    def color(frame, row, col, inset=False):
        """The color of a cell: at its corner, or at its center (where the agent is drawn)."""
        offset = cell // 2 if inset else 0
        return tuple(frame[row * cell + offset, col * cell + offset])

    frames = {}
    for goal in (GOAL_UP, GOAL_DOWN):
        env.reset(seed=0, options={"goal": goal})
        frame = env.render()
        assert frame.shape == (3 * cell, (length + 1) * cell, 3) and frame.dtype == np.uint8
        assert color(frame, 1, 0, inset=True) == _render.AGENT
        assert color(frame, 1, 0) == tuple(_render.symbol_colors(2)[goal])
        assert color(frame, 1, 2) == _render.CORRIDOR
        assert color(frame, 1, length) == _render.JUNCTION
        goal_row = 0 if goal == GOAL_UP else 2
        assert color(frame, goal_row, length) == _render.GOOD
        assert color(frame, 2 - goal_row, length) == _render.BAD
        assert color(frame, 0, 0) == color(frame, 2, 1) == _render.BACKGROUND
        frames[goal] = frame
    assert not np.array_equal(frames[GOAL_UP], frames[GOAL_DOWN])

    env.reset(seed=0, options={"goal": GOAL_DOWN})
    env.step(RIGHT)
    frame = env.render()
    assert color(frame, 1, 1, inset=True) == _render.AGENT
    assert color(frame, 1, 0, inset=True) == tuple(_render.symbol_colors(2)[GOAL_DOWN])
    for _ in range(length - 1):
        env.step(RIGHT)
    env.step(UP)  # the wrong exit: the agent is drawn there
    frame = env.render()
    assert color(frame, 0, length, inset=True) == _render.AGENT
    assert color(frame, 1, length, inset=True) == _render.JUNCTION

"""How much of the T-maze cue reaches the junction in an agent's recurrent state.

An agent can only turn the cued way if its actor state at the junction differs
between the two cues. :func:`probe` walks the corridor straight to the junction
once per cue and measures the distance ``|h_up - h_down|`` between the two actor
output sequences (what the policy head reads, beside the features), and the
probability of turning up at the junction after each cue. The distance after
warm-up predicts how fast PPO can learn the memory part: the policy head must
grow weights of the order of (logit gap) / distance.

Only public SB3 API is used: ``policy.get_distribution`` for action
probabilities, ``policy.predict`` for sampled episodes. ``scripts/tmaze_probe.py``
prints the tables.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401  (registers warm_rl/TMaze-v0)
from agents.ppo import WarmRecurrentPPO
from agents.training import RunConfig, build_model
from envs.tmaze import GOAL_DOWN, GOAL_UP, RIGHT, UP


def corridor_observations(length: int) -> dict[int, np.ndarray]:
    """Observations of walking straight to the junction, per goal: ``(length + 1, 4)`` each."""
    walks = {}
    for goal in (GOAL_UP, GOAL_DOWN):
        env = gym.make("warm_rl/TMaze-v0", length=length)
        obs, _ = env.reset(seed=0, options={"goal": goal})
        seen = [obs]
        for _ in range(length):
            obs, *_ = env.step(RIGHT)
            seen.append(obs)
        walks[goal] = np.stack(seen)
    return walks


def action_probabilities(model: WarmRecurrentPPO, walks: list[np.ndarray]) -> torch.Tensor:
    """The actor's action probabilities along equally long observation sequences, from a zero state.

    Args:
        model: the agent.
        walks: ``n`` sequences of observations ``(T, *obs_shape)``.

    Returns:
        ``(n, T, n_actions)``.
    """
    policy = model.policy
    obs = torch.as_tensor(np.concatenate(walks), device=policy.device)
    states = policy.lstm_actor.zero_state(len(walks), device=policy.device)
    with torch.no_grad():
        distribution, _ = policy.get_distribution(obs, states, torch.zeros(len(obs), device=policy.device))
    return distribution.distribution.probs.reshape(len(walks), len(walks[0]), -1).cpu()


def walk_probabilities(model: WarmRecurrentPPO, length: int) -> np.ndarray:
    """The actor's action probabilities at every step of the straight walk after the up cue.

    Returns:
        ``(length + 1, n_actions)``: row ``t`` at cell ``x = t`` (columns: right, up, left, down).
    """
    return action_probabilities(model, [corridor_observations(length)[GOAL_UP]])[0].numpy()


def actor_outputs(model: WarmRecurrentPPO, walks: list[np.ndarray]) -> torch.Tensor:
    """The actor backbone's outputs along equally long observation sequences, from a zero state.

    Returns:
        ``(n, T, hidden)``.
    """
    policy = model.policy
    features = torch.stack(policy.episode_features(walks)["actor"], dim=1)  # (T, n, features_dim)
    with torch.no_grad():
        outputs, _ = policy.lstm_actor(features)
    return outputs.transpose(0, 1).cpu()


def probe(model: WarmRecurrentPPO, length: int) -> dict:
    """Cue separation along the corridor and junction decisions of ``model``'s actor.

    Returns:
        ``distance``: ``{step: |h_up - h_down|}``; ``p_up``: per goal, the
        probability of the action up at the junction.
    """
    walks = corridor_observations(length)
    goals = list(walks)
    sequences = [walks[goal] for goal in goals]
    outputs = dict(zip(goals, actor_outputs(model, sequences), strict=True))
    junction = action_probabilities(model, sequences)[:, -1]
    p_up = {goal: float(junction[i, UP]) for i, goal in enumerate(goals)}
    gap = (outputs[GOAL_UP] - outputs[GOAL_DOWN]).norm(dim=-1)
    steps = sorted({0, 1, min(10, length), length // 2, length})
    return {"distance": {t: float(gap[t]) for t in steps}, "p_up": p_up}


def sampled_reach(model: WarmRecurrentPPO, length: int, episodes: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """How far ``episodes`` episodes of the stochastic policy get, run side by side.

    Returns:
        The fraction that reached the junction and turned (ended before the horizon),
        and the furthest cell of each episode, shape ``(episodes,)``.
    """
    vec = make_vec_env("warm_rl/TMaze-v0", n_envs=episodes, seed=seed, env_kwargs={"length": length})
    obs = vec.reset()
    state, starts = None, np.ones(episodes, dtype=bool)
    running = np.ones(episodes, dtype=bool)
    furthest = np.zeros(episodes, dtype=int)
    reached = np.zeros(episodes, dtype=bool)
    while running.any():
        actions, state = model.predict(obs, state=state, episode_start=starts, deterministic=False)
        obs, _, dones, infos = vec.step(actions)
        positions = np.array(vec.get_attr("position"))  # after a reset: 0
        furthest = np.where(running, np.maximum(furthest, positions), furthest)
        ended = running & dones
        truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        reached |= ended & ~truncated
        furthest = np.where(ended & ~truncated, length, furthest)
        running &= ~dones
        starts = dones
    vec.close()
    return float(reached.mean()), furthest


def fresh_agents(
    length: int, seeds: list[int], pretrain: str | None, warmup_kwargs: dict, feature_skip: bool
) -> list[tuple[str, WarmRecurrentPPO, float | None]]:
    """Default agents for the T-maze of ``length``, pre-trained (not trained), one per seed.

    Args:
        length: corridor length.
        seeds: one agent per seed.
        pretrain: ``RunConfig.pretrain`` (None: fresh agents).
        warmup_kwargs: WarmupConfig overrides.
        feature_skip: ``RunConfig.feature_skip``.

    Returns:
        ``(name, model, VAA after warm-up or None)`` per seed.
    """
    agents = []
    for seed in seeds:
        config = RunConfig(
            env_kwargs={"length": length}, seed=seed, device="cpu",
            pretrain=pretrain, warmup_kwargs=warmup_kwargs, feature_skip=feature_skip,
        )
        model = build_model(config)
        model.learn(0)  # warm-up only: learn() warms up before its first rollout
        vaa = model.warmup_result["vaa_after"] if model.warmup_result else None
        agents.append((f"seed {seed}", model, vaa))
    return agents

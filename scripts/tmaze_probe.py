"""How much of the T-maze cue reaches the junction in an agent's recurrent state.

An agent can only turn the cued way if its actor state at the junction differs
between the two cues. This script walks the corridor straight to the junction
once per cue and prints the distance ``|h_up - h_down|`` between the two actor
output sequences (the policy head's input) at a few steps, and, for a trained
agent, the probability of turning up at the junction after each cue.

    python scripts/tmaze_probe.py --length 50 --seeds 0 1 2 3            # fresh warmed-up agents
    python scripts/tmaze_probe.py --length 50 --warmup-kwargs '{"eps": 0.01}'
    python scripts/tmaze_probe.py --length 50 --model runs/tmaze50.zip    # a saved agent
    python scripts/tmaze_probe.py --length 100 --model runs/tmaze100.zip --walk 20
        # + its action probabilities along the corridor and how far 20 sampled episodes get

The distance after warm-up predicts how fast PPO can learn the memory part: the
policy head must grow weights of the order of (logit gap) / distance.
"""

from __future__ import annotations

import argparse
import json
import sys

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401  (registers warm_rl/TMaze-v0)
from agents import WarmRecurrentPPO
from agents.defaults import DEFAULT_FEATURE_SKIP
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


def walk_probabilities(model: WarmRecurrentPPO, length: int) -> np.ndarray:
    """The actor's action probabilities at every step of the straight walk after the up cue.

    Returns:
        ``(length + 1, n_actions)``: row ``t`` at cell ``x = t`` (columns: right, up, left, down).
    """
    policy = model.policy
    walk = corridor_observations(length)[GOAL_UP]
    features = torch.cat(policy.episode_features([walk])["actor"])
    with torch.no_grad():
        latent, _ = policy._process_sequence(
            features, policy.lstm_actor.zero_state(1), torch.zeros(len(features)), policy.lstm_actor
        )
        probs = policy._get_action_dist_from_latent(policy.mlp_extractor.forward_actor(latent)).distribution.probs
    return probs.numpy()


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
        positions = np.array([env.unwrapped._x for env in vec.envs])  # after a reset: 0
        furthest = np.where(running, np.maximum(furthest, positions), furthest)
        ended = running & dones
        truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        reached |= ended & ~truncated
        furthest = np.where(ended & ~truncated, length, furthest)
        running &= ~dones
        starts = dones
    vec.close()
    return float(reached.mean()), furthest


def probe(model: WarmRecurrentPPO, length: int) -> dict:
    """Cue separation along the corridor and junction decisions of ``model``'s actor.

    Returns:
        ``distance``: ``{step: |h_up - h_down|}``; ``p_up``: per goal, the
        probability of the action up at the junction.
    """
    policy = model.policy
    walks = corridor_observations(length)
    goals = list(walks)
    features = torch.cat(policy.episode_features([walks[goal] for goal in goals])["actor"])
    with torch.no_grad():
        # both walks as two sequences of one batch, through the policy's own recurrent step
        latent, _ = policy._process_sequence(
            features, policy.lstm_actor.zero_state(len(goals)), torch.zeros(len(features)), policy.lstm_actor
        )
        latent = latent.reshape(len(goals), length + 1, -1)
        junction = policy.mlp_extractor.forward_actor(latent[:, -1])
        probs = policy._get_action_dist_from_latent(junction).distribution.probs
    outputs = dict(zip(goals, latent[..., : policy.lstm_output_dim], strict=True))
    p_up = {goal: float(probs[i, UP]) for i, goal in enumerate(goals)}
    gap = (outputs[GOAL_UP] - outputs[GOAL_DOWN]).norm(dim=-1)
    steps = sorted({0, 1, min(10, length), length // 2, length})
    return {"distance": {t: float(gap[t]) for t in steps}, "p_up": p_up}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--model", default=None, help="a saved agent (.zip); otherwise fresh agents are built")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--no-warmup", action="store_true", help="fresh agents without warm-up")
    parser.add_argument("--warmup-kwargs", default="{}", type=json.loads, help="JSON WarmupConfig overrides")
    parser.add_argument("--feature-skip", action=argparse.BooleanOptionalAction, default=DEFAULT_FEATURE_SKIP,
                        help="fresh agents' heads see the features too")
    parser.add_argument("--walk", type=int, default=0, metavar="EPISODES",
                        help="also print the action probabilities along the corridor and how far "
                             "EPISODES sampled episodes get")
    args = parser.parse_args(argv)
    if args.length < 1:
        parser.error(f"--length must be >= 1, got {args.length}")
    torch.set_num_threads(1)
    if args.model is not None:
        agents = [("model", WarmRecurrentPPO.load(args.model, device="cpu"), None)]
    else:
        agents = []
        for seed in args.seeds:
            config = RunConfig(
                env_kwargs={"length": args.length}, seed=seed, device="cpu",
                warmup=not args.no_warmup, warmup_kwargs=args.warmup_kwargs, feature_skip=args.feature_skip,
            )
            model = build_model(config)
            model.learn(0)  # warm-up only: learn() warms up before its first rollout
            vaa = model.warmup_result["vaa_after"] if model.warmup_result else None
            agents.append((f"seed {seed}", model, vaa))
    header = None
    for name, model, vaa in agents:
        result = probe(model, args.length)
        if header is None:
            steps = list(result["distance"])
            header = "| agent | VAA after warm-up | " + " | ".join(f"dist t={t}" for t in steps)
            header += " | P(up) cue up / down |"
            print(header)
            print("|" + "---|" * (header.count("|") - 1))
        cells = " | ".join(f"{d:.3f}" for d in result["distance"].values())
        vaa_text = "-" if vaa is None else f"{vaa:.3f}"
        p_up = result["p_up"]
        print(f"| {name} | {vaa_text} | {cells} | {p_up[GOAL_UP]:.2f} / {p_up[GOAL_DOWN]:.2f} |")
    if args.walk > 0:
        print_walks(agents, args.length, args.walk)
    return 0


def print_walks(agents: list, length: int, episodes: int) -> None:
    """Action probabilities along the straight walk, and the reach of sampled episodes."""
    steps = sorted({0, 1, 2, 5, min(10, length), length // 2, length - 1, length})
    print("\n| agent | step | P(right) | P(up) | P(left) | P(down) |\n|---|---|---|---|---|---|")
    for name, model, _ in agents:
        probs = walk_probabilities(model, length)
        for t in steps:
            print(f"| {name} | {t} | " + " | ".join(f"{p:.3f}" for p in probs[t]) + " |")
    print("\n| agent | sampled episodes reaching the junction | furthest cell (min / median / max) |\n|---|---|---|")
    for name, model, _ in agents:
        fraction, furthest = sampled_reach(model, length, episodes)
        print(f"| {name} | {fraction:.2f} of {episodes} | {furthest.min()} / {int(np.median(furthest))} / "
              f"{furthest.max()} |")


if __name__ == "__main__":
    sys.exit(main())

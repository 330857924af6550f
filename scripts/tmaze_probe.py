"""How much of the T-maze cue reaches the junction in an agent's recurrent state.

An agent can only turn the cued way if its actor state at the junction differs
between the two cues. This script walks the corridor straight to the junction
once per cue and prints the distance ``|h_up - h_down|`` between the two actor
output sequences (the policy head's input) at a few steps, and, for a trained
agent, the probability of turning up at the junction after each cue.

    python scripts/tmaze_probe.py --length 50 --seeds 0 1 2 3            # fresh warmed-up agents
    python scripts/tmaze_probe.py --length 50 --warmup-kwargs '{"eps": 0.01}'
    python scripts/tmaze_probe.py --length 50 --model runs/tmaze50.zip    # a saved agent

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
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

The measurements are :mod:`agents.probe`'s; this script prints them.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from agents import WarmRecurrentPPO
from agents.defaults import DEFAULT_FEATURE_SKIP
from agents.probe import fresh_agents, probe, sampled_reach, walk_probabilities
from envs.tmaze import GOAL_DOWN, GOAL_UP


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
        pretrain = None if args.no_warmup else "warmup"
        agents = fresh_agents(args.length, args.seeds, pretrain, args.warmup_kwargs, args.feature_skip)
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

"""Does the agent's warm-up make its backbone multistable? VAA before and after, per cell and seed.

    python scripts/warmup_collapse_probe.py --cells lstm gru --seeds 0 1 2 3 4 5
    python scripts/warmup_collapse_probe.py --cells lstm --no-restart-collapsed   # the paper's procedure

Builds the default agent (``WarmRecurrentPPO``, T-maze, ``--length``) with the cell, collects
its warm-up data as training does (2048 env steps of the initial policy), warms its actor
backbone up with the agent's warm-up (``agents.defaults.DEFAULT_WARMUP``, overridable with
``--warmup-kwargs``) and prints the exact VAA before and after (M = 1000, eps 1e-2), the
learning rates used and the layers found collapsed (``warm_rl.warmup.COLLAPSED_COUNT``).
Evidence for ``results/tmaze_lstm/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from stable_baselines3.common.env_util import make_vec_env

from agents import WarmRecurrentPPO
from agents.defaults import DEFAULT_WARMUP, DEFAULT_WARMUP_ENV_STEPS
from agents.warmup import collect_sequences
from warm_rl import CELL_NAMES, WarmupConfig, vaa, warm_up


def probe(cell: str, seed: int, length: int, overrides: dict) -> str:
    env = make_vec_env("warm_rl/TMaze-v0", n_envs=8, seed=seed, env_kwargs={"length": length})
    model = WarmRecurrentPPO("MlpWarmPolicy", env, policy_kwargs={"cell": cell, "pretrain": None}, seed=seed)
    features = model.policy.episode_features(collect_sequences(model, DEFAULT_WARMUP_ENV_STEPS))["actor"]
    net = model.policy.lstm_actor
    before = vaa(net, features, horizon=1000, eps=1e-2, seed=0)
    report = warm_up(net, features, WarmupConfig(**{**DEFAULT_WARMUP, "seed": seed, **overrides}))
    after = vaa(net, features, horizon=1000, eps=1e-2, seed=0)
    return (f"| {cell} | {seed} | {before:.3f} | {after:.3f} | {', '.join(f'{lr:g}' for lr in report.learning_rates)} "
            f"| {report.collapsed_layers or '-'} | {report.losses[0]:.3f} -> {report.losses[-1]:.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", nargs="+", choices=CELL_NAMES, default=["lstm", "gru"], help="backbone cells")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4, 5], help="seeds")
    parser.add_argument("--length", type=int, default=10, help="T-maze corridor length")
    parser.add_argument("--warmup-kwargs", type=json.loads, default={}, help="JSON WarmupConfig overrides")
    parser.add_argument("--no-restart-collapsed", action="store_true",
                        help="the paper's warm-up: no restart of collapsed layers")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    overrides = {**args.warmup_kwargs, **({"restart_collapsed": False} if args.no_restart_collapsed else {})}
    print("| cell | seed | VAA before | VAA after | learning rates | collapsed layers | warm-up loss first -> last |")
    print("|---|---|---|---|---|---|---|")
    for cell in args.cells:
        for seed in args.seeds:
            print(probe(cell, seed, args.length, overrides), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

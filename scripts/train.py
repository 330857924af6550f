"""Train a warmed-up recurrent PPO agent and print its greedy evaluation.

    python scripts/train.py                       # GRU double layer on the T-maze, L=10
    python scripts/train.py --env warm_rl/TMaze-v0 --env-kwargs '{"length": 30}' \
        --timesteps 500000 --save runs/tmaze30.zip --tensorboard-log runs/tb
    python scripts/train.py --save runs/tmaze30.zip --resume   # continue a killed run
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from agents.defaults import DEFAULT_FEATURE_SKIP
from agents.training import DEFAULT_ENV, SCHEDULES, RunConfig, train_agent
from warm_rl import CELL_NAMES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default=DEFAULT_ENV, help="gymnasium id (ours or any other)")
    parser.add_argument("--env-kwargs", default="{}", type=json.loads, help="JSON dict of env kwargs")
    parser.add_argument("--cell", default="gru", choices=CELL_NAMES)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--n-layers", type=int, default=1)
    parser.add_argument("--double", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--feature-skip", action=argparse.BooleanOptionalAction, default=DEFAULT_FEATURE_SKIP,
                        help="the policy and value heads see the features beside the recurrent output")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--warmup-env-steps", type=int, default=2048)
    parser.add_argument("--warmup-kwargs", default="{}", type=json.loads,
                        help='JSON WarmupConfig overrides, e.g. {"steps": 50}')
    parser.add_argument("--vaa-steps", type=int, default=1000, help="steps of the logged VAA")
    parser.add_argument("--prev-action-reward", action="store_true",
                        help="append the previous action and reward to observations")
    parser.add_argument("--horizon-terminal", action=argparse.BooleanOptionalAction, default=False,
                        help="report time-limit ends as terminal (agents.TruncationAsTermination)")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ppo-kwargs", default="{}", type=json.loads, help="JSON dict for RecurrentPPO")
    parser.add_argument("--lr-schedule", choices=SCHEDULES, default=RunConfig.lr_schedule,
                        help="linear: decay the learning rate to 0 over --timesteps")
    parser.add_argument("--ent-schedule", choices=SCHEDULES, default=RunConfig.ent_schedule,
                        help="linear: decay the entropy coefficient to 0 over --timesteps")
    parser.add_argument("--policy-kwargs", default="{}", type=json.loads,
                        help='JSON dict for WarmRecurrentPolicy, e.g. \'{"feature_skip": true}\'')
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=20_000)
    parser.add_argument("--tensorboard-log", default=None)
    parser.add_argument("--save", default=None, help="model path; checkpoints in <save>_checkpoints/")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.resume and args.save is None:
        parser.error("--resume needs --save (the run whose checkpoints to continue)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormals make long CPU backward passes several times slower
    config = RunConfig(
        env=args.env,
        env_kwargs=args.env_kwargs,
        cell=args.cell,
        hidden_size=args.hidden_size,
        n_layers=args.n_layers,
        double=args.double,
        feature_skip=args.feature_skip,
        warmup=args.warmup,
        warmup_env_steps=args.warmup_env_steps,
        warmup_kwargs=args.warmup_kwargs,
        vaa_steps=args.vaa_steps,
        prev_action_reward=args.prev_action_reward,
        horizon_terminal=args.horizon_terminal,
        timesteps=args.timesteps,
        n_envs=args.n_envs,
        seed=args.seed,
        device=args.device,
        ppo_kwargs=args.ppo_kwargs,
        lr_schedule=args.lr_schedule,
        ent_schedule=args.ent_schedule,
        policy_kwargs=args.policy_kwargs,
        eval_episodes=args.eval_episodes,
        checkpoint_every=args.checkpoint_every,
    )
    result = train_agent(
        config, save=args.save, resume=args.resume, tensorboard_log=args.tensorboard_log,
        progress_bar=not args.no_progress,
    )
    if args.json:
        print(result.to_json())
        return 0
    ev = result.evaluation
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"env {args.env} {args.env_kwargs} | cell {args.cell} double={args.double} warmup={args.warmup}")
    print(f"trained {result.timesteps} steps in {result.seconds:.0f} s")
    print(f"VAA before warm-up {fmt(result.vaa_before)}, after {fmt(result.vaa_after)}")
    print(f"greedy success rate {fmt(ev.success_rate)} | mean return {ev.mean_return:.3f} over {ev.episodes} episodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

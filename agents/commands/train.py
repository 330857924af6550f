"""Train a warmed-up recurrent PPO agent and print its greedy evaluation.

Installed as ``warm-rl-train``; also ``python scripts/train.py``.

    python scripts/train.py                       # GRU double layer on the T-maze, L=10
    python scripts/train.py --env warm_rl/TMaze-v0 --env-kwargs length:30 \
        --timesteps 500000 --save runs/tmaze30.zip    # or --env-kwargs '{"length": 30}'
    tensorboard --logdir runs/                    # the curves (off with --no-tensorboard)
    python scripts/train.py --save runs/tmaze30.zip --resume   # continue a killed run
    python scripts/train.py --save runs/tmaze30.zip --force-new  # start over, the old run moved aside
"""

from __future__ import annotations

import argparse
import sys

import torch
from rich.console import Console

from agents.cli import (
    PRETRAIN_NAMES,
    HelpFormatter,
    add_renamed_flags,
    add_run_arguments,
    parse_kwargs,
    parse_pretrain,
    run_fields,
)
from agents.reporting import curve_path, plot_learning_curve, result_table
from agents.training import RunConfig, train_agent

DEFAULT_TENSORBOARD_LOG = "runs"
"""TensorBoard folder of ``warm-rl-train`` unless ``--no-tensorboard``."""


def build_parser() -> argparse.ArgumentParser:
    """The ``warm-rl-train`` flags (each with a help line; defaults shown by ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_run_arguments(parser)
    parser.add_argument("--env-kwargs", nargs="*", default=[], metavar="KEY:VALUE",
                        help='env kwargs: key:value pairs (rl_zoo3 style, e.g. length:30) or one JSON object')
    parser.add_argument("--t-max", type=float, default=None,
                        help="--cell chrono: T_max of its chrono biases (about the longest dependency, e.g. the "
                             "episode length); required for chrono")
    parser.add_argument("--num-layers", type=int, default=RunConfig.num_layers, help="stacked recurrent layers")
    parser.add_argument("--double", action=argparse.BooleanOptionalAction, default=RunConfig.double,
                        help="double-layer backbone (only half of every layer warmed up)")
    parser.add_argument("--pretrain", type=parse_pretrain, default=RunConfig.pretrain, metavar="|".join(PRETRAIN_NAMES),
                        help="pre-training of the backbones before training")
    parser.add_argument("--warmup-env-steps", type=int, default=RunConfig.warmup_env_steps,
                        help="env steps collected with the initial policy for the pre-training")
    parser.add_argument("--vaa-horizon", type=int, default=RunConfig.vaa_horizon,
                        help="perturbation steps M of the logged VAA")
    parser.add_argument("--prev-action-reward", action="store_true",
                        help="append the previous action and reward to observations")
    parser.add_argument("--timesteps", type=int, default=RunConfig.timesteps, help="training env steps")
    parser.add_argument("--seed", type=int, default=RunConfig.seed, help="random seed")
    parser.add_argument("--device", default=RunConfig.device, help="auto, cpu or cuda")
    parser.add_argument("--eval-every", type=int, default=RunConfig.eval_every,
                        help="env steps between greedy evaluations (SB3's EvalCallback; 0: none)")
    parser.add_argument("--checkpoint-every", type=int, default=RunConfig.checkpoint_every,
                        help="env steps between checkpoints (taken at rollout boundaries)")
    parser.add_argument("--tensorboard-log", default=DEFAULT_TENSORBOARD_LOG, help="TensorBoard folder")
    parser.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard logs")
    parser.add_argument("--save", default=None,
                        help="model path; checkpoints in <save>_checkpoints/, evaluations in <save>_eval/, "
                             "the learning curve in <save>_curve.png")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the latest checkpoint (the same settings; a longer --timesteps is fine)")
    parser.add_argument("--force-new", action="store_true",
                        help="start over although --save exists, moving the earlier run aside (never deleting it)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_renamed_flags(parser)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and args.force_new:
        parser.error("--resume and --force-new exclude each other")
    if args.resume and args.save is None:
        parser.error("--resume needs --save (the run whose checkpoints to continue)")
    return args


def _run_config(args: argparse.Namespace) -> RunConfig:
    """The run the flags describe (checked by RunConfig: a bad value raises naming it)."""
    fields = run_fields(args)
    if args.t_max is not None:
        policy_kwargs = dict(fields["policy_kwargs"])
        policy_kwargs["cell_kwargs"] = {**(policy_kwargs.get("cell_kwargs") or {}), "t_max": args.t_max}
        fields["policy_kwargs"] = policy_kwargs
    return RunConfig(
        **fields,
        env_kwargs=parse_kwargs(args.env_kwargs),
        num_layers=args.num_layers,
        double=args.double,
        pretrain=args.pretrain,
        warmup_env_steps=args.warmup_env_steps,
        vaa_horizon=args.vaa_horizon,
        prev_action_reward=args.prev_action_reward,
        timesteps=args.timesteps,
        seed=args.seed,
        device=args.device,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormals make long CPU backward passes several times slower
    try:
        config = _run_config(args)
    except (TypeError, ValueError) as error:  # nonsense settings stop before any work
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    result = train_agent(
        config, save=args.save, resume=args.resume, force_new=args.force_new,
        say=lambda message: print(message, file=sys.stderr),
        tensorboard_log=None if args.no_tensorboard else args.tensorboard_log, progress_bar=not args.no_progress,
    )
    if args.json:
        print(result.to_json())
        return 0
    Console(width=140).print(result_table(result))
    if args.save is not None:
        written = plot_learning_curve(result, curve_path(args.save))
        if written is not None:
            print(f"learning curve: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

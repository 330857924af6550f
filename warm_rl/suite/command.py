"""Supervised benchmarks of warm-up: one run, or a whole table of the paper.

Installed as ``warm-rl-supervised``; also ``python scripts/supervised.py``.

Examples:
    # one run per seed, printing the test metric
    python scripts/supervised.py --benchmark copy --cell gru --pretrain full \\
        --seq-length 300 --hidden-size 128 --epochs 4 --seeds 0

    # the paper's Table 1 grid (3 seeds), results/paper_tables/table1.md + .csv + figures
    python scripts/supervised.py --table 1 --epochs 50

Image benchmarks (smnist, psmnist, Table 3) read Fashion-MNIST from Debian's
``dataset-fashion-mnist`` package unless --data-dir points at MNIST IDX files.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import torch

from warm_rl.cells import CELL_NAMES
from warm_rl.suite import BENCHMARKS, PRETRAIN_MODES, TABLES, TrainConfig, run_benchmark, run_table, speed_benchmark

DEFAULT_OUT_DIR = "results/paper_tables"
"""Where ``--table`` writes its files by default."""


def build_parser() -> argparse.ArgumentParser:
    """The ``warm-rl-supervised`` flags (each with a help line; defaults shown by ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _what_arguments(parser)
    _data_arguments(parser)
    _model_arguments(parser)
    _running_arguments(parser)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, parsed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.vaa_steps is not None:
        parser.error("--vaa-steps was renamed: use --vaa-horizon")
    if args.warmup is not None:
        parser.error(f"--warmup was renamed: use --pretrain (e.g. --pretrain {args.warmup})")
    return args


def _what_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to run")
    what.add_argument("--benchmark", choices=BENCHMARKS, default="copy", help="the task of one run")
    what.add_argument("--table", type=int, choices=sorted(TABLES), default=None,
                      help="run a paper table's grid instead of one configuration")
    what.add_argument("--aggregate", action="store_true",
                      help="table: rewrite the table and figures from the finished runs only "
                           "(after several processes ran parts of the grid)")
    what.add_argument("--cell", choices=CELL_NAMES, default="gru", help="recurrent cell of one run")
    what.add_argument("--pretrain", choices=PRETRAIN_MODES, default="none",
                      help="full / double (DLWU): warm-up; lsc / lsc_half: LSC target 1 / 0.5; "
                           "double_lsc: DLWU, then LSC on the cold halves")
    what.add_argument("--warmup", default=None, help=argparse.SUPPRESS)  # renamed: an error
    what.add_argument("--speed", action="store_true",
                      help="time one training epoch per cell (--cells) on copy, T=300 by default")
    what.add_argument("--cells", nargs="+", choices=CELL_NAMES, help="table: restrict cells")
    what.add_argument("--modes", nargs="+", choices=PRETRAIN_MODES,
                      help="table: the pre-training modes (default: the paper's none, full, double)")
    what.add_argument("--values", nargs="+", type=int, help="table: restrict T (1) or N (2)")


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--seq-length", type=int, default=None,
                      help="T (copy: default 300; denoising: default 200)")
    data.add_argument("--delay", type=int, default=100,
                      help="denoising N: no marked value in the last N steps")
    data.add_argument("--pad-length", type=int, default=0, help="images: trailing blank steps")
    data.add_argument("--train-size", type=int, default=None, help="default: 40k / all images")
    data.add_argument("--val-size", type=int, default=None, help="default: 4k / 5k images")
    data.add_argument("--test-size", type=int, default=None, help="default: 50k / all images")
    data.add_argument("--data-dir", default=None, help="directory of MNIST-format IDX files")


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("model and training")
    model.add_argument("--hidden-size", type=int, default=None, help="default 128 (table: paper's)")
    model.add_argument("--num-layers", type=int, default=None, help="default 1 (table: paper's)")
    model.add_argument("--epochs", type=int, default=None, help="default 50 (table: paper's)")
    model.add_argument("--seeds", nargs="+", type=int, default=None,
                       help="default: 0 (one run) or 0 1 2 (table)")
    model.add_argument("--batch-size", type=int, default=32, help="training mini-batch size")
    model.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    model.add_argument("--t-max", type=float, default=None, help="chrono: T_max (default: T)")
    model.add_argument("--warmup-steps", type=int, default=100, help="warm-up updates")
    model.add_argument("--lsc-kwargs", type=json.loads, default=None,
                       help='JSON LSCConfig overrides for the LSC modes, e.g. \'{"rescale_recurrent": true}\'')
    model.add_argument("--warmup-pool", type=int, default=1024,
                       help="training sequences handed to warm-up")
    model.add_argument("--vaa-samples", type=int, default=100, help="0 disables the per-epoch VAA")
    model.add_argument("--vaa-horizon", type=int, default=1000,
                       help="perturbation steps M of the per-epoch VAA")
    model.add_argument("--vaa-steps", type=int, default=None, help=argparse.SUPPRESS)  # renamed: an error
    model.add_argument("--vaa-reg", type=float, default=None, metavar="LAMBDA",
                       help="add LAMBDA * mean_l (VAA*_l - k)^2 of each batch's sequences to the training loss "
                            "(warm_rl.VAARegularizer; warm halves only for double layers)")
    model.add_argument("--vaa-reg-kwargs", type=json.loads, default=None,
                       help='JSON VAARegularizer fields beside the weight, e.g. \'{"every": 5, "target": 0.9}\'')
    model.add_argument("--no-test-curve", action="store_true",
                       help="test only the kept model, not after every epoch")


def _running_arguments(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("running")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    run.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    run.add_argument("--log-dir", default=None, help="TensorBoard directory")
    run.add_argument("--checkpoint", default=None,
                     help="checkpoint file (one run; seed appended) - resumed when present")
    run.add_argument("--batch-members", type=int, default=1, metavar="K",
                     help="table: train up to K runs of one row and cell (seeds x modes) as one batched "
                          "model (warm_rl.suite.batched_trainer; for a GPU - on a CPU it does not pay, "
                          "results/batched_speed/); 1: one by one")
    run.add_argument("--out-dir", default=DEFAULT_OUT_DIR, help=f"table: output directory (default {DEFAULT_OUT_DIR})")
    run.add_argument("--name", default=None, help="table: file stem (default table<k>)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--json", action="store_true", help="one run: print a JSON summary")


def main(argv: list[str] | None = None) -> int:
    """The program: exit status 0, or 2 with a one-line error for missing data or a bad setting."""
    try:
        return _main(argv)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = TrainConfig(
        cell=args.cell, pretrain=args.pretrain, hidden_size=args.hidden_size or 128,
        num_layers=args.num_layers or 1, epochs=50 if args.epochs is None else args.epochs,
        batch_size=args.batch_size, lr=args.lr,
        cell_kwargs={} if args.t_max is None else {"t_max": args.t_max},
        warmup_config={"updates": args.warmup_steps}, lsc_config=args.lsc_kwargs, warmup_pool=args.warmup_pool,
        vaa_samples=args.vaa_samples, vaa_horizon=args.vaa_horizon,
        test_every_epoch=not args.no_test_curve, device=args.device,
        progress=not args.no_progress, vaa_reg=_vaa_reg(args),
    )
    if args.speed:
        return _speed(args)
    if args.table is not None:
        return _table(args, config, argv)
    return _runs(args, config)


def _vaa_reg(args: argparse.Namespace) -> dict | None:
    """``TrainConfig.vaa_reg`` of ``--vaa-reg`` and ``--vaa-reg-kwargs``."""
    if args.vaa_reg is None:
        if args.vaa_reg_kwargs:
            raise ValueError("--vaa-reg-kwargs needs --vaa-reg LAMBDA")
        return None
    return {**(args.vaa_reg_kwargs or {}), "weight": args.vaa_reg}


def _speed(args: argparse.Namespace) -> int:
    """``--speed``: seconds per training epoch of every cell, and their ratio to the GRU's."""
    reference = None
    for cell in args.cells or ("gru", "lstm", "mgu", "brc", "nbrc"):
        seconds = speed_benchmark(
            (cell,), seq_length=args.seq_length or 300, hidden_size=args.hidden_size or 128,
            train_size=args.train_size or 40_000, epochs=args.epochs or 1, device=args.device,
            progress=not args.no_progress,
        )[cell]
        reference = seconds if cell == "gru" else reference
        ratio = f"  ({seconds / reference:.2f}x GRU)" if reference else ""
        print(f"{cell:6s} {seconds:8.2f} s per epoch{ratio}", flush=True)
    return 0


def _table(args: argparse.Namespace, config: TrainConfig, argv: list[str] | None) -> int:
    """``--table``: the grid of a paper table, then the Markdown table printed."""
    if args.batch_members < 1:
        raise ValueError(f"--batch-members must be >= 1, got {args.batch_members}")
    words = [sys.argv[0], *(sys.argv[1:] if argv is None else argv)]
    command = "python " + " ".join(shlex.quote(w) for w in words)
    path = run_table(
        args.table, seeds=args.seeds or (0, 1, 2), epochs=args.epochs, cells=args.cells,
        modes=args.modes, values=args.values, hidden_size=args.hidden_size,
        num_layers=args.num_layers, train_size=args.train_size, val_size=args.val_size,
        train_missing=not args.aggregate,
        test_size=args.test_size, data_dir=args.data_dir, out_dir=args.out_dir,
        name=args.name, command=command, base_config=config, batch_members=args.batch_members,
    )
    print(Path(path).read_text())
    return 0


def _runs(args: argparse.Namespace, config: TrainConfig) -> int:
    """One run per seed of ``--benchmark``, then the mean and std of the test metric."""
    scores = []
    for seed in args.seeds or (0,):
        checkpoint = None if args.checkpoint is None else f"{args.checkpoint}.seed{seed}"
        log_dir = None if args.log_dir is None else f"{args.log_dir}/seed{seed}"
        seed_config = TrainConfig(**{**config.to_dict(), "seed": seed, "checkpoint": checkpoint,
                                     "log_dir": log_dir})
        result = run_benchmark(
            args.benchmark, seed_config, seq_length=args.seq_length, delay=args.delay,
            pad_length=args.pad_length, train_size=args.train_size, val_size=args.val_size,
            test_size=args.test_size, data_dir=args.data_dir,
        )
        scores.append(result.test_metric)
        if args.json:
            print(json.dumps({k: v for k, v in result.summary().items() if k != "history"}))
        print(
            f"{args.benchmark} {args.cell} pretrain={args.pretrain} seed {seed}: "
            f"test {result.metric_name} {result.test_metric:.6g} "
            f"(best epoch {result.best_epoch}, {result.seconds:.1f}s)",
            flush=True,
        )
    if len(scores) > 1:
        print(f"mean {statistics.fmean(scores):.6g} ± {statistics.pstdev(scores):.6g} "
              f"over {len(scores)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())

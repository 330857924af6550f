"""Batched multi-run training against separate processes, side by side, on the same grid.

    python scripts/speed_batched.py                          # the table shapes, 2 workers
    python scripts/speed_batched.py --shapes copy:gru:1x64:300 --members 9 --workers 2

For every shape ``benchmark:cell:layersxwidth:T`` it trains the same ``--members``
runs (seeds x the pre-training modes ``--modes``; one epoch of ``--train-size``
sequences after a short warm-up) twice, one way right after the other:

* separately: one run per process, ``--workers`` processes at a time, one torch
  thread each (the table runner with ``--workers``);
* batched: the runs split into ``--workers`` groups, each group trained as one
  batched model (:func:`warm_rl.suite.batched_trainer.train_batched`) in its own
  process, one torch thread each - the same cores.

It prints (and with ``--out`` writes) the wall time of both, the speed-up, and the
largest difference of a member's test metric between the two ways: the same runs up
to rounding, which in float32 training can amplify on warmed-up (multistable)
networks and flip which epoch's model is kept; with ``--float64`` it vanishes.
``--per-batch`` instead times one training step (forward, backward,
Adam) of the members one after the other against one batched step, in this process
with one thread: the training loop alone, without warm-up, evaluation or processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from warm_rl.suite.batched import BatchedModels
from warm_rl.suite.batched_trainer import train_batched
from warm_rl.suite.data import make_benchmark
from warm_rl.suite.trainer import PRETRAIN_MODES, SequenceModel, TrainConfig, masked_loss, train

DEFAULT_SHAPES = ("copy:gru:1x64:300", "copy:lstm:1x128:600", "copy:mgu:1x128:600", "denoising:gru:2x256:200")
"""The multistability study's network, Table 1's T = 600 row and Table 2's CPU size (``2 x 256``)."""


def parse_shape(text: str) -> dict:
    """``benchmark:cell:LxH:T`` -> its fields.

    Raises:
        ValueError: another form, naming it.
    """
    try:
        benchmark, cell, size, length = text.split(":")
        layers, width = (int(v) for v in size.lower().split("x"))
        return {"benchmark": benchmark, "cell": cell, "num_layers": layers, "hidden_size": width,
                "seq_length": int(length)}
    except ValueError:
        raise ValueError(f"a shape is benchmark:cell:LAYERSxWIDTH:T (e.g. copy:gru:1x64:300), got {text!r}") from None


def member_jobs(shape: dict, members: int, modes: list[str], args: argparse.Namespace) -> list[dict]:
    """The runs of one shape: seeds 0, 1, ... x ``modes``, the first ``members`` of them."""
    grid = itertools.product(range(-(-members // len(modes))), modes)
    return [{**shape, "seed": seed, "pretrain": mode, "train_size": args.train_size,
             "warmup_updates": args.warmup_updates, "float64": args.float64}
            for seed, mode in itertools.islice(grid, members)]


def _config_and_sets(job: dict):
    if job.get("float64"):
        torch.set_default_dtype(torch.float64)  # this worker's models; its data is converted below
    config = TrainConfig(
        cell=job["cell"], hidden_size=job["hidden_size"], num_layers=job["num_layers"], pretrain=job["pretrain"],
        epochs=1, seed=job["seed"], device="cpu", progress=False, vaa_samples=0,
        warmup_config={"updates": job["warmup_updates"]}, warmup_pool=128,
    )
    data = make_benchmark(job["benchmark"], seq_length=job["seq_length"], train_size=job["train_size"],
                          val_size=256, test_size=256, seed=job["seed"])
    sets = (data.train, data.val, data.test)
    if job.get("float64"):
        sets = tuple(dataclasses.replace(s, inputs=s.inputs.double(), targets=s.targets.double()) for s in sets)
    return config, sets


def run_separate(job: dict) -> float:
    """One run on its own (one thread); its test metric."""
    torch.set_num_threads(1)
    config, sets = _config_and_sets(job)
    return train(config, *sets).test_metric


def run_group(jobs: list[dict]) -> list[float]:
    """Runs trained as one batched model (one thread); their test metrics."""
    torch.set_num_threads(1)
    configs, sets = zip(*[_config_and_sets(job) for job in jobs], strict=True)
    return [result.test_metric for result in train_batched(list(configs), list(sets))]


def compare(jobs: list[dict], workers: int) -> dict:
    """Wall time of the runs separately and batched on ``workers`` processes, and the metrics' difference."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        start = time.perf_counter()
        separate = list(pool.map(run_separate, jobs))
        separate_seconds = time.perf_counter() - start
        groups = [jobs[k::workers] for k in range(workers) if jobs[k::workers]]
        start = time.perf_counter()
        grouped = list(pool.map(run_group, groups))
        batched_seconds = time.perf_counter() - start
    batched = [None] * len(jobs)
    for k, metrics in enumerate(grouped):
        batched[k::workers] = metrics
    return {
        "separate_seconds": separate_seconds, "batched_seconds": batched_seconds,
        "speedup": separate_seconds / batched_seconds,
        "max_metric_difference": max(abs(a - b) for a, b in zip(separate, batched, strict=True)),
    }


def time_batch_step(shape: dict, members: int, modes: list[str], repeats: int = 3,
                    batch_size: int = 32) -> dict:
    """Seconds of one training step of ``members`` models one after the other, and of one batched step."""
    torch.manual_seed(0)
    benchmark = make_benchmark(shape["benchmark"], seq_length=shape["seq_length"], train_size=batch_size,
                               val_size=1, test_size=1, seed=0)
    data = benchmark.train
    models = [SequenceModel(shape["cell"], data.input_size, shape["hidden_size"], data.num_outputs,
                            shape["num_layers"], double=TrainConfig(pretrain=modes[k % len(modes)]).double)
              for k in range(members)]
    optimizers = [torch.optim.Adam(model.parameters()) for model in models]
    batched = BatchedModels(models)
    inputs = data.inputs.unsqueeze(2).expand(-1, -1, members, -1).contiguous()
    steps = data.steps.unsqueeze(2).expand(-1, -1, members).contiguous()

    def separate() -> None:
        for model, optimizer in zip(models, optimizers, strict=True):
            loss = masked_loss(model(data.inputs, data.steps), data.targets, data.task)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def together() -> None:
        pred = batched(inputs, steps)
        loss = sum(masked_loss(pred[:, :, k], data.targets, data.task) for k in range(members))
        for optimizer in optimizers:
            optimizer.zero_grad()
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()

    seconds = {}
    for name, step in (("separate", separate), ("batched", together)):
        step()  # warm the allocator and TorchScript up
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        seconds[name] = (time.perf_counter() - start) / repeats
    return {"separate_seconds": seconds["separate"], "batched_seconds": seconds["batched"],
            "speedup": seconds["separate"] / seconds["batched"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=list(DEFAULT_SHAPES), help="benchmark:cell:LxH:T each")
    parser.add_argument("--members", type=int, default=9, help="runs per shape (seeds x modes)")
    parser.add_argument("--modes", nargs="+", choices=PRETRAIN_MODES, default=["none", "full", "double"])
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each), both ways")
    parser.add_argument("--train-size", type=int, default=512, help="training sequences of the one epoch")
    parser.add_argument("--warmup-updates", type=int, default=20, help="warm-up updates of the warm modes")
    parser.add_argument("--float64", action="store_true",
                        help="train both ways in float64 (the metrics then agree to rounding of float64)")
    parser.add_argument("--per-batch", action="store_true",
                        help="time one training step both ways (this process, one thread) instead of whole runs")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    if args.members < 1 or args.workers < 1:
        parser.error(f"--members and --workers must be >= 1, got {args.members} and {args.workers}")
    shapes = [parse_shape(text) for text in args.shapes]
    if args.per_batch:
        return _per_batch(args, shapes, argv)
    header = [
        "# Batched multi-run training against separate processes", "",
        f"Command: `{_command(argv)}`", "",
        f"Machine: {platform.processor() or platform.machine()}, {args.workers} processes of one torch thread "
        f"each both ways; torch {torch.__version__}. One epoch of {args.train_size} sequences per run after "
        f"warm-up ({args.warmup_updates} updates), modes {', '.join(args.modes)}"
        f"{', in float64' if args.float64 else ''}.", "",
        "| shape | runs | separate processes (s) | batched (s) | speed-up | largest test-metric difference |",
        "|---|---|---|---|---|---|",
    ]

    def row(text: str, shape: dict) -> str:
        result = compare(member_jobs(shape, args.members, args.modes, args), args.workers)
        return (f"| {text} | {args.members} | {result['separate_seconds']:.1f} | {result['batched_seconds']:.1f} "
                f"| {result['speedup']:.2f}x | {result['max_metric_difference']:.1e} |")

    return _report(args, shapes, header, row)


def _per_batch(args: argparse.Namespace, shapes: list[dict], argv: list[str] | None) -> int:
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    header = [
        "# One training step: members one after the other against one batched step", "",
        f"Command: `{_command(argv)}`", "",
        f"Machine: {platform.processor() or platform.machine()}, one torch thread; torch {torch.__version__}. "
        f"Forward, backward and Adam on a batch of 32 sequences; members' layers by the modes "
        f"{', '.join(args.modes)} in turn (double layers for DLWU).", "",
        "| shape | members | one after the other (ms) | batched (ms) | speed-up |", "|---|---|---|---|---|",
    ]

    def row(text: str, shape: dict) -> str:
        result = time_batch_step(shape, args.members, args.modes)
        return (f"| {text} | {args.members} | {1000 * result['separate_seconds']:.0f} | "
                f"{1000 * result['batched_seconds']:.0f} | {result['speedup']:.2f}x |")

    return _report(args, shapes, header, row)


def _command(argv: list[str] | None) -> str:
    return " ".join(["python scripts/speed_batched.py", *(sys.argv[1:] if argv is None else argv)])


def _report(args: argparse.Namespace, shapes: list[dict], header: list[str], row) -> int:
    """Prints the header, then one ``row(text, shape)`` per shape as it is measured; writes ``--out``."""
    lines = list(header)
    print("\n".join(lines), flush=True)
    for text, shape in zip(args.shapes, shapes, strict=True):
        lines.append(row(text, shape))
        print(lines[-1], flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

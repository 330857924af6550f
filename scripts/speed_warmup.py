"""Speed of the core: warm-up steps and cell forward+backward, as a markdown table.

    python scripts/speed_warmup.py                 # CPU
    python scripts/speed_warmup.py --device cuda   # GPU (synchronised timings)

Rows:
- a warm-up step (VAA* of every layer + one Adam step) for a 2x256 GRU on
  denoising-like sequences (T=200, batch 32) at the first curriculum steps and
  at the full horizon M=200, and for a 1x128 MGU/BRC/nBRC on copy sequences T=300;
- forward+backward of one layer (T=300, B=32, H=128) of every cell vs ``nn.GRU``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from warm_rl import RecurrentNet, WarmupConfig, warm_up
from warm_rl.cells import make_layer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn, device: torch.device, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after one warm-up run."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def warmup_step_seconds(cell: str, layers: int, hidden: int, steps: int, features: int,
                        horizon: int, device: torch.device, repeats: int) -> float:
    """Seconds per warm-up step with the curriculum pinned at ``horizon``."""
    torch.manual_seed(0)
    net = RecurrentNet(cell, features, hidden, layers).to(device)
    data = torch.randn(steps, 256, features, device=device)
    lengths = torch.full((256,), steps, device=device)
    config = WarmupConfig(updates=repeats, max_horizon=horizon, horizon_increment=horizon, restarts=0, seed=0)
    warm_up(net, (data, lengths), WarmupConfig(updates=2, seed=0, restarts=0))  # compile / cuDNN plans
    _sync(device)
    report = warm_up(net, (data, lengths), config)
    # the last evaluation at M = max_steps is not a step: subtract nothing, report per-step time
    return report.seconds / (report.updates + 1)


def layer_fwd_bwd_seconds(cell: str, device: torch.device, repeats: int) -> float:
    torch.manual_seed(0)
    if cell == "nn.GRU":
        module = torch.nn.GRU(1, 128).to(device)

        def run():
            out, _ = module(x)
            out.sum().backward()
    else:
        kwargs = {"t_max": 300} if cell == "chrono" else {}
        module = make_layer(cell, 1, 128, **kwargs).to(device)
        zeros = torch.zeros(32, 128, device=device)

        def run():
            out, _ = module(x, (zeros, zeros), None)
            out.sum().backward()

    x = torch.randn(300, 32, 1, device=device)
    return time_call(run, device, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("| warm-up step | M | seconds/step |\n|---|---|---|")
    for horizon in (11, 200):
        seconds = warmup_step_seconds("gru", 2, 256, 200, 2, horizon, device, args.repeats)
        print(f"| GRU 2x256, denoising-like T=200, batch 32 | <= {horizon} | {seconds:.3f} |")
    for cell in ("mgu", "brc", "nbrc"):
        seconds = warmup_step_seconds(cell, 1, 128, 300, 1, 200, device, args.repeats)
        print(f"| {cell.upper()} 1x128, copy T=300, batch 32 | <= 200 | {seconds:.3f} |")
    print("\n| layer fwd+bwd, T=300 B=32 H=128 | ms | x nn.GRU |\n|---|---|---|")
    reference = layer_fwd_bwd_seconds("nn.GRU", device, args.repeats)
    for cell in ("nn.GRU", "gru", "lstm", "mgu", "brc", "nbrc"):
        seconds = reference if cell == "nn.GRU" else layer_fwd_bwd_seconds(cell, device, args.repeats)
        print(f"| {cell} | {seconds * 1e3:.1f} | {seconds / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

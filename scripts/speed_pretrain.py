"""What the pre-trainings cost: seconds of LSC pre-training beside warm-up's, per layer size.

    python scripts/speed_pretrain.py --threads 1 --out results/lsc_vs_warmup/cost.md
    python scripts/speed_pretrain.py --device cuda

For each cell and width: one layer on copy-like sequences (T=100, one feature, 256
sequences), 100 warm-up updates (batch 32, the default curriculum up to M=200) and
100 LSC steps (batch 32, the default estimator: dense Jacobians up to 128 wide,
matrix-free Arnoldi above; convergence disabled so that every run takes its 100
steps). Then, with the default stopping rule, how LSC's options change convergence:
steps until every radius stayed within 0.08 of its target for 20 steps, and the final
recurrent radius, for AdaBelief + Lookahead vs Adam, with and without
``rescale_recurrent``. Prints markdown tables (and writes them to ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from warm_rl import LSCConfig, RecurrentNet, WarmupConfig, lsc_pretrain, warm_up

STEPS = 100
"""Updates of each pre-training timed."""


def _data(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(100, 256, 1, generator=generator).to(device)
    return data, torch.full((256,), 100, device=device)


def pretrain_seconds(cell: str, hidden: int, device: torch.device) -> dict[str, float | str]:
    """Wall seconds of ``STEPS`` warm-up updates and ``STEPS`` LSC steps of a fresh 1-layer net.

    Returns:
        ``warmup``, ``lsc`` (seconds) and ``estimator`` (of the recurrent term).
    """
    data = _data(device)
    torch.manual_seed(0)
    net = RecurrentNet(cell, 1, hidden).to(device)
    warm_up(net, data, WarmupConfig(updates=2, restarts=0, seed=0))  # first-call costs (plans, caches)
    report = warm_up(net, data, WarmupConfig(updates=STEPS, restarts=0, seed=0))
    warm_seconds = report.seconds
    torch.manual_seed(0)
    net = RecurrentNet(cell, 1, hidden).to(device)
    config = LSCConfig(max_steps=STEPS, tolerance=1e-9, restarts=0, seed=0)
    lsc_pretrain(net, data, LSCConfig(max_steps=2, seed=0))
    start = time.perf_counter()
    lsc = lsc_pretrain(net, data, config)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return {"warmup": warm_seconds, "lsc": time.perf_counter() - start, "estimator": lsc.estimators["recurrent_0"]}


def convergence(cell: str, hidden: int, optimizer: str, rescale: bool, device: torch.device) -> dict:
    """One default-budget LSC run of a fresh 1-layer net: how it stopped and where its radii ended.

    The input term is left out of the stopping rule's reach on one-feature data (its
    Jacobian is one column), so the rule is applied to a GRU/LSTM on 8-feature data.
    """
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(100, 256, 8, generator=generator).to(device), torch.full((256,), 100, device=device)
    torch.manual_seed(0)
    net = RecurrentNet(cell, 8, hidden).to(device)
    report = lsc_pretrain(net, data, LSCConfig(optimizer=optimizer, rescale_recurrent=rescale, seed=0))
    return {
        "stop": f"{report.stop_reason} at step {report.stop_step + 1}",
        "best": report.best_step + 1,
        "recurrent": report.radii["recurrent_0"][report.best_step],
        "input": report.radii["input"][report.best_step],
        "seconds": report.seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--cells", nargs="+", default=["gru", "lstm"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64, 128, 256])
    parser.add_argument("--tables", nargs="+", choices=["cost", "convergence"], default=["cost", "convergence"])
    parser.add_argument("--out", default=None, help="also write the tables to this markdown file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    lines = [f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}"]
    if "cost" in args.tables:
        lines += _cost_table(args, device)
    if "convergence" in args.tables:
        lines += _convergence_table(args, device)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


def _cost_table(args: argparse.Namespace, device: torch.device) -> list[str]:
    lines = [
        "",
        f"{STEPS} steps of each, 1 layer, T=100, batch 32:",
        "",
        "| cell | width | warm-up (s) | LSC (s) | LSC / warm-up | LSC estimator |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for cell in args.cells:
        for hidden in args.sizes:
            got = pretrain_seconds(cell, hidden, device)
            line = (f"| {cell.upper()} | {hidden} | {got['warmup']:.1f} | {got['lsc']:.1f} | "
                    f"{got['lsc'] / got['warmup']:.2f} | {got['estimator']} |")
            print(line, flush=True)
            lines.append(line)
    return lines


def _convergence_table(args: argparse.Namespace, device: torch.device) -> list[str]:
    lines = [
        "",
        "LSC convergence (default budget 2 x T = 200 steps, stop rule 0.08 / 20 steps), 1 layer, 8 features, T=100:",
        "",
        "| cell | width | optimizer | rescale_recurrent | stopped | best step | recurrent radius | input radius | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for cell in args.cells:
        for optimizer in ("adabelief_lookahead", "adam"):
            for rescale in (False, True):
                got = convergence(cell, 64, optimizer, rescale, device)
                line = (f"| {cell.upper()} | 64 | {optimizer} | {rescale} | {got['stop']} | {got['best']} | "
                        f"{got['recurrent']:.3f} | {got['input']:.3f} | {got['seconds']:.1f} |")
                print(line, flush=True)
                lines.append(line)
    return lines


if __name__ == "__main__":
    sys.exit(main())

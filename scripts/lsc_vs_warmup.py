"""LSC beside warm-up: the side-by-side tables and figure of results/lsc_vs_warmup/.

    sh results/lsc_vs_warmup/run_supervised.sh     # copy T=300 (resumable)
    sh results/lsc_vs_warmup/run_denoising.sh      # denoising N=100, reduced (resumable)
    sh results/lsc_vs_warmup/run_rl.sh             # the T-maze runs (resumable)
    python scripts/speed_pretrain.py --threads 1 --out results/lsc_vs_warmup/cost.md
    python scripts/lsc_vs_warmup.py                # -> results/lsc_vs_warmup/summary.md + vaa_vs_mse.png

Reads the runs that are finished (it never trains): the supervised table runs
(``copy_T300_runs.jsonl``, ``denoising_N100_runs.jsonl``), the T-maze runs (``tmaze_L50.jsonl``) beside the
warm-up and cold runs of the same settings in ``results/tmaze_warm_vs_cold/``,
and the cost table (``cost.md``). Prints the summary and writes it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from agents.benchmark import SOLVED, load_results
from warm_rl.suite.tables import MODE_LABELS
from warm_rl.suite.trainer import PRETRAIN_MODES

FOLDER = Path("results/lsc_vs_warmup")
RL_REFERENCES = (
    Path("results/tmaze_warm_vs_cold/L50_no_entropy_lr_linear_1M.jsonl"),
    Path("results/tmaze_warm_vs_cold/L50_no_entropy_lr_linear_cold_1M.jsonl"),
)
"""Warm-up (``warm``) and no pre-training (``cold``) runs with the settings of ``run_rl.sh``."""

SUPERVISED = (
    ("copy_T300", "copy-first-input T=300, 1 x 128 (`run_supervised.sh`)", "copy T=300, {cell} 1x128"),
    ("denoising_N100", "denoising N=100, T=200, 2 x 64 (`run_denoising.sh`; the paper: 2 x 256)",
     "denoising N=100, {cell} 2x64"),
)
"""(runs file stem, section title, figure panel title) of each supervised benchmark."""

RL_LABELS = {
    "cold": "none (single layer)", "warm": "warm-up (double layer, the default)",
    "lsc": "LSC target 1 (double layer, both halves)", "warm_lsc": "warm-up + LSC (warm half warmed up, cold half LSC)",
}


def _records(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g} (n=1)"
    text = f"{statistics.mean(values):.3g} ± {statistics.stdev(values):.2g}"
    return text if len(values) >= 3 else text + f" (n={len(values)})"


def supervised_table(runs: list[dict]) -> list[str]:
    """Per cell and mode: test MSE, VAA after pre-training (epoch 0) and after training, LSC stop."""
    lines = [
        "| cell | pre-training | test MSE (mean ± std) | test MSE per seed | VAA after pre-training "
        "| VAA after training | pre-training seconds | LSC stopped |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell in sorted({r["cell"] for r in runs}, key=["gru", "lstm", "mgu", "brc", "nbrc", "chrono"].index):
        for mode in PRETRAIN_MODES:
            group = sorted((r for r in runs if r["cell"] == cell and r["mode"] == mode), key=lambda r: r["seed"])
            if not group:
                continue
            mse = [r["test_metric"] for r in group]
            start = [r["history"][0]["vaa"] for r in group]
            end = [r["history"][-1]["vaa"] for r in group]
            seconds = [sum((r.get(k) or {}).get("seconds", 0.0) for k in ("warmup", "lsc")) for r in group]
            stops = [r["lsc"]["stop_reason"] + f" @{r['lsc']['stop_step'] + 1}" for r in group if r.get("lsc")]
            lines.append(
                f"| {cell.upper()} | {MODE_LABELS[mode]} | {_mean_std(mse)} | "
                f"{', '.join(f'{m:.2g}' for m in mse)} | {_mean_std(start)} | {_mean_std(end)} | "
                f"{statistics.mean(seconds):.0f} | {', '.join(stops) or '-'} |"
            )
    return lines


def first_solved(history: list) -> int | None:
    """The first evaluation step with greedy success >= SOLVED (None: never)."""
    return next((step for step, success, _ in history if success is not None and success >= SOLVED), None)


def rl_table(runs: list[dict]) -> list[str]:
    """Per variant: solved runs, greedy success per seed, first-solved step, VAA after pre-training."""
    lines = [
        "| pre-training | solved (greedy success >= 0.95) | greedy success per seed | first solved at (env steps) "
        "| VAA before -> after pre-training | pre-training seconds |",
        "|---|---|---|---|---|---|",
    ]
    for variant in RL_LABELS:
        group = sorted((r for r in runs if r["variant"] == variant), key=lambda r: r["config"]["seed"])
        if not group:
            continue
        rates = [r["success_rate"] or 0.0 for r in group]
        solved_at = [first_solved(r["history"]) for r in group]
        vaa = [(r["vaa_before"], r["vaa_after"]) for r in group if r["vaa_after"] is not None]
        vaa_text = "-" if not vaa else (
            f"{statistics.mean(b for b, _ in vaa):.3f} -> {statistics.mean(a for _, a in vaa):.3f}")
        seconds = [r["warmup_seconds"] for r in group if r.get("warmup_seconds") is not None]
        seconds_text = f"{statistics.mean(seconds):.1f}" if seconds else "-"
        lines.append(
            f"| {RL_LABELS[variant]} | {sum(x >= SOLVED for x in rates)}/{len(group)} | "
            f"{', '.join(f'{x:.2f}' for x in rates)} | "
            f"{', '.join('never' if s is None else f'{s // 1000}k' for s in solved_at)} | {vaa_text} | "
            f"{seconds_text} |"
        )
    return lines


def plot_vaa_vs_mse(benchmarks: list[tuple[str, list[dict]]], path: Path) -> None:
    """One point per supervised run: VAA after pre-training (x) against test MSE (y, log); a
    panel per benchmark and cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(title, cell, runs) for title, runs in benchmarks for cell in ("gru", "lstm")]
    fig, axes = plt.subplots(len(benchmarks), 2, figsize=(11, 4.2 * len(benchmarks)), squeeze=False)
    markers = dict(zip(PRETRAIN_MODES, "osD^vP", strict=True))
    for ax, (title, cell, runs) in zip(axes.flat, panels, strict=True):
        for mode in PRETRAIN_MODES:
            group = [r for r in runs if r["cell"] == cell and r["mode"] == mode]
            if group:
                ax.scatter([r["history"][0]["vaa"] for r in group], [r["test_metric"] for r in group],
                           marker=markers[mode], label=MODE_LABELS[mode], s=45, alpha=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("VAA after pre-training (before training)")
        ax.set_ylabel("test MSE of the kept model")
        ax.set_title(title.format(cell=cell.upper()))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args(argv)
    rl = load_results(args.folder / "tmaze_L50.jsonl") if (args.folder / "tmaze_L50.jsonl").is_file() else []
    for reference in RL_REFERENCES:
        rl += load_results(reference) if reference.is_file() else []
    lines: list[str] = []
    figure: list[tuple[str, list[dict]]] = []
    for stem, section, panel in SUPERVISED:
        runs = _records(args.folder / f"{stem}_runs.jsonl")
        lines += [f"## Supervised: {section}", ""]
        lines += (supervised_table(runs) if runs else ["(no finished run yet)"]) + [""]
        if runs:
            figure.append((panel, runs))
    lines += ["## RL: the default T-maze agent, L=50, 1M steps (`run_rl.sh`)", ""]
    lines += rl_table(rl) if rl else ["(no finished run yet)"]
    cost = args.folder / "cost.md"
    lines += ["", "## Cost (`scripts/speed_pretrain.py`)", ""]
    lines += cost.read_text().splitlines() if cost.is_file() else ["(not measured yet)"]
    convergence = args.folder / "convergence.md"
    if convergence.is_file():
        lines += ["", "## LSC options: optimiser and rescale_recurrent", ""] + convergence.read_text().splitlines()
    text = "\n".join(lines) + "\n"
    (args.folder / "summary.md").write_text(text)
    if figure:
        plot_vaa_vs_mse(figure, args.folder / "vaa_vs_mse.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

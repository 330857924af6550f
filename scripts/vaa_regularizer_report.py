"""Does the VAA* regulariser keep multistability? The lambda sweep's table and figure.

    sh results/vaa_regularizer/run_supervised.sh           # the runs (resumable, ~20 min each)
    python scripts/vaa_regularizer_report.py               # results/vaa_regularizer/vaa_regularizer.{md,png}

Reads every ``<dir>/*_runs.jsonl`` written by ``scripts/supervised.py`` (one file per
setting: ``--vaa-reg LAMBDA`` or none) and prints, per lambda and seed: the test MSE of the
best-on-validation model, whether it reached < ``--solved`` (0.01), the actor's VAA after the
first training epoch, its minimum and final value over training, the epochs with VAA > 0.5,
and the regulariser's share of the training time (its own clock, ``vaa_reg_seconds``, over
the epochs' training seconds). The figure shows VAA and validation MSE against the epoch,
one line per run.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from warm_rl.suite.sweep import load_records

KEPT = 0.5
"""VAA above which the network counts as multistable."""


def setting_of(record: dict) -> str:
    """``"none"`` or the regulariser's lambda as text, from a supervised run record."""
    reg = record.get("settings", {}).get("vaa_reg")
    return "none" if not reg else f"{reg['weight']:g}"


def run_summary(record: dict, solved: float) -> dict:
    """One run's row: test MSE, solved or not, VAA through training, the regulariser's overhead.

    Args:
        record: a ``scripts/supervised.py`` run record (``history``: epoch 0 = after
            pre-training, then one entry per training epoch with ``vaa`` and ``seconds``).
        solved: test MSE below which the run counts as solved.
    """
    epochs = [entry for entry in record["history"] if entry["epoch"] >= 1]
    if not epochs:
        raise ValueError(f"run record of seed {record.get('seed')!r} has no training epoch")
    vaas = [entry["vaa"] for entry in epochs]
    train_seconds = sum(entry["seconds"] for entry in epochs)
    reg_seconds = epochs[-1].get("vaa_reg_seconds", 0.0)
    return {
        "setting": setting_of(record),
        "seed": record["seed"],
        "test_mse": record["test_metric"],
        "solved": record["test_metric"] < solved,
        "best_epoch": record["best_epoch"],
        "vaa_epoch1": vaas[0],
        "vaa_min": min(vaas),
        "vaa_final": vaas[-1],
        "epochs_kept": sum(v > KEPT for v in vaas),
        "epochs": len(vaas),
        "seconds_per_epoch": train_seconds / len(epochs),
        "overhead": reg_seconds / train_seconds if train_seconds > 0 else math.nan,
    }


def _order(setting: str) -> float:
    return -1.0 if setting == "none" else float(setting)


def table(rows: list[dict], solved: float, command: str) -> str:
    """The Markdown report: one line per run, then one summary line per lambda."""
    lines = [
        "# The VAA* regulariser on LSTM copy T = 300, DLWU (1 x 128, 40 epochs, 8000 / 1000 / 5000 sequences)",
        "",
        f"Command: `{command}` (runs: `sh results/vaa_regularizer/run_supervised.sh`).",
        "",
        f"VAA is the actor's exact VAA on the validation inputs after each epoch; 'kept' counts epochs "
        f"with VAA > {KEPT}. Overhead: the regulariser's own clock over the epochs' training time "
        "(evaluated every 10 batches, M = 100, at most 32 sequences, k = 0.95).",
        "",
        "| lambda | seed | test MSE | best epoch | VAA after epoch 1 | min VAA | final VAA | epochs kept "
        "| s / epoch | overhead |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (_order(r["setting"]), r["seed"])):
        overhead = "-" if row["setting"] == "none" else f"{100 * row['overhead']:.1f}%"
        lines.append(
            f"| {row['setting']} | {row['seed']} | {row['test_mse']:.2e} | {row['best_epoch']} "
            f"| {row['vaa_epoch1']:.2f} | {row['vaa_min']:.2f} | {row['vaa_final']:.2f} "
            f"| {row['epochs_kept']} / {row['epochs']} | {row['seconds_per_epoch']:.1f} | {overhead} |"
        )
    by_setting: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_setting[row["setting"]].append(row)
    lines += ["", f"| lambda | seeds | solved (MSE < {solved:g}) | median test MSE | seeds with final VAA > {KEPT} "
              "| mean overhead |", "|---|---|---|---|---|---|"]
    for setting in sorted(by_setting, key=_order):
        group = by_setting[setting]
        overhead = "-" if setting == "none" else f"{100 * statistics.fmean(r['overhead'] for r in group):.1f}%"
        lines.append(
            f"| {setting} | {', '.join(str(r['seed']) for r in sorted(group, key=lambda r: r['seed']))} "
            f"| {sum(r['solved'] for r in group)} / {len(group)} "
            f"| {statistics.median(r['test_mse'] for r in group):.2e} "
            f"| {sum(r['vaa_final'] > KEPT for r in group)} / {len(group)} | {overhead} |"
        )
    return "\n".join(lines) + "\n"


def plot(records: list[dict], path: Path) -> None:
    """VAA and validation MSE against the epoch, one line per run, one colour per lambda."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = sorted({setting_of(r) for r in records}, key=_order)
    colours = {s: plt.cm.viridis(i / max(1, len(settings) - 1)) for i, s in enumerate(settings)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for record in records:
        setting = setting_of(record)
        epochs = [e["epoch"] for e in record["history"]]
        label = f"lambda {setting}, seed {record['seed']}"
        left.plot(epochs, [e["vaa"] for e in record["history"]], color=colours[setting], label=label)
        right.semilogy(epochs, [e["val_metric"] for e in record["history"]], color=colours[setting], label=label)
    left.set(xlabel="epoch", ylabel="VAA", title="multistability through training")
    right.set(xlabel="epoch", ylabel="validation MSE", title="learning")
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path("results/vaa_regularizer"),
                        help="folder of the sweep's *_runs.jsonl files")
    parser.add_argument("--solved", type=float, default=0.01, help="test MSE below which a run is solved")
    parser.add_argument("--no-plot", action="store_true", help="write the Markdown only")
    args = parser.parse_args(argv)
    if not args.solved > 0:
        parser.error(f"--solved must be > 0, got {args.solved}")
    files = sorted(args.dir.glob("*_runs.jsonl"))
    records = [record for path in files for record in load_records(path)]
    if not records:
        parser.error(f"no *_runs.jsonl records under {args.dir}")
    rows = [run_summary(record, args.solved) for record in records]
    command = " ".join(["python scripts/vaa_regularizer_report.py", *(sys.argv[1:] if argv is None else argv)])
    text = table(rows, args.solved, command)
    (args.dir / "vaa_regularizer.md").write_text(text)
    if not args.no_plot:
        plot(records, args.dir / "vaa_regularizer.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

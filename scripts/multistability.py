"""Which initialisations and pre-trainings make a recurrent network multistable, and does it predict learning?

    python scripts/multistability.py                       # 5 cells x 9 procedures x 3 seeds (resumable)
    python scripts/multistability.py --cells gru --seeds 0 --epochs 1      # a quick look

For every cell (LSTM, GRU, MGU, BRC, nBRC) and procedure - the cells' default
initialisation, orthogonal recurrent weights, chrono initialisation (LSTM, GRU's update
gate, MGU's gate), the warm-up paper's GRU initialisation, LSC target 1, LSC target 0.5,
warm-up, DLWU, and DLWU + LSC on the cold halves (:data:`PROCEDURES`) - and every seed, it
measures, after the initialisation and pre-training and before any training:

* the exact VAA (``--vaa-horizon`` steps, default M = 10,000) on copy-first-input sequences
  and on denoising sequences (their N(0, 1) stream: the network has the copy task's one input);
* the mean recurrent Jacobian radius (:func:`warm_rl.lsc_radii`, both halves);

then trains the network on copy-first-input (CPU-sized: ``--train-size`` sequences,
``--epochs`` epochs) and records the test MSE of the best-on-validation model. Each run is
appended to ``<out>_runs.jsonl`` (a rerun skips finished runs); the table goes to
``<out>.md``, every run to ``<out>.csv`` and the figure of VAA after initialisation against
test MSE, one point per run, to ``<out>.png``. The Markdown states which procedures make
networks multistable (mean VAA > 0.5) and the rank correlation of VAA with the test MSE.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from warm_rl import lsc_radii, vaa
from warm_rl.inits import CHRONO_CELLS
from warm_rl.suite.data import make_benchmark
from warm_rl.suite.sweep import append_record, load_records
from warm_rl.suite.trainer import TrainConfig, pool_sequences, pretrain_model, seeded_model, train

PROCEDURES: dict[str, tuple[str, str]] = {
    "default": ("default", "none"),
    "orthogonal": ("orthogonal", "none"),
    "chrono": ("chrono", "none"),
    "paper_gru": ("paper_gru", "none"),
    "lsc_1": ("default", "lsc"),
    "lsc_0.5": ("default", "lsc_half"),
    "warmup": ("default", "full"),
    "dlwu": ("default", "double"),
    "dlwu_lsc": ("default", "double_lsc"),
}
"""Procedure -> (initialisation of :mod:`warm_rl.inits`, pre-training mode of the suite)."""

CELLS = ("lstm", "gru", "mgu", "brc", "nbrc")


def applicable(cell: str, procedure: str) -> bool:
    """Chrono initialisation needs a gated memory; every other procedure applies to every cell."""
    return procedure != "chrono" or cell in CHRONO_CELLS


def pretrained(config: TrainConfig, data) -> torch.nn.Module:
    """The model as :func:`warm_rl.suite.trainer.train` builds and pre-trains it before training
    (its own seeded steps, :func:`~warm_rl.suite.trainer.seeded_model`: the same weights)."""
    model, _, pool_index = seeded_model(config, data)
    pretrain_model(model, config, pool_sequences(data, pool_index[: max(1, config.warmup_pool)]))
    return model


def measure(config: TrainConfig, copy, denoising, samples: int, horizon: int) -> dict:
    """VAA on both data sets and the mean recurrent radius of the pre-trained network."""
    model = pretrained(config, copy.train)
    net = model.rnn
    copy_set = pool_sequences(copy.train, torch.arange(samples))
    # the copy network has one input: the denoising sequences' N(0, 1) stream, without their marker channel
    noisy, lengths = pool_sequences(denoising.train, torch.arange(samples))
    noisy_set = (noisy[..., : copy_set[0].shape[-1]], lengths)
    radii = lsc_radii(net, copy_set, {"halves": "both"} if net.double else None, steps=50)
    return {
        "vaa_copy": vaa(net, copy_set, horizon=horizon, seed=config.seed),
        "vaa_denoising": vaa(net, noisy_set, horizon=horizon, seed=config.seed),
        "radius": statistics.mean(v for k, v in radii.items() if k.startswith("recurrent")),
    }


def run_one(cell: str, procedure: str, seed: int, args: argparse.Namespace) -> dict:
    """Measures, trains and tests one (cell, procedure, seed)."""
    start = time.perf_counter()
    init, mode = PROCEDURES[procedure]
    copy = make_benchmark("copy", seq_length=args.seq_length, train_size=args.train_size, val_size=args.val_size,
                          test_size=args.test_size, seed=seed)
    denoising = make_benchmark("denoising", seq_length=200, delay=100, train_size=args.vaa_samples,
                               val_size=1, test_size=1, seed=seed)
    config = TrainConfig(cell=cell, hidden_size=args.hidden_size, pretrain=mode, init=init, epochs=args.epochs,
                         seed=seed, vaa_samples=0, progress=False, test_every_epoch=False,
                         warmup_pool=min(1024, args.train_size))
    measured = measure(config, copy, denoising, args.vaa_samples, args.vaa_horizon)
    result = train(config, copy.train, copy.val, copy.test)
    return {"cell": cell, "procedure": procedure, "seed": seed, **measured, "test_mse": result.test_metric,
            "seconds": time.perf_counter() - start, "settings": _settings(args)}


def _settings(args: argparse.Namespace) -> dict:
    return {key: getattr(args, key) for key in ("hidden_size", "seq_length", "train_size", "val_size",
                                                 "test_size", "epochs", "vaa_horizon", "vaa_samples")}


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); nan for fewer than 3 points."""
    if len(x) < 3:
        return float("nan")

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2
            i = j + 1
        return result

    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def table(records: list[dict], command: str) -> str:
    """The Markdown summary: a row per (cell, procedure), the multistable procedures, the correlations."""
    settings = sorted({json.dumps(r["settings"], sort_keys=True) for r in records})
    lines = [f"# Multistability after initialisation and pre-training\n\nCommand: `{command}`\n",
             *[f"Settings: {', '.join(f'{k} {v}' for k, v in json.loads(one).items())}\n" for one in settings],
             "| cell | procedure | VAA copy (mean) | per seed | multistable runs | VAA denoising | recurrent radius "
             "| test MSE (mean) | per seed |",
             "|---|---|---|---|---|---|---|---|---|"]
    multistable = []
    for cell in CELLS:
        for procedure in PROCEDURES:
            group = sorted((r for r in records if r["cell"] == cell and r["procedure"] == procedure),
                           key=lambda r: r["seed"])
            if not group:
                continue
            mean = {key: statistics.mean(r[key] for r in group) for key in ("vaa_copy", "vaa_denoising", "radius",
                                                                            "test_mse")}
            if mean["vaa_copy"] > 0.5:
                multistable.append(f"{cell.upper()} {procedure}")
            per_seed = ", ".join(f"{r['test_mse']:.2g}" for r in group)
            vaa_per_seed = ", ".join(f"{r['vaa_copy']:.2f}" for r in group)
            stable = sum(r["vaa_copy"] > 0.5 for r in group)
            lines.append(f"| {cell.upper()} | {procedure} | {mean['vaa_copy']:.3f} | {vaa_per_seed} | "
                         f"{stable}/{len(group)} | {mean['vaa_denoising']:.3f} | "
                         f"{mean['radius']:.3f} | {mean['test_mse']:.3g} | {per_seed} |")
    rho = spearman([r["vaa_copy"] for r in records], [r["test_mse"] for r in records])
    lines += ["", f"Multistable (mean VAA on copy sequences > 0.5): {', '.join(multistable) or 'none'}.", "",
              f"Rank correlation of VAA (copy, after initialisation) with test MSE over all {len(records)} runs: "
              f"Spearman rho = {rho:.2f} (negative: more multistable networks learn better)."]
    for cell in CELLS:
        group = [r for r in records if r["cell"] == cell]
        if len(group) >= 3:
            rho_cell = spearman([r["vaa_copy"] for r in group], [r["test_mse"] for r in group])
            lines.append(f"- {cell.upper()}: rho = {rho_cell:.2f} ({len(group)} runs)")
    return "\n".join(lines) + "\n"


def plot(records: list[dict], path: Path) -> None:
    """VAA after initialisation (x) against test MSE (y, log), one point per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    markers = dict(zip(CELLS, "osD^v", strict=True))
    colours = {p: f"C{i}" for i, p in enumerate(PROCEDURES)}
    for record in records:
        ax.scatter(record["vaa_copy"], max(record["test_mse"], 1e-6), marker=markers[record["cell"]],
                   color=colours[record["procedure"]], s=40, alpha=0.8)
    for procedure, colour in colours.items():
        ax.scatter([], [], color=colour, label=procedure)
    for cell, marker in markers.items():
        ax.scatter([], [], color="grey", marker=marker, label=cell.upper())
    ax.set_yscale("log")
    ax.set_xlabel("VAA after initialisation and pre-training (copy sequences)")
    ax.set_ylabel("test MSE after a short training (copy)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(records: list[dict], out: Path, command: str) -> str:
    text = table(records, command)
    out.with_suffix(".md").write_text(text)
    with out.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["cell", "procedure", "seed", "vaa_copy", "vaa_denoising",
                                                    "radius", "test_mse", "seconds"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    plot(records, out.with_suffix(".png"))
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS), help="cells")
    parser.add_argument("--procedures", nargs="+", choices=list(PROCEDURES), default=list(PROCEDURES),
                        help="initialisations and pre-trainings")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds")
    parser.add_argument("--hidden-size", type=int, default=64, help="width of the one layer")
    parser.add_argument("--seq-length", type=int, default=300, help="copy T")
    parser.add_argument("--train-size", type=int, default=1000, help="copy training sequences")
    parser.add_argument("--val-size", type=int, default=200, help="copy validation sequences")
    parser.add_argument("--test-size", type=int, default=1000, help="copy test sequences")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs")
    parser.add_argument("--vaa-horizon", type=int, default=10_000, help="perturbation steps M of the VAA")
    parser.add_argument("--vaa-samples", type=int, default=100, help="sequences of each VAA")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=Path("results/multistability/multistability"),
                        help="output path prefix")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    command = " ".join(["python scripts/multistability.py", *(argv if argv is not None else sys.argv[1:])])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    runs = args.out.with_name(args.out.name + "_runs.jsonl")
    settings = _settings(args)
    records = [r for r in load_records(runs) if r.get("settings") == settings] if runs.is_file() else []
    done = {(r["cell"], r["procedure"], r["seed"]) for r in records}
    for cell in args.cells:
        for procedure in args.procedures:
            for seed in args.seeds:
                if (cell, procedure, seed) in done or not applicable(cell, procedure):
                    continue
                record = run_one(cell, procedure, seed, args)
                append_record(runs, record)
                records.append(record)
                print(f"{cell} {procedure} seed {seed}: VAA copy {record['vaa_copy']:.3f}, denoising "
                      f"{record['vaa_denoising']:.3f}, radius {record['radius']:.3f}, test MSE "
                      f"{record['test_mse']:.3g} ({record['seconds']:.0f} s)", flush=True)
    if records:
        print(write(records, args.out, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())

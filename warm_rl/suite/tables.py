"""The supervised benchmark suite: one run, or a whole table of the paper.

* :func:`run_benchmark` builds a benchmark's data (on the training device) and
  trains one model (:func:`warm_rl.suite.trainer.train`).
* :func:`run_table` runs the grid of one of the paper's tables (cells x
  warm-up modes x T or N, over seeds) through :func:`warm_rl.suite.sweep.run_sweep`,
  which appends every finished run to ``<out>/<name>_runs.jsonl`` (so an
  interrupted grid resumes where it stopped); :func:`write_table` and
  :func:`write_figures` rewrite ``<name>.md`` / ``<name>.csv`` (mean +- std
  beside the paper's numbers) and the figures after every run.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from warm_rl.suite.data import BENCHMARKS, make_benchmark
from warm_rl.suite.sweep import load_records, run_sweep
from warm_rl.suite.trainer import PRETRAIN_MODES, WARMUP_MODES, TrainConfig, TrainResult, resolve_device, train

MODE_LABELS = {
    "none": "None", "full": "warmed-up", "double": "DLWU",
    "lsc": "LSC (target 1)", "lsc_half": "LSC (target 0.5)", "double_lsc": "DLWU + LSC (cold halves)",
}


@dataclass(frozen=True)
class TableSpec:
    """One of the paper's result tables.

    Attributes:
        number: table number in the paper (arXiv 2106.01001v1).
        benchmark: benchmark name (see :data:`warm_rl.suite.data.BENCHMARKS`).
        variable: what the rows vary: ``"T"`` (sequence length), ``"N"``
            (denoising delay) or ``""`` (nothing).
        values: the row values of ``variable``.
        cells: the cells compared.
        hidden_size, num_layers: the network.
        epochs: training epochs in the paper.
        seq_length: fixed sequence length (denoising: 200).
        metric: ``"mse"`` or ``"accuracy"``.
        paper: ``(value, mode, cell) -> (mean, std)``.
    """

    number: int
    benchmark: str
    variable: str
    values: tuple
    cells: tuple[str, ...]
    hidden_size: int
    num_layers: int
    epochs: int
    metric: str
    seq_length: int | None = None
    paper: dict = field(default_factory=dict)


def _paper(values: Sequence, rows: dict[str, Sequence[Sequence[tuple[float, float]]]]) -> dict:
    """``rows[mode][i][j]`` is the paper's (mean, std) for values[i] and cell j (MGU, LSTM, GRU)."""
    table = {}
    for mode, per_value in rows.items():
        for value, per_cell in zip(values, per_value, strict=True):
            for cell, numbers in zip(("mgu", "lstm", "gru"), per_cell, strict=True):
                table[(value, mode, cell)] = numbers
    return table


_Z = (0.0, 0.0)
TABLES: dict[int, TableSpec] = {
    1: TableSpec(
        1, "copy", "T", (50, 300, 600), ("mgu", "lstm", "gru"), 128, 1, 50, "mse",
        paper=_paper((50, 300, 600), {
            "none": [[(0.831, 0.324), (0.634, 0.427), (0.997, 0.005)],
                     [(0.98, 0.002), (0.95, 0.019), (1.003, 0.002)],
                     [(1.017, 0.004), (0.977, 0.008), (1.017, 0.003)]],
            "full": [[_Z, _Z, _Z]] * 3,
            "double": [[_Z, _Z, _Z]] * 3,
        }),
    ),
    2: TableSpec(
        2, "denoising", "N", (5, 100), ("mgu", "lstm", "gru"), 256, 2, 50, "mse", seq_length=200,
        paper=_paper((5, 100), {
            "none": [[(0.005, 0.008), (1.001, 0.003), _Z],
                     [(1.004, 0.003), (0.996, 0.005), (0.995, 0.003)]],
            "full": [[(0.002, 0.006), (0.032, 0.011), _Z],
                     [(0.32, 0.641), (0.338, 0.561), (0.001, 0.002)]],
            "double": [[(0.002, 0.001), (0.025, 0.007), _Z],
                       [(0.024, 0.023), (0.013, 0.125), _Z]],
        }),
    ),
    3: TableSpec(
        3, "psmnist", "", (None,), ("mgu", "lstm", "gru"), 256, 2, 70, "accuracy",
        paper=_paper((None,), {
            "none": [[(0.896, 0.004), (0.907, 0.002), (0.925, 0.004)]],
            "full": [[(0.897, 0.001), (0.402, 0.012), (0.102, 0.061)]],
            "double": [[(0.901, 0.003), (0.909, 0.005), (0.914, 0.014)]],
        }),
    ),
}
"""The paper's Tables 1-3 (arXiv v1): grids and reported test numbers."""


def run_benchmark(
    benchmark: str,
    config: TrainConfig,
    seq_length: int | None = None,
    delay: int = 100,
    pad_length: int = 0,
    train_size: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> TrainResult:
    """Builds a benchmark's data for ``config.seed`` and trains one model.

    Args:
        benchmark: one of :data:`warm_rl.suite.data.BENCHMARKS`.
        config: model and training settings (its ``seed`` also seeds the data).
        seq_length, delay, pad_length, train_size, val_size, test_size, data_dir:
            see :func:`warm_rl.suite.data.make_benchmark`.

    Returns:
        The :class:`~warm_rl.suite.trainer.TrainResult`.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}, got {benchmark!r}")
    device = resolve_device(config.device)
    data = make_benchmark(
        benchmark, seq_length=seq_length, delay=delay, pad_length=pad_length,
        train_size=train_size, val_size=val_size, test_size=test_size, seed=config.seed,
        data_dir=data_dir, device=device,
    )
    return train(replace(config, device=str(device)), data.train, data.val, data.test)


def speed_benchmark(
    cells: Sequence[str] = ("gru", "lstm", "mgu", "brc", "nbrc"),
    seq_length: int = 300,
    hidden_size: int = 128,
    train_size: int = 40_000,
    epochs: int = 1,
    device: str = "auto",
    progress: bool = False,
) -> dict[str, float]:
    """Training time of one epoch per cell on copy-first-input (issue target setting).

    The reference point is the authors' code: 6.7 s per epoch for GRU 1x128,
    T = 300, 40k samples, batch 32 on an H100. Only the training loop is timed
    (no VAA, no evaluation); the data is on the device beforehand. With
    ``epochs > 1`` the first epoch (kernel compilation, cuDNN autotuning) is
    left out of the mean.

    Returns:
        Cell -> mean seconds per training epoch (over ``epochs``).
    """
    device = str(resolve_device(device))
    data = make_benchmark("copy", seq_length=seq_length, train_size=train_size, val_size=256,
                          test_size=256, device=device)
    timings = {}
    for cell in cells:
        config = TrainConfig(cell=cell, hidden_size=hidden_size, epochs=epochs, device=device,
                             vaa_samples=0, test_every_epoch=False, progress=progress)
        result = train(config, data.train, data.val, data.test)
        epochs_timed = result.history[2:] if epochs > 1 else result.history[1:]
        timings[cell] = statistics.fmean(h["seconds"] for h in epochs_timed)
    return timings


def _fmt(mean: float, std: float, digits: int = 3) -> str:
    if math.isnan(mean):
        return "-"
    if 0 < abs(mean) < 10 ** -digits:
        return f"{mean:.1e} ± {std:.1e}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _value_key(value) -> str:
    return "" if value is None else str(value)


def run_table(
    number: int,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int | None = None,
    cells: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    values: Sequence | None = None,
    hidden_size: int | None = None,
    num_layers: int | None = None,
    train_size: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
    data_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike = "results",
    name: str | None = None,
    command: str = "",
    base_config: TrainConfig | None = None,
    plots: bool = True,
    log: bool = True,
    train_missing: bool = True,
    executor: str = "serial",
    workers: int = 1,
    batch_members: int = 1,
) -> Path:
    """Runs (or resumes) the grid of one of the paper's tables.

    Args:
        number: 1, 2 or 3 (see :data:`TABLES`).
        seeds: the seeds of every grid point.
        epochs: training epochs (the paper's when None).
        cells, modes, values: restrict the grid (all of the table's when None).
        hidden_size, num_layers: override the paper's network.
        train_size, val_size, test_size: set sizes (the paper's when None).
        data_dir: IDX directory (Table 3).
        out_dir: where the files go.
        name: file stem (default ``table<number>``).
        command: the command line, recorded in the Markdown file.
        base_config: other training settings (device, VAA, warm-up, ...); its
            cell, width, depth, mode, epochs and seed are set by the grid.
        plots: write the figures.
        log: print one line per finished run.
        train_missing: run the grid points not in the runs file; False only
            rewrites the table and figures from the runs file (to merge the
            work of several processes that ran parts of the grid).
        executor, workers: how the runs are executed (see
            :func:`warm_rl.suite.sweep.run_sweep`; default: one after the other here).
        batch_members: train up to this many unfinished grid points of one row value
            and cell (seeds and modes) as one batched model (:func:`run_table_group`;
            members checkpoint to ``<out_dir>/<name>_checkpoints/``); 1: one by one.

    Returns:
        The path of the Markdown table.

    Raises:
        ValueError: an unknown table or warm-up mode, or nothing to aggregate.
    """
    spec, cells, modes, values = _check_grid(number, cells, modes, values)
    base = base_config or TrainConfig(progress=False)
    settings = table_settings(spec, epochs, hidden_size, num_layers, train_size, val_size, test_size)
    if base.vaa_reg is not None:  # regularised runs are other runs (absent otherwise: older keys stay valid)
        settings = {**settings, "vaa_reg": base.vaa_reg}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or f"table{number}"
    runs_path = out / f"{stem}_runs.jsonl"
    device = str(resolve_device(base.device))
    records = _same_settings(load_records(runs_path), settings)
    if not train_missing and not records:
        raise ValueError(f"no finished runs with these settings in {runs_path} to aggregate: {settings}")

    def finished(record: dict) -> None:
        records.append(record)
        if log:
            _print_run(spec, record)
        write_table(spec, records, settings, out, stem, command, device)
        if plots:
            write_figures(spec, records, out, stem, [(record["value"], record["cell"])])

    if train_missing:
        jobs = table_jobs(settings, values, cells, seeds, modes)
        if batch_members > 1:
            run = functools.partial(run_table_group, spec=spec, base=base, data_dir=data_dir, command=command,
                                    device=device, checkpoint_dir=out / f"{stem}_checkpoints")
        else:
            run = functools.partial(run_table_job, spec=spec, base=base, data_dir=data_dir, command=command,
                                    device=device)
        run_sweep(jobs, run, runs_path, _run_key, executor=executor, workers=workers, on_result=finished,
                  group_key=_group_key, group_size=batch_members)
    path = write_table(spec, records, settings, out, stem, command, device)
    if plots:
        write_figures(spec, records, out, stem)
    return path


def _check_grid(
    number: int, cells: Sequence[str] | None, modes: Sequence[str] | None, values: Sequence | None
) -> tuple[TableSpec, tuple[str, ...], tuple[str, ...], tuple]:
    """The table's spec and its grid, restricted to the given cells, modes and values."""
    if number not in TABLES:
        raise ValueError(f"table must be one of {sorted(TABLES)}, got {number!r}")
    spec = TABLES[number]
    modes = tuple(modes or WARMUP_MODES)
    for mode in modes:
        if mode not in PRETRAIN_MODES:
            raise ValueError(f"pre-training mode must be one of {PRETRAIN_MODES}, got {mode!r}")
    return spec, tuple(cells or spec.cells), modes, tuple(values or spec.values)


def table_settings(
    spec: TableSpec,
    epochs: int | None = None,
    hidden_size: int | None = None,
    num_layers: int | None = None,
    train_size: int | None = None,
    val_size: int | None = None,
    test_size: int | None = None,
) -> dict:
    """The settings shared by every run of a grid (the paper's where None); runs are kept per settings."""
    return {
        "benchmark": spec.benchmark,
        "epochs": spec.epochs if epochs is None else epochs,
        "hidden_size": hidden_size or spec.hidden_size,
        "num_layers": num_layers or spec.num_layers,
        "train_size": train_size, "val_size": val_size, "test_size": test_size,
        "seq_length": spec.seq_length,
    }


def table_jobs(
    settings: dict, values: Sequence, cells: Sequence[str], seeds: Sequence[int], modes: Sequence[str]
) -> list[dict]:
    """One job per grid point: ``settings``, ``value`` (as a string), ``mode``, ``cell``, ``seed``."""
    return [
        {"settings": settings, "value": _value_key(value), "mode": mode, "cell": cell, "seed": seed}
        for value in values
        for cell in cells
        for seed in seeds
        for mode in modes
    ]


def _run_key(run: dict) -> tuple:
    """What identifies a run of a table: its settings and grid point (of a job or a record)."""
    return (json.dumps(run.get("settings"), sort_keys=True), run["value"], run["mode"], run["cell"], run["seed"])


def _same_settings(records: list[dict], settings: dict) -> list[dict]:
    """The records made with ``settings``."""
    return [r for r in records if r.get("settings") == settings]


def run_table_job(job: dict, spec: TableSpec, base: TrainConfig, data_dir: str | os.PathLike | None = None,
                  command: str = "", device: str = "cpu") -> dict:
    """Trains one grid point of a table and returns its record (a line of the runs file).

    Args:
        job: a job of :func:`table_jobs`.
        spec: the table.
        base: the other training settings (see :func:`run_table`).
        data_dir: IDX directory (Table 3).
        command: the command line, recorded with the run.
        device: the training device.

    Returns:
        The job's fields and ``test_metric``, ``test_loss``, ``best_epoch``,
        ``seconds``, ``device``, ``device_name``, ``torch``, ``command``,
        ``history``, ``warmup`` and ``lsc`` (the reports' curves, or None).
    """
    settings = job["settings"]
    result = run_benchmark(
        spec.benchmark, _job_config(job, base, device), train_size=settings["train_size"],
        val_size=settings["val_size"], test_size=settings["test_size"], data_dir=data_dir,
        **_data_kwargs(spec, job["value"]),
    )
    return _job_record(job, result, device, command)


def run_table_group(jobs: list[dict], spec: TableSpec, base: TrainConfig,
                    data_dir: str | os.PathLike | None = None, command: str = "", device: str = "cpu",
                    checkpoint_dir: str | os.PathLike | None = None) -> list[dict]:
    """Trains grid points of one shape (one row value and cell) as one batched model; their records.

    Every member's data is that of its separate run (its seed's sets) and so are its
    results, up to rounding (:func:`warm_rl.suite.batched_trainer.train_batched`).

    Args:
        jobs: jobs of :func:`table_jobs` sharing ``settings``, ``value`` and ``cell``.
        spec, base, data_dir, command, device: as for :func:`run_table_job`.
        checkpoint_dir: where each member checkpoints after every epoch (a killed
            group resumes from them); None: no checkpoints.

    Returns:
        One record per job, in order, as :func:`run_table_job` makes it, with
        ``batched``: the number of members trained together.

    Raises:
        ValueError: jobs of different settings, values or cells.
    """
    shapes = {(json.dumps(j["settings"], sort_keys=True), j["value"], j["cell"]) for j in jobs}
    if len(shapes) != 1:
        raise ValueError(f"a batched group needs one settings / value / cell, got {sorted(shapes)}")
    from warm_rl.suite.batched_trainer import train_batched

    settings, value = jobs[0]["settings"], jobs[0]["value"]
    data = {}
    for seed in dict.fromkeys(j["seed"] for j in jobs):
        data[seed] = make_benchmark(
            spec.benchmark, train_size=settings["train_size"], val_size=settings["val_size"],
            test_size=settings["test_size"], seed=seed, data_dir=data_dir, device=device,
            **_data_kwargs(spec, value),
        )
    settings_id = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    configs = []
    for job in jobs:
        config = _job_config(job, base, device)
        if checkpoint_dir is not None:  # one file per grid point and settings set
            name = f"table{spec.number}_{settings_id}_{value or 'run'}_{job['cell']}_{job['mode']}_seed{job['seed']}.pt"
            config = replace(config, checkpoint=str(Path(checkpoint_dir) / name))
        configs.append(config)
    sets = [(data[j["seed"]].train, data[j["seed"]].val, data[j["seed"]].test) for j in jobs]
    results = train_batched(configs, sets)
    return [{**_job_record(job, result, device, command), "batched": len(jobs)}
            for job, result in zip(jobs, results, strict=True)]


def _group_key(job: dict) -> tuple:
    """Jobs that can train as one batched model: one settings set, row value and cell."""
    return (json.dumps(job["settings"], sort_keys=True), job["value"], job["cell"])


def _job_config(job: dict, base: TrainConfig, device: str) -> TrainConfig:
    settings = job["settings"]
    return replace(
        base, cell=job["cell"], pretrain=job["mode"], seed=job["seed"], epochs=settings["epochs"],
        hidden_size=settings["hidden_size"], num_layers=settings["num_layers"], device=device,
    )


def _data_kwargs(spec: TableSpec, value: str) -> dict:
    """The benchmark arguments of a row: ``seq_length`` (Table 1: T) and ``delay`` (Table 2: N)."""
    kwargs: dict = {"seq_length": spec.seq_length}
    if spec.variable == "T":
        kwargs["seq_length"] = int(value)
    elif spec.variable == "N":
        kwargs["delay"] = int(value)
    return kwargs


def _job_record(job: dict, result: TrainResult, device: str, command: str) -> dict:
    return {
        "settings": job["settings"], "value": job["value"], "mode": job["mode"], "cell": job["cell"],
        "seed": job["seed"], "test_metric": result.test_metric,
        "test_loss": result.test_loss, "best_epoch": result.best_epoch,
        "seconds": result.seconds, "device": device, "device_name": _device_name(device),
        "torch": torch.__version__, "command": command,
        "history": result.history,
        "warmup": None if result.warmup is None else {
            k: result.warmup[k] for k in ("vaa_star", "losses", "restarts", "final_vaa_star", "seconds")
        },
        "lsc": None if result.lsc is None else {
            k: result.lsc[k] for k in ("losses", "radii", "targets", "stop_step", "stop_reason", "best_step",
                                       "best_error", "restarts", "seconds", "halves")
        },
    }


def _print_run(spec: TableSpec, record: dict) -> None:
    value = record["value"] if record["value"] != "" else None
    print(
        f"[table {spec.number}] {spec.variable or 'run'}={value} {record['cell']} {record['mode']} "
        f"seed {record['seed']}: test {spec.metric} {record['test_metric']:.4g} "
        f"(best epoch {record['best_epoch']}, {record['seconds']:.0f}s)",
        flush=True,
    )


def _device_name(device: str) -> str:
    """``device`` with the GPU's or the processor's name."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({platform.processor() or platform.machine()})"


def _aggregate(records: list[dict]) -> dict[tuple, list[float]]:
    """``(value, mode, cell)`` -> the test metrics of its runs."""
    groups: dict[tuple, list[float]] = {}
    for r in records:
        groups.setdefault((r["value"], r["mode"], r["cell"]), []).append(r["test_metric"])
    return groups


def _mean_std(scores: list[float]) -> tuple[float, float]:
    """Mean and population std (0 for one score)."""
    return statistics.fmean(scores), statistics.pstdev(scores) if len(scores) > 1 else 0.0


def _paper_numbers(spec: TableSpec, value: str, mode: str, cell: str) -> tuple[float, float] | None:
    return spec.paper.get((int(value) if value else None, mode, cell))


def _table_grid(spec: TableSpec, records: list[dict]) -> tuple[list[str], list[str]]:
    """The values (in numeric order) and cells (the table's order, then others) of the records."""
    values = sorted({r["value"] for r in records}, key=lambda v: (len(v), v))
    cells = [c for c in spec.cells if any(r["cell"] == c for r in records)]
    cells += sorted({r["cell"] for r in records} - set(cells))
    return values, cells


def table_rows(spec: TableSpec, records: list[dict], settings: dict) -> list[dict]:
    """The CSV rows: one per (value, mode, cell) with runs, ours (mean, std, seeds) beside the paper's."""
    groups = _aggregate(records)
    values, cells = _table_grid(spec, records)
    rows = []
    for value in values:
        for mode in PRETRAIN_MODES:
            for cell in cells:
                scores = groups.get((value, mode, cell))
                if not scores:
                    continue
                mean, std = _mean_std(scores)
                paper = _paper_numbers(spec, value, mode, cell) or (math.nan,) * 2
                rows.append({
                    "table": spec.number, "benchmark": spec.benchmark, "variable": spec.variable,
                    "value": value, "mode": mode, "cell": cell, "metric": spec.metric,
                    "seeds": len(scores), "mean": mean, "std": std,
                    "paper_mean": paper[0], "paper_std": paper[1],
                    "epochs": settings["epochs"], "hidden_size": settings["hidden_size"],
                    "num_layers": settings["num_layers"], "train_size": settings["train_size"],
                    "test_size": settings["test_size"],
                })
    return rows


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["table"])
        writer.writeheader()
        writer.writerows(rows)


def _header_lines(spec: TableSpec, records: list[dict], settings: dict, command: str, device: str) -> list[str]:
    """Title, commands, network, sizes, devices and timing of the Markdown table."""
    seconds = [h["seconds"] for r in records for h in r["history"] if h["epoch"] > 0]
    devices = sorted({r.get("device_name") or _device_name(device) for r in records})
    versions = sorted({r.get("torch") or torch.__version__ for r in records})
    return [
        f"# Table {spec.number}: {spec.benchmark}, test {spec.metric} "
        f"(ours: mean ± std over seeds; paper: arXiv 2106.01001v1)",
        "",
        *_command_lines(records, command),
        f"- network: {settings['num_layers']} x {settings['hidden_size']}; epochs: "
        f"{settings['epochs']} (paper: {spec.epochs}); sizes train/val/test: "
        f"{settings['train_size'] or 'paper'}/{settings['val_size'] or 'default'}/"
        f"{settings['test_size'] or 'paper'}",
        f"- device: {', '.join(devices)}; torch {', '.join(versions)}; runs: {len(records)}; "
        f"mean training time per epoch (without evaluation): "
        f"{statistics.fmean(seconds) if seconds else math.nan:.1f} s",
        f"- written {time.strftime('%Y-%m-%d %H:%M')}; the best-on-validation model is tested",
        "",
    ]


def _markdown_rows(spec: TableSpec, records: list[dict]) -> list[str]:
    """The Markdown header and one row per (value, mode) with runs: per cell ours, then the paper's."""
    groups = _aggregate(records)
    values, cells = _table_grid(spec, records)
    header = [spec.variable or "", "pre-training"] + [f"{c.upper()} {h}" for c in cells for h in ("(ours)", "(paper)")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for value in values:
        for mode in PRETRAIN_MODES:
            entries = []
            for cell in cells:
                scores = groups.get((value, mode, cell))
                entries.append(_fmt(*_mean_std(scores)) + (f" (n={len(scores)})" if len(scores) < 3 else "")
                               if scores else "-")
                paper = _paper_numbers(spec, value, mode, cell)
                entries.append(_fmt(*paper) if paper else "-")
            if any(groups.get((value, mode, cell)) for cell in cells):
                lines.append("| " + " | ".join([value, MODE_LABELS[mode]] + entries) + " |")
    return lines


def write_table(
    spec: TableSpec,
    records: list[dict],
    settings: dict,
    out: Path,
    stem: str,
    command: str = "",
    device: str = "",
) -> Path:
    """Writes ``<stem>.md`` and ``<stem>.csv``: ours (mean ± std over seeds) beside the paper's.

    Args:
        spec: the table.
        records: the finished runs (lines of the runs file).
        settings: the grid's settings (:func:`table_settings`).
        out: the output directory.
        stem: the file stem.
        command: the command line, shown when the runs recorded none.
        device: the device, shown when the runs recorded none.

    Returns:
        The Markdown path.
    """
    _write_csv(out / f"{stem}.csv", table_rows(spec, records, settings))
    lines = _header_lines(spec, records, settings, command, device) + _markdown_rows(spec, records) + [""]
    md_path = out / f"{stem}.md"
    md_path.write_text("\n".join(lines))
    return md_path


def _command_lines(records: list[dict], command: str) -> list[str]:
    """One line per distinct command that produced the runs (in order)."""
    commands = list(dict.fromkeys(r.get("command") or command for r in records))
    commands = [c for c in commands if c] or ([command] if command else [])
    if not commands:
        return ["- command: (library call)"]
    return [f"- command{'s' * (len(commands) > 1)}:"] + [f"  - `{c}`" for c in commands]


def write_figures(
    spec: TableSpec,
    records: list[dict],
    out: Path,
    stem: str,
    groups: Sequence[tuple] | None = None,
) -> list[Path]:
    """Figure 1 (test loss and VAA per epoch) and Figure 2 (VAA* during warm-up)
    for every (value, cell) of the grid (or only ``groups``).

    Returns:
        The PNG paths written.
    """
    from warm_rl.suite.figures import plot_learning_curves, plot_warmup_vaa_star

    if groups is None:
        groups = sorted({(r["value"], r["cell"]) for r in records})
    groups = [(_value_key(v), c) for v, c in groups]
    paths = []
    for value, cell in groups:
        runs = [r for r in records if r["value"] == value and r["cell"] == cell]
        if not runs:
            continue
        suffix = f"{cell}" + (f"_{spec.variable}{value}" if value else "")
        where = f"{cell.upper()}" + (f", {spec.variable}={value}" if value else "")
        histories = {
            MODE_LABELS[m]: [r["history"] for r in runs if r["mode"] == m] for m in PRETRAIN_MODES
        }
        path = out / f"{stem}_fig1_{suffix}.png"
        plot_learning_curves(
            histories, path, title=f"Table {spec.number} {spec.benchmark}: {where}",
            metric_label=f"test loss ({'MSE' if spec.metric == 'mse' else 'cross-entropy'})",
        )
        paths.append(path)
        reports = {
            MODE_LABELS[m]: [r["warmup"] for r in runs if r["mode"] == m and r["warmup"]]
            for m in ("full", "double", "double_lsc")
        }
        if any(reports.values()):
            path = out / f"{stem}_fig2_{suffix}.png"
            plot_warmup_vaa_star(reports, path, title=f"VAA* during warm-up: {where}")
            paths.append(path)
    return paths

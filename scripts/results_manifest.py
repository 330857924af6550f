"""Index of every recorded run under ``results/``: its name and full configuration.

    python scripts/results_manifest.py              # writes results/manifest.csv
    python scripts/results_manifest.py --summaries  # also writes the missing <runs>.md tables

Each line of a results JSONL file is one finished run. The RL benchmark
(``scripts/benchmark_rl.py``) records ``{"variant", "config", ...}``; the
supervised tables (``scripts/supervised.py``) record
``{"settings", "value", "mode", "cell", "seed", ...}``. The manifest gives each run
the name its checkpoints carry (RL) or a readable one (supervised), its outcome and
its configuration as JSON, so that a name seen in a write-up can be looked up.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from agents.benchmark import plot, run_name, summarise, upgrade_config
from warm_rl.suite.sweep import load_records

COLUMNS = ("file", "run", "kind", "variant", "cell", "seed", "outcome", "config")


def rl_row(path: Path, record: dict) -> dict:
    """Manifest row of one RL benchmark record (its config under today's field names)."""
    config = upgrade_config(record["config"])
    return {
        "run": run_name(record["variant"], config),
        "kind": "rl",
        "variant": record["variant"],
        "cell": config.get("cell"),
        "seed": config.get("seed"),
        "outcome": f"success {record.get('success_rate')}",
        "config": json.dumps(config, sort_keys=True),
    }


def supervised_row(path: Path, record: dict) -> dict:
    """Manifest row of one supervised-table record."""
    table = path.name.split("_")[0]
    config = {**record["settings"], "value": record["value"], "mode": record["mode"], "cell": record["cell"]}
    return {
        "run": f"{table}_{record['cell']}_{record['mode']}_{record['value']}_seed{record['seed']}",
        "kind": "supervised",
        "variant": record["mode"],
        "cell": record["cell"],
        "seed": record["seed"],
        "outcome": f"test {record.get('test_metric')}",
        "config": json.dumps(config, sort_keys=True),
    }


def multistability_row(path: Path, record: dict) -> dict:
    """Manifest row of one ``scripts/multistability.py`` record (a procedure, no table value)."""
    config = {**record["settings"], "procedure": record["procedure"], "cell": record["cell"]}
    return {
        "run": f"multistability_{record['cell']}_{record['procedure']}_seed{record['seed']}",
        "kind": "multistability",
        "variant": record["procedure"],
        "cell": record["cell"],
        "seed": record["seed"],
        "outcome": f"vaa {record['vaa_copy']:.3f}, test {record['test_mse']}",
        "config": json.dumps(config, sort_keys=True),
    }


def manifest_rows(results: Path) -> list[dict]:
    """One row per recorded run in every ``*.jsonl`` file under ``results``."""
    rows = []
    for path in sorted(results.rglob("*.jsonl")):
        for record in load_records(path):
            if "variant" in record:
                row = rl_row(path, record)
            elif "procedure" in record:
                row = multistability_row(path, record)
            else:
                row = supervised_row(path, record)
            rows.append({"file": path.relative_to(results).as_posix(), **row})
    return rows


def write_missing_summaries(results: Path) -> list[Path]:
    """Writes ``<stem>.md`` (and ``.png``) beside each RL JSONL file that has none."""
    written = []
    for path in sorted(results.rglob("*.jsonl")):
        records = load_records(path)
        if not records or "variant" not in records[0] or path.with_suffix(".md").exists():
            continue
        command = f"python scripts/results_manifest.py --summaries (from {path.name})"
        text = (
            f"# {path.stem}\n\nSummary of `{path.name}`, written by `{command}`; the runs' settings are in\n"
            f"`results/manifest.csv` and the study that made them is described in this folder's README.md.\n\n"
            f"{summarise(records)}\n"
        )
        path.with_suffix(".md").write_text(text)
        if not path.with_suffix(".png").exists():
            plot(records, path.with_suffix(".png"))
        written.append(path.with_suffix(".md"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("results"), help="the results folder")
    parser.add_argument("--summaries", action="store_true", help="write the missing RL summary tables too")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        raise SystemExit(f"no results folder at {args.results}")
    if args.summaries:
        for path in write_missing_summaries(args.results):
            print(f"wrote {path}")
    rows = manifest_rows(args.results)
    out = args.results / "manifest.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} runs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

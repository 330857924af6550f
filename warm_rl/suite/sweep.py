"""One runner for sweeps of independent runs, resumable through a JSONL results file.

Both the supervised tables (:func:`warm_rl.suite.tables.run_table`) and the RL
benchmark (``agents.benchmark``) use it. Every finished run is appended to the
results file at once (one JSON object per line), so a killed sweep loses
nothing, and a rerun skips the runs whose key is already in the file. Runs go
through one of three executors:

* ``"serial"``: one after the other, in this process;
* ``"process"``: a local pool of ``workers`` processes (in this process when
  ``workers`` is 1);
* any other string: the address of a Ray cluster (``"auto"``, ``"local"``,
  ``"ray://host:10001"``, ...); Ray is imported only then
  (``pip install warm-rl[ray]``), and every run is a task of one CPU.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from warm_rl.validation import check_int

LOCAL_EXECUTORS: tuple[str, ...] = ("serial", "process")
"""Executors that run on this machine; any other executor string is a Ray address."""


def load_records(path: str | os.PathLike) -> list[dict]:
    """The records of a JSONL results file, in file order (none when it does not exist).

    Args:
        path: the file (blank lines are skipped).

    Returns:
        One dict per non-blank line.

    Raises:
        json.JSONDecodeError: a line is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def append_record(path: str | os.PathLike, record: dict) -> None:
    """Appends one record as a line of JSON (the file and its directory are created if needed).

    The line goes out in one ``write`` on an ``O_APPEND`` descriptor, so that sweeps
    sharing one file never interleave their lines.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, data)
        while written < len(data):  # a short write (full disk, signal): finish the line
            written += os.write(descriptor, data[written:])
    finally:
        os.close(descriptor)


def pending_jobs(
    jobs: Iterable[Any], records: Iterable[dict], key_fn: Callable[[Any], Hashable]
) -> list[Any]:
    """The jobs whose key is not the key of a finished record (in the order given).

    Args:
        jobs: the sweep's jobs.
        records: the finished runs.
        key_fn: the key of a job and of a record (the same function for both).
    """
    done = {key_fn(record) for record in records}
    return [job for job in jobs if key_fn(job) not in done]


def group_jobs(jobs: Sequence[Any], group_key: Callable[[Any], Hashable], size: int) -> list[list[Any]]:
    """The jobs in groups of equal ``group_key``, at most ``size`` each, in the order of their first job.

    Example:
        >>> group_jobs([1, 2, 3, 4, 5], lambda n: n % 2, 2)
        [[1, 3], [5], [2, 4]]
    """
    groups: dict[Hashable, list[list[Any]]] = {}
    for job in jobs:
        chunks = groups.setdefault(group_key(job), [[]])
        if len(chunks[-1]) == size:
            chunks.append([])
        chunks[-1].append(job)
    return [chunk for chunks in groups.values() for chunk in chunks]


def run_sweep(
    jobs: Sequence[Any],
    run_fn: Callable[[Any], dict],
    results_path: str | os.PathLike,
    key_fn: Callable[[Any], Hashable],
    executor: str = "process",
    workers: int = 1,
    on_result: Callable[[dict], None] | None = None,
    group_key: Callable[[Any], Hashable] | None = None,
    group_size: int = 1,
) -> list[dict]:
    """Runs the jobs not finished in ``results_path``, appending each record as it finishes.

    Args:
        jobs: the sweep, one picklable job per run (its order is the order of
            submission).
        run_fn: ``run_fn(job) -> record``, a JSON-serialisable dict. For the
            ``"process"`` executor with ``workers > 1`` and for Ray it must be
            picklable (a module-level function, or a ``functools.partial`` of one).
        results_path: the JSONL file of finished runs.
        key_fn: identifies a run: ``key_fn(job)`` must equal ``key_fn(record)``
            for the record ``run_fn(job)`` returns; a job is skipped when its key
            is the key of a record already in the file.
        executor: ``"serial"``, ``"process"`` or a Ray address (see the module).
        workers: processes of the ``"process"`` executor (ignored otherwise).
        on_result: called in this process with every new record, right after
            it was appended to the file (in the order the runs finish).
        group_key: with ``group_size > 1``, the unfinished jobs of equal
            ``group_key`` are run together, up to ``group_size`` at a time (in
            the order given): ``run_fn`` then takes a list of jobs and returns
            their records, in order (a batched run, e.g.
            :func:`warm_rl.suite.batched_trainer.train_batched`).
        group_size: the largest group (1: every job on its own, ``run_fn(job)``).

    Returns:
        All the records of ``results_path`` (the earlier ones and the new ones).

    Raises:
        TypeError: ``executor`` is not a string, or ``workers`` not an int.
        ValueError: ``workers < 1`` or ``group_size < 1``, or ``group_size > 1``
            without ``group_key``.
    """
    if not isinstance(executor, str):
        raise TypeError(f"executor must be 'serial', 'process' or a Ray address, got {executor!r}")
    workers = check_int("workers", workers, minimum=1)
    Path(results_path).parent.mkdir(parents=True, exist_ok=True)
    group_size = check_int("group_size", group_size, minimum=1)
    if group_size > 1 and group_key is None:
        raise ValueError(f"group_size={group_size} needs a group_key")
    todo = pending_jobs(jobs, load_records(results_path), key_fn)
    if group_size > 1:
        todo = group_jobs(todo, group_key, group_size)

    def record(result: dict | list[dict]) -> None:
        for one in result if isinstance(result, list) else [result]:
            append_record(results_path, one)
            if on_result is not None:
                on_result(one)

    if executor == "serial" or (executor == "process" and workers == 1):
        for job in todo:
            record(run_fn(job))
    elif executor == "process":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_fn, job) for job in todo]
            for future in as_completed(futures):
                record(future.result())
    else:
        _run_on_ray(todo, run_fn, executor, record)
    return load_records(results_path)


def _run_on_ray(todo: list, run_fn: Callable[[Any], dict], address: str, record: Callable[[dict], None]) -> None:
    """Every job a Ray task of one CPU on the cluster at ``address``; records as they finish."""
    import ray

    ray.init(address=address, include_dashboard=False, ignore_reinit_error=True)
    remote = ray.remote(num_cpus=1)(_call)  # a plain function: Ray refuses partials as tasks
    pending = [remote.remote(run_fn, job) for job in todo]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        record(ray.get(ready[0]))


def _call(run_fn: Callable[[Any], dict], job: Any) -> dict:
    """``run_fn(job)``: the task Ray runs."""
    return run_fn(job)

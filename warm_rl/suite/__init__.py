"""The paper's supervised reproduction suite, built on the core (``warm_rl``).

* :mod:`warm_rl.suite.data` - the benchmarks (copy first input, denoising,
  sequential images) as :class:`SequenceDataset`;
* :mod:`warm_rl.suite.idx` - MNIST-format IDX files;
* :mod:`warm_rl.suite.trainer` - supervised training with optional warm-up
  (:func:`train`, one :func:`train_epoch` at a time);
* :mod:`warm_rl.suite.batched` / :mod:`warm_rl.suite.batched_trainer` - several
  runs of one shape trained as one batched model (:func:`train_batched`);
* :mod:`warm_rl.suite.tables` - the paper's Tables 1-3 (grids, Markdown/CSV);
* :mod:`warm_rl.suite.figures` - the paper's Figures 1 and 2;
* :mod:`warm_rl.suite.sweep` - the resumable JSONL sweep runner shared with the
  RL benchmark (``agents.benchmark``).

The core never imports this package.
"""

from warm_rl.suite.batched import BatchedModels
from warm_rl.suite.batched_trainer import train_batched
from warm_rl.suite.data import (
    BENCHMARKS,
    Benchmark,
    SequenceDataset,
    copy_first_input,
    denoising,
    make_benchmark,
    pixel_permutation,
    sequential_images,
    split_seed,
)
from warm_rl.suite.figures import plot_learning_curves, plot_warmup_vaa_star
from warm_rl.suite.idx import load_idx_split, locate_idx_dir, read_idx, write_idx
from warm_rl.suite.sweep import append_record, group_jobs, load_records, pending_jobs, run_sweep
from warm_rl.suite.tables import (
    TABLES,
    TableSpec,
    run_benchmark,
    run_table,
    run_table_group,
    run_table_job,
    speed_benchmark,
    table_jobs,
    table_rows,
    table_settings,
    write_figures,
    write_table,
)
from warm_rl.suite.trainer import (
    PRETRAIN_MODES,
    WARMUP_MODES,
    Run,
    SequenceModel,
    TrainConfig,
    TrainResult,
    TrainState,
    build_model,
    end_epoch,
    evaluate,
    evaluate_epoch,
    finish_run,
    masked_loss,
    pretrain_model,
    resolve_device,
    start_run,
    train,
    train_epoch,
)

__all__ = [
    "BENCHMARKS",
    "BatchedModels",
    "PRETRAIN_MODES",
    "TABLES",
    "WARMUP_MODES",
    "Benchmark",
    "Run",
    "SequenceDataset",
    "SequenceModel",
    "TableSpec",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "append_record",
    "build_model",
    "copy_first_input",
    "denoising",
    "end_epoch",
    "evaluate",
    "evaluate_epoch",
    "finish_run",
    "group_jobs",
    "load_idx_split",
    "load_records",
    "locate_idx_dir",
    "make_benchmark",
    "masked_loss",
    "pending_jobs",
    "pixel_permutation",
    "plot_learning_curves",
    "plot_warmup_vaa_star",
    "pretrain_model",
    "read_idx",
    "resolve_device",
    "run_benchmark",
    "run_sweep",
    "run_table",
    "run_table_group",
    "run_table_job",
    "sequential_images",
    "speed_benchmark",
    "split_seed",
    "start_run",
    "table_jobs",
    "table_rows",
    "table_settings",
    "train",
    "train_batched",
    "train_epoch",
    "write_figures",
    "write_idx",
    "write_table",
]

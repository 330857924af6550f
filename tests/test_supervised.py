"""Tests of the supervised trainer, the table runner, the sweep runner and scripts/supervised.py."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from warm_rl.cells import CELL_NAMES
from warm_rl.suite import sweep
from warm_rl.suite.data import copy_first_input, make_benchmark, sequential_images
from warm_rl.suite.tables import TABLES, run_benchmark, run_table
from warm_rl.suite.trainer import SequenceModel, TrainConfig, evaluate, masked_loss, train

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "supervised.py"

TINY = dict(hidden_size=8, epochs=2, progress=False, vaa_samples=8, vaa_horizon=20,
            warmup_config={"updates": 5, "max_horizon": 20}, warmup_pool=32)


def tiny_copy(seq_length=12, train=64, seed=0):
    bench = make_benchmark("copy", seq_length=seq_length, train_size=train, val_size=16,
                           test_size=32, seed=seed)
    return bench.train, bench.val, bench.test


# --------------------------------------------------------- the warm-up effect
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["none", "full", "double"])
def test_warm_up_makes_copy_first_input_learnable(mode):
    """GRU 32, copy T=50, 8 epochs of 2000 samples: cold stays at chance, warm learns.

    Fixed seed 0 (cold 0.98, full 0.03, double 0.06 test MSE when written).
    """
    torch.set_num_threads(1)
    bench = make_benchmark("copy", seq_length=50, train_size=2000, val_size=500,
                           test_size=1000, seed=0)
    config = TrainConfig(cell="gru", hidden_size=32, pretrain=mode, epochs=8, seed=0,
                         progress=False, vaa_samples=0, test_every_epoch=False, warmup_pool=256)
    result = train(config, bench.train, bench.val, bench.test)
    if mode == "none":
        assert result.test_metric > 0.5
    else:
        assert result.test_metric < 0.1
        assert result.warmup is not None and len(result.warmup["losses"]) >= 100


# ------------------------------------------------------------------ the model
def test_sequence_model_reads_the_output_steps():
    model = SequenceModel("gru", 2, 6, 3, num_layers=2)
    x = torch.randn(9, 4, 2)
    steps = torch.tensor([[2, 8, 0, 5]])
    everywhere = model(x)
    picked = model(x, steps)
    assert everywhere.shape == (9, 4, 3) and picked.shape == (1, 4, 3)
    torch.testing.assert_close(picked[0], everywhere[steps[0], torch.arange(4)])


def test_masked_loss():
    pred = torch.zeros(2, 3, 1)
    assert masked_loss(pred, torch.ones(2, 3, 1), "regression").item() == pytest.approx(1.0)
    logits = torch.tensor([[[10.0, 0.0], [0.0, 10.0]]])
    assert masked_loss(logits, torch.tensor([[0, 1]]), "classification").item() < 1e-3


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_trains(cell):
    train_set, val, test = tiny_copy()
    result = train(TrainConfig(cell=cell, pretrain="double", **TINY), train_set, val, test)
    assert math.isfinite(result.test_metric)
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert all(0 < h["vaa"] <= 1 for h in result.history)


def test_history_and_best_on_validation():
    train_set, val, test = tiny_copy()
    result = train(TrainConfig(pretrain="full", **{**TINY, "epochs": 3}), train_set, val, test)
    vals = [h["val_metric"] for h in result.history]
    assert result.best_epoch == min(range(len(vals)), key=vals.__getitem__)
    assert result.metric_name == "mse"
    # the kept model is the best one: its validation loss is the best seen
    assert evaluate(result.model, val)[0] == pytest.approx(min(vals), rel=1e-5)
    assert result.warmup["vaa_star"] and len(result.warmup["vaa_star"][0]) == 1
    assert math.isnan(result.history[0]["train_loss"])
    for key in ("train_loss", "val_loss", "test_loss", "test_metric", "vaa", "seconds"):
        assert math.isfinite(result.history[-1][key])


def test_classification_on_sequential_images():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 4, 4), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (40,), generator=gen)
    data = sequential_images(images, labels, pad_length=3)
    config = TrainConfig(cell="lstm", num_layers=2, **TINY)
    result = train(config, data.subset(slice(0, 24)), data.subset(slice(24, 32)),
                   data.subset(slice(32, 40)))
    assert result.metric_name == "accuracy"
    assert 0.0 <= result.test_metric <= 1.0
    assert result.test_loss > 0


def test_nan_loss_is_reported_with_epoch_and_batch():
    train_set, val, test = tiny_copy()
    train_set.targets[0, 5] = float("nan")
    config = TrainConfig(**{**TINY, "sync_every": 1})
    with pytest.raises(RuntimeError, match=r"non-finite training loss .* epoch 1, batch [01]"):
        train(config, train_set, val, test)


def test_checkpoint_resume_equals_an_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    data = tiny_copy()
    ckpt = str(tmp_path / "run.pt")
    base = dict(TINY, pretrain="full")
    full = train(TrainConfig(**{**base, "epochs": 3}), *data)
    first = train(TrainConfig(**{**base, "epochs": 2, "checkpoint": ckpt}), *data)
    assert Path(ckpt).is_file() and len(first.history) == 3
    resumed = train(TrainConfig(**{**base, "epochs": 3, "checkpoint": ckpt}), *data)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]
    assert json.dumps(resumed.history[:3]) == json.dumps(first.history)
    assert resumed.warmup == first.warmup
    for a, b in zip(resumed.history, full.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    assert resumed.test_metric == pytest.approx(full.test_metric, rel=1e-5)
    with pytest.raises(ValueError, match="other settings"):
        train(TrainConfig(**{**base, "epochs": 3, "hidden_size": 10, "checkpoint": ckpt}), *data)


def test_tensorboard_logs(tmp_path):
    train(TrainConfig(pretrain="full", log_dir=str(tmp_path / "tb"), **TINY), *tiny_copy())
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


@pytest.mark.parametrize(
    "bad, error, match",
    [(dict(pretrain="half"), ValueError, "pretrain"), (dict(warmup="full"), TypeError, "use .pretrain."),
     (dict(hidden_size=0), ValueError, "hidden_size"),
     (dict(epochs=1.5), TypeError, "epochs"), (dict(lr=-1.0), ValueError, "lr"),
     (dict(pretrain="double", hidden_size=7), ValueError, "even"),
     (dict(warmup_config={"stepz": 3}), ValueError, "stepz"),
     (dict(lsc_config={"target": -1.0}), ValueError, "target"),
     (dict(device="cuda:7"), ValueError, "CUDA")],
    ids=["mode", "renamed-warmup", "hidden", "epochs", "lr", "odd-double", "warmup-field", "lsc-field", "device"],
)
def test_config_rejects_bad_values(bad, error, match):
    if bad.get("device") and torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(error, match=match):
        config = TrainConfig(**bad)
        train(config, *tiny_copy())


def test_train_rejects_mismatched_sets():
    train_set, val, _ = tiny_copy()
    other = copy_first_input(12, 8).subset(slice(0, 8))
    other.inputs = torch.zeros(12, 8, 2)
    with pytest.raises(ValueError, match="input_size"):
        train(TrainConfig(**TINY), train_set, val, other)


def test_vaa_steps_was_renamed_vaa_horizon():
    with pytest.raises(TypeError, match="'vaa_steps', which was renamed: use 'vaa_horizon'"):
        TrainConfig(vaa_steps=10)
    assert TrainConfig(vaa_horizon=10).to_dict()["vaa_horizon"] == 10


def test_the_epoch_loop_seams():
    from warm_rl.suite.trainer import build_model, evaluate_epoch, pretrain_model, train_epoch

    train_set, val, test = tiny_copy()
    sequences = (train_set.inputs[:, :16], torch.full((16,), train_set.seq_length))
    lsc = {"max_steps": 4, "batch_size": 8}
    for mode, ran in (("none", ()), ("lsc_half", ("lsc",)), ("double_lsc", ("warmup", "lsc")), ("full", ("warmup",))):
        config = TrainConfig(pretrain=mode, lsc_config=lsc, **TINY)
        model = build_model(config, train_set)
        done = pretrain_model(model, config, sequences)
        assert [k for k, report in done.items() if report is not None] == list(ran), mode
        if "warmup" in ran:
            assert len(done["warmup"]["losses"]) >= 5
        if "lsc" in ran:
            assert len(done["lsc"]["losses"]) == 4 and "output" in done["lsc"]["radii"]
            assert done["lsc"]["targets"]["recurrent_0"] == (0.5 if mode == "lsc_half" else 1.0)
            assert done["lsc"]["halves"] == ("cold" if mode == "double_lsc" else "both")
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = train_epoch(model, optimizer, train_set, config, torch.Generator().manual_seed(0), epoch=1)
    assert math.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    record = evaluate_epoch(model, 1, loss, val, test, config, sequences, 0.5)
    assert record["epoch"] == 1 and record["train_loss"] == loss and 0 < record["vaa"] <= 1


# ---------------------------------------------------------------- benchmarks
def test_run_benchmark_denoising():
    config = TrainConfig(cell="mgu", num_layers=2, **TINY)
    result = run_benchmark("denoising", config, seq_length=20, delay=8, train_size=32,
                           val_size=8, test_size=16)
    assert math.isfinite(result.test_metric)


def test_run_table_writes_table_csv_figures_and_resumes(tmp_path, capsys):
    kwargs = dict(seeds=(0,), epochs=1, cells=("gru",), values=(10,), hidden_size=8,
                  train_size=32, val_size=8, test_size=16, out_dir=tmp_path,
                  base_config=TrainConfig(**TINY), command="pytest")
    md = run_table(1, **kwargs)
    text = md.read_text()
    assert "| 10 | None |" in text and "| 10 | DLWU |" in text and "`pytest`" in text
    rows = (tmp_path / "table1.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("table,")
    assert (tmp_path / "table1_fig1_gru_T10.png").stat().st_size > 1000
    assert (tmp_path / "table1_fig2_gru_T10.png").stat().st_size > 1000
    runs = (tmp_path / "table1_runs.jsonl").read_text().splitlines()
    assert len(runs) == 3 and json.loads(runs[0])["cell"] == "gru"
    capsys.readouterr()
    run_table(1, **kwargs)  # every run is done: nothing is trained again
    assert "[table 1]" not in capsys.readouterr().out
    assert len((tmp_path / "table1_runs.jsonl").read_text().splitlines()) == 3


def test_table_parts_run_separately_then_aggregate(tmp_path):
    common = dict(seeds=(0,), epochs=1, values=(10,), modes=("none",), hidden_size=8, train_size=32,
                  val_size=8, test_size=16, out_dir=tmp_path, base_config=TrainConfig(**TINY))
    with pytest.raises(ValueError, match="no finished runs"):
        run_table(1, train_missing=False, **common)
    run_table(1, cells=("gru",), command="part gru", **common)
    run_table(1, cells=("mgu",), command="part mgu", **common)
    runs_file = tmp_path / "table1_runs.jsonl"
    assert len(runs_file.read_text().splitlines()) == 2
    md = run_table(1, cells=("mgu", "lstm", "gru"), train_missing=False, command="merge", **common).read_text()
    assert len(runs_file.read_text().splitlines()) == 2  # nothing trained, LSTM left out
    assert "MGU (ours)" in md and "GRU (ours)" in md and "LSTM (ours)" not in md
    assert "`part gru`" in md and "`part mgu`" in md
    record = json.loads(runs_file.read_text().splitlines()[0])
    assert record["device_name"].startswith("cpu (") and record["torch"] == torch.__version__
    assert f"- device: {record['device_name']}; torch {torch.__version__}" in md


def test_learning_curves_fall_back_to_validation_loss(tmp_path):
    from warm_rl.suite.figures import plot_learning_curves

    history = [{"epoch": e, "test_loss": math.nan, "val_loss": 1.0 / (e + 1), "vaa": 0.5} for e in range(3)]
    plot_learning_curves({"None": [history]}, tmp_path / "curves.png", metric_label="test loss (MSE)")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_paper_tables_are_complete():
    for spec in TABLES.values():
        for value in spec.values:
            for mode in ("none", "full", "double"):
                for cell in spec.cells:
                    assert (value, mode, cell) in spec.paper
    assert TABLES[1].paper[(300, "none", "gru")] == (1.003, 0.002)
    assert TABLES[3].paper[(None, "full", "gru")] == (0.102, 0.061)


# -------------------------------------------------------------- sweep runner
def _job_id(run):
    return run["id"]


def test_sweep_appends_records_and_skips_finished_ones(tmp_path):
    path = tmp_path / "deep" / "runs.jsonl"
    seen = []
    jobs = [{"id": i, "x": i * i} for i in range(3)]
    records = sweep.run_sweep(jobs, dict, path, _job_id, executor="serial", on_result=seen.append)
    assert records == jobs and seen == jobs
    assert [json.loads(line) for line in path.read_text().splitlines()] == jobs
    more = jobs + [{"id": 3, "x": 9}]
    seen.clear()
    assert sweep.run_sweep(more, dict, path, _job_id, executor="serial", on_result=seen.append) == more
    assert seen == [{"id": 3, "x": 9}]
    assert sweep.load_records(tmp_path / "missing.jsonl") == []


def test_sweep_in_a_process_pool(tmp_path):
    path = tmp_path / "runs.jsonl"
    jobs = [{"id": i} for i in range(4)]
    records = sweep.run_sweep(jobs, dict, path, _job_id, executor="process", workers=2)
    assert sorted(records, key=_job_id) == jobs


def test_sweep_on_ray_imports_ray_only_then(tmp_path, monkeypatch):
    import types

    calls = {}

    class Ref:
        def __init__(self, value):
            self.value = value

    def remote(**options):
        calls["options"] = options
        return lambda function: types.SimpleNamespace(remote=lambda *args: Ref(function(*args)))

    fake = types.SimpleNamespace(
        init=lambda **kwargs: calls.setdefault("init", kwargs), remote=remote,
        wait=lambda pending, num_returns: (pending[:1], pending[1:]), get=lambda ref: ref.value,
    )
    monkeypatch.setitem(sys.modules, "ray", fake)
    records = sweep.run_sweep([{"id": 0}, {"id": 1}], dict, tmp_path / "r.jsonl", _job_id, executor="auto")
    assert records == [{"id": 0}, {"id": 1}]
    assert calls["init"]["address"] == "auto" and calls["options"] == {"num_cpus": 1}


@pytest.mark.parametrize("kwargs, error", [(dict(workers=0), ValueError), (dict(executor=3), TypeError),
                                           (dict(workers=1.5), TypeError)])
def test_sweep_rejects_bad_settings(tmp_path, kwargs, error):
    with pytest.raises(error):
        sweep.run_sweep([{"id": 0}], dict, tmp_path / "r.jsonl", _job_id, **kwargs)


# -------------------------------------------------------------------- script
def _script(*args, cwd=None):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_script_one_run(tmp_path):
    proc = _script("--benchmark", "copy", "--cell", "gru", "--pretrain", "full", "--seq-length",
                   "10", "--train-size", "32", "--val-size", "8", "--test-size", "16",
                   "--hidden-size", "8", "--epochs", "1", "--warmup-steps", "3",
                   "--vaa-samples", "4", "--vaa-horizon", "10", "--seeds", "0", "1",
                   "--no-progress", "--checkpoint", str(tmp_path / "ck.pt"))
    assert proc.returncode == 0, proc.stderr
    assert "copy gru pretrain=full seed 0: test mse" in proc.stdout
    assert "over 2 seeds" in proc.stdout
    assert (tmp_path / "ck.pt.seed1").is_file()


def test_script_table(tmp_path):
    proc = _script("--table", "1", "--values", "10", "--cells", "mgu", "--modes", "none", "full",
                   "--seeds", "0", "--epochs", "1", "--hidden-size", "8", "--train-size", "32",
                   "--val-size", "8", "--test-size", "16", "--warmup-steps", "3",
                   "--vaa-samples", "4", "--vaa-horizon", "10", "--out-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "| 10 | warmed-up |" in proc.stdout
    assert (tmp_path / "table1.md").is_file() and (tmp_path / "table1.csv").is_file()


def test_script_table_with_batched_members(tmp_path):
    args = ("--table", "1", "--values", "10", "--cells", "mgu", "--modes", "none", "double", "--seeds", "0",
            "--epochs", "1", "--hidden-size", "8", "--train-size", "32", "--val-size", "8", "--test-size", "16",
            "--warmup-steps", "3", "--vaa-samples", "4", "--vaa-horizon", "10", "--out-dir", str(tmp_path))
    proc = _script(*args, "--batch-members", "2")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "table1_runs.jsonl").read_text().splitlines()]
    assert [(r["mode"], r["batched"]) for r in records] == [("none", 2), ("double", 2)]
    assert len(list((tmp_path / "table1_checkpoints").glob("*.pt"))) == 2
    refused = _script(*args, "--batch-members", "0")
    assert refused.returncode == 2 and "--batch-members must be >= 1, got 0" in refused.stderr


def test_script_reports_missing_data(tmp_path):
    proc = _script("--benchmark", "psmnist", "--data-dir", str(tmp_path / "none"), "--epochs", "1")
    assert proc.returncode == 2
    assert str(tmp_path / "none") in proc.stderr and "dataset-fashion-mnist" in proc.stderr


def test_script_speed_benchmark():
    proc = _script("--speed", "--cells", "gru", "mgu", "--train-size", "64", "--seq-length", "10",
                   "--hidden-size", "8", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "gru" in proc.stdout and "x GRU" in proc.stdout


def test_script_renamed_flag_and_default_out_dir():
    proc = _script("--vaa-steps", "10")
    assert proc.returncode == 2 and "--vaa-steps was renamed: use --vaa-horizon" in proc.stderr
    import importlib.util

    spec = importlib.util.spec_from_file_location("supervised_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.parse_args([]).out_dir == "results/paper_tables"

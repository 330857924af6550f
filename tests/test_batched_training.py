"""Batched multi-run training (warm_rl.suite.batched*): the same per-member results as separate runs."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from warm_rl.suite import sweep
from warm_rl.suite.batched import BatchedModels
from warm_rl.suite.batched_trainer import train_batched
from warm_rl.suite.data import SequenceDataset, make_benchmark
from warm_rl.suite.tables import run_table
from warm_rl.suite.trainer import SequenceModel, TrainConfig, train

pytestmark = pytest.mark.filterwarnings("ignore:layer\\(s\\) .* still have VAA")

WARMUP = {"updates": 6, "max_horizon": 8, "batch_size": 8, "restarts": 0}


def _double(data: SequenceDataset) -> SequenceDataset:
    return dataclasses.replace(data, inputs=data.inputs.double(),
                               targets=data.targets.double() if data.targets.is_floating_point() else data.targets)


def _sets(seed: int, benchmark: str = "copy", dtype: torch.dtype = torch.float32):
    data = make_benchmark(benchmark, seq_length=12, train_size=40, val_size=16, test_size=16, seed=seed)
    sets = (data.train, data.val, data.test)
    return tuple(_double(s) for s in sets) if dtype == torch.float64 else sets


def _config(tmp_path, seed: int, pretrain: str, cell: str = "gru", **overrides) -> TrainConfig:
    settings = dict(
        cell=cell, hidden_size=8, pretrain=pretrain, epochs=2, batch_size=16, seed=seed, device="cpu",
        progress=False, vaa_samples=8, vaa_horizon=20, warmup_pool=16, warmup_config=WARMUP,
        lsc_config={"max_steps": 4, "batch_size": 8},
    )
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.mark.parametrize("cell", ["gru", "lstm", "mgu", "brc", "nbrc"])
def test_batched_forward_and_gradient_equal_the_members_own(cell):
    torch.manual_seed(0)
    members = [SequenceModel(cell, 2, 6, 3, num_layers=2, double=k == 1).double() for k in range(3)]
    batched = BatchedModels(members)
    inputs = torch.randn(9, 4, 3, 2, dtype=torch.float64)
    steps = torch.randint(0, 9, (2, 4, 3))
    out = batched(inputs, steps)
    own = torch.stack([m(inputs[:, :, k], steps[:, :, k]) for k, m in enumerate(members)], 2)
    torch.testing.assert_close(out, own, rtol=1e-12, atol=1e-12)
    params = [p for m in members for p in m.parameters()]
    grads = torch.autograd.grad(out[..., 0].sum() * 2 + out.square().sum(), params)
    own_grads = torch.autograd.grad(own[..., 0].sum() * 2 + own.square().sum(), params)
    for grad, own_grad in zip(grads, own_grads, strict=True):
        torch.testing.assert_close(grad, own_grad, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_batched_training_equals_separate_runs_in_float64(tmp_path, cell):
    members = [(0, "none"), (1, "full"), (0, "double"), (1, "double_lsc")]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        configs = [_config(tmp_path, seed, mode, cell) for seed, mode in members]
        sets = [_sets(seed, dtype=torch.float64) for seed, _ in members]
        batched = train_batched(configs, sets)
        separate = [train(config, *s) for config, s in zip(configs, sets, strict=True)]
    finally:
        torch.set_default_dtype(previous)
    for one, alone in zip(batched, separate, strict=True):
        assert one.best_epoch == alone.best_epoch
        assert one.test_metric == pytest.approx(alone.test_metric, rel=1e-9)
        for record, own in zip(one.history, alone.history, strict=True):
            for key in ("train_loss", "val_loss", "test_loss", "vaa"):
                assert record[key] == pytest.approx(own[key], rel=1e-9, nan_ok=True), key
        for name, value in one.model.state_dict().items():
            torch.testing.assert_close(value, alone.model.state_dict()[name], rtol=1e-9, atol=1e-11)
    assert batched[0].history[-1]["train_loss"] != batched[1].history[-1]["train_loss"]


def _classification_sets(seed: int) -> tuple[SequenceDataset, ...]:
    """Three-class labels of the sign pattern of a random sequence, read at its last step."""
    generator = torch.Generator().manual_seed(seed)

    def one(count: int) -> SequenceDataset:
        inputs = torch.randn(12, count, 2, generator=generator)
        labels = (inputs[0, :, 0] > 0).long() + (inputs[0, :, 1] > 0).long()
        mask = torch.zeros(12, count, dtype=torch.bool)
        mask[-1] = True
        return SequenceDataset(inputs, labels.unsqueeze(0), mask, torch.full((1, count), 11), "classification", 3)

    return one(40), one(16), one(16)


def test_batched_classification_members_match_separate_runs(tmp_path):
    configs = [_config(tmp_path, seed, "double", "mgu") for seed in (0, 1)]
    sets = [_classification_sets(seed) for seed in (0, 1)]
    batched = train_batched(configs, sets)
    separate = [train(config, *s) for config, s in zip(configs, sets, strict=True)]
    for one, alone in zip(batched, separate, strict=True):
        assert one.metric_name == "accuracy"
        assert one.test_metric == pytest.approx(alone.test_metric, abs=1e-6)
        assert one.history[-1]["train_loss"] == pytest.approx(alone.history[-1]["train_loss"], rel=1e-4)


def test_a_killed_batched_run_resumes_member_by_member(tmp_path):
    """Member checkpoints are those of separate runs: one resumed further along waits for the other."""
    sets = [_sets(seed) for seed in (0, 1)]
    ahead = _config(tmp_path, 0, "full", checkpoint=str(tmp_path / "a.pt"), epochs=1)
    train(ahead, *sets[0])  # member 0 finished epoch 1 alone, then the job was killed
    configs = [dataclasses.replace(ahead, epochs=2), _config(tmp_path, 1, "none", checkpoint=str(tmp_path / "b.pt"))]
    resumed = train_batched(configs, sets)
    fresh = [train(dataclasses.replace(c, checkpoint=None), *s) for c, s in zip(configs, sets, strict=True)]
    for one, alone in zip(resumed, fresh, strict=True):
        assert [r["epoch"] for r in one.history] == [0, 1, 2]
        assert one.test_metric == pytest.approx(alone.test_metric, rel=1e-4)


def test_members_must_share_the_shape(tmp_path):
    sets = [_sets(0), _sets(1)]
    with pytest.raises(ValueError, match="hidden_size"):
        train_batched([_config(tmp_path, 0, "none"), _config(tmp_path, 1, "none", hidden_size=10)], sets)
    with pytest.raises(ValueError, match="vaa_reg"):
        train_batched([_config(tmp_path, 0, "none", vaa_reg={"weight": 1.0})], sets[:1])
    with pytest.raises(ValueError, match="2 data sets"):
        train_batched([_config(tmp_path, 0, "none")], sets)
    short = make_benchmark("copy", seq_length=10, train_size=40, val_size=16, test_size=16, seed=1)
    with pytest.raises(ValueError, match="training set"):
        train_batched([_config(tmp_path, 0, "none")] * 2, [sets[0], (short.train, short.val, short.test)])
    batched = BatchedModels([SequenceModel("gru", 1, 8, 1)] * 2)
    with pytest.raises(ValueError, match=r"\(T, B, K, F\)"):
        batched(torch.zeros(5, 3, 1), torch.zeros(1, 3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="carry 3 members"):
        batched(torch.zeros(5, 3, 3, 1), torch.zeros(1, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="steps must be"):
        batched(torch.zeros(5, 3, 2, 1), torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="member 1 has shape"):
        BatchedModels([SequenceModel("gru", 1, 8, 1), SequenceModel("mgu", 1, 8, 1)])


def _member_ids(jobs):
    return [{"id": job["id"], "size": len(jobs)} for job in jobs]


def test_sweep_groups_unfinished_jobs_of_one_key(tmp_path):
    path = tmp_path / "runs.jsonl"
    jobs = [{"id": i, "shape": i % 2} for i in range(7)]
    sweep.append_record(path, {"id": 2, "size": 0})  # finished: not trained again
    records = sweep.run_sweep(jobs, _member_ids, path, lambda run: run["id"], executor="serial",
                              group_key=lambda job: job["shape"], group_size=2)
    assert [(r["id"], r["size"]) for r in records] == [(2, 0), (0, 2), (4, 2), (6, 1), (1, 2), (3, 2), (5, 1)]
    assert sweep.group_jobs([1, 2, 3, 4, 5], lambda n: n % 2, 2) == [[1, 3], [5], [2, 4]]
    with pytest.raises(ValueError, match="group_key"):
        sweep.run_sweep(jobs, _member_ids, tmp_path / "x.jsonl", lambda run: run["id"], group_size=2)
    with pytest.raises(ValueError, match="group_size"):
        sweep.run_sweep(jobs, _member_ids, tmp_path / "x.jsonl", lambda run: run["id"], group_size=0,
                        group_key=len)


def test_a_batched_table_has_the_records_of_the_separate_one(tmp_path, capsys):
    base = _config(tmp_path, 0, "none", vaa_samples=0)
    common = dict(seeds=(0, 1), epochs=1, cells=("gru",), values=(10,), hidden_size=8, train_size=32,
                  val_size=8, test_size=16, base_config=base, plots=False)
    run_table(1, out_dir=tmp_path / "separate", **common)
    run_table(1, out_dir=tmp_path / "batched", batch_members=4, **common)
    separate = sweep.load_records(tmp_path / "separate" / "table1_runs.jsonl")
    batched = sweep.load_records(tmp_path / "batched" / "table1_runs.jsonl")
    assert [r["batched"] for r in batched] == [4, 4, 4, 4, 2, 2]  # 6 runs of one shape, at most 4 together
    key = lambda r: (r["seed"], r["mode"])  # noqa: E731
    assert sorted(map(key, batched)) == sorted(map(key, separate))
    by_key = {key(r): r for r in separate}
    for record in batched:
        assert record["test_metric"] == pytest.approx(by_key[key(record)]["test_metric"], rel=1e-4)
    assert len(list((tmp_path / "batched" / "table1_checkpoints").glob("*.pt"))) == 6
    capsys.readouterr()
    run_table(1, out_dir=tmp_path / "batched", batch_members=4, **common)  # all done: nothing trains
    assert "[table 1]" not in capsys.readouterr().out


def test_speed_script_times_both_ways_and_refuses_bad_shapes(tmp_path):
    """Run as a program: its process pool pickles the script's own functions."""
    from script_loader import SCRIPTS, load_script

    out = tmp_path / "speed.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "speed_batched.py"), "--shapes", "copy:gru:1x8:10", "--members", "3",
         "--workers", "1", "--train-size", "32", "--warmup-updates", "2", "--float64", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    row = [line for line in out.read_text().splitlines() if line.startswith("| copy:gru:1x8:10")][0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "3" and float(cells[2]) > 0 and float(cells[3]) > 0 and cells[4].endswith("x")
    assert float(cells[5]) < 1e-9  # the same runs both ways (float64)
    script = load_script("speed_batched")
    with pytest.raises(ValueError, match="copy:gru:64"):
        script.parse_shape("copy:gru:64")
    assert script.main(["--per-batch", "--shapes", "copy:mgu:1x8:10", "--members", "2", "--out", str(out)]) == 0
    assert "| copy:mgu:1x8:10 | 2 |" in out.read_text()

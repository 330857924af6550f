"""The memory-task suite benchmark: statistics, planning, the end-to-end sweep and its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from script_loader import load_script

from agents import suite
from agents.stats import iqm, iqm_difference_interval, iqm_interval
from agents.training import RunConfig

ROOT = Path(__file__).resolve().parents[1]


def test_iqm_cuts_a_quarter_from_each_end():
    assert iqm([1.0, 2.0, 3.0, 100.0, -50.0]) == pytest.approx(2.0)  # middle three of five
    assert iqm([4.0, 1.0, 3.0, 2.0]) == pytest.approx(2.5)  # middle two of four
    assert iqm([7.0]) == 7.0
    with pytest.raises(ValueError, match="non-empty"):
        iqm([])
    with pytest.raises(ValueError, match="non-finite"):
        iqm([1.0, float("nan")])


def test_bootstrap_intervals_cover_the_estimate_and_separate_clear_differences():
    rng = np.random.default_rng(0)
    good, bad = rng.normal(1.0, 0.05, 5), rng.normal(0.0, 0.05, 5)
    low, high = iqm_interval(good)
    assert low <= iqm(good) <= high and high - low < 0.2
    assert iqm_interval(good) == iqm_interval(good)  # seeded
    difference, low, high = iqm_difference_interval(good, bad)
    assert difference == pytest.approx(iqm(good) - iqm(bad)) and low > 0.8
    _, low, high = iqm_difference_interval(good, good)
    assert low < 0 < high


def test_plan_suite_is_seed_major_and_applies_each_agent():
    tasks = suite.SUITE_TASKS[:2]
    runs = suite.plan_suite(RunConfig(), tasks, ["warm", "cold", "stock"], [0, 1])
    assert len(runs) == 12
    assert [c["seed"] for _, c in runs[:6]] == [0] * 6
    variants = {v: c for v, c in runs if c["seed"] == 0}
    first = tasks[0]
    warm, cold, stock = (variants[suite.run_variant(first.name, a)] for a in ("warm", "cold", "stock"))
    assert warm["pretrain"] == "warmup+lsc" and cold["pretrain"] is None and stock["algorithm"] == "RecurrentPPO"
    assert warm["env"] == first.env and warm["timesteps"] == first.timesteps and warm["env_kwargs"] == first.env_kwargs
    with pytest.raises(ValueError, match="'hot'"):
        suite.plan_suite(RunConfig(), tasks, ["hot"], [0])


def test_study_agents_are_valid_run_configs_with_a_label_and_stay_out_of_the_default_table():
    runs = suite.plan_suite(RunConfig(), suite.SUITE_TASKS[:1], list(suite.STUDY_AGENTS), [0])
    configs = {variant.partition("__")[2]: RunConfig(**config) for variant, config in runs}
    assert configs["cold_32"].hidden_size == 32 and configs["cold_32"].pretrain is None
    assert configs["warm_128"].hidden_size == 128 and configs["warm_128"].pretrain == "warmup+lsc"
    assert configs["warm_no_lsc"].pretrain == "warmup" and configs["warm_no_kl"].ppo_kwargs == {"target_kl": None}
    assert configs["warm_actor"].policy_kwargs == {"warmup_critic": False}
    assert configs["warm_lsc"].pretrain == "warmup+lsc" and configs["warm_eps"].warmup_kwargs == {"eps": 0.1}
    assert configs["warm_lstm_kl"].cell == "lstm"
    assert configs["warm_lstm_kl"].ppo_kwargs == {"target_kl": suite.STUDY_TARGET_KL}
    assert configs["cold_kl"].pretrain is None and configs["cold_kl"].ppo_kwargs == configs["warm_kl"].ppo_kwargs
    assert configs["warm_kl_reg"].vaa_reg == suite.STUDY_VAA_REG and configs["warm_kl_reg"].pretrain == "warmup+lsc"
    assert configs["warm_lstm_kl_reg"].cell == "lstm" and configs["warm_lstm_kl_reg"].vaa_reg == suite.STUDY_VAA_REG
    assert set(suite.AGENT_LABELS) == set(suite.ALL_AGENTS)
    assert not set(suite.STUDY_AGENTS) & set(suite.SUITE_AGENTS)


def test_suite_table_marks_better_worse_and_tie():
    def record(task, agent, value):
        return {"variant": suite.run_variant(task, agent), "mean_return": value, "history": []}

    tasks = [suite.SuiteTask("a", "x", "m", 10), suite.SuiteTask("b", "y", "m", 10, held_out=True)]
    results = [record("a", "warm", 1.0 + i / 100) for i in range(5)] + [record("a", "cold", -1.0 + i / 100) for i in
                                                                           range(5)]
    results += [record("b", "warm", v) for v in (0.0, 1.0, 0.0, 1.0)] + [record("b", "cold", v) for v in (1.0, 0.0)]
    rows = suite.suite_rows(results, tasks, ["warm", "cold"])
    assert rows[0]["warm - cold"].endswith("better") and rows[1]["warm - cold"].endswith("tie")
    single = suite.suite_rows(results + [record("c", "warm", 1.0), record("c", "cold", 0.0)],
                              [suite.SuiteTask("c", "z", "m", 10)], ["warm", "cold"])
    assert single[0]["warm - cold"] == "+1.00 (one seed)"
    text = suite.suite_markdown(rows, ["warm", "cold"], "cmd")
    assert "## Held-out tasks" in text and "| a |" in text and "(n=5)" in text


def test_suite_sweep_runs_end_to_end_and_resumes(tmp_path):
    out = tmp_path / "suite"
    common = [sys.executable, str(ROOT / "scripts" / "benchmark_rl.py"), "--suite", "--tasks", "copy_first",
              "delayed_match", "--agents", "warm", "stock_64", "--seeds", "0", "--workers", "1", "--n-envs", "2",
              "--eval-every", "0", "--eval-episodes", "2", "--out", str(out),
              "--ppo-kwargs", '{"n_steps": 16, "batch_size": 32, "n_epochs": 1}',
              "--warmup-kwargs", '{"updates": 2, "max_horizon": 10}', "--suite-timesteps", "64"]
    first = subprocess.run(common, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    lines = (tmp_path / "suite.jsonl").read_text().splitlines()
    assert len(lines) == 4
    assert {json.loads(line)["variant"] for line in lines} == {
        "copy_first__warm", "copy_first__stock_64", "delayed_match__warm", "delayed_match__stock_64"}
    assert all((tmp_path / f"suite.{suffix}").is_file() for suffix in ("md", "csv", "png"))
    # killed after two runs: the rerun trains only the two missing ones
    (tmp_path / "suite.jsonl").write_text("\n".join(lines[:2]) + "\n")
    second = subprocess.run(common, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count(" seed=0 ") == 2
    assert len((tmp_path / "suite.jsonl").read_text().splitlines()) == 4
    # --report runs nothing, and a record of other settings (older defaults) is not counted as the agent's
    records = [json.loads(line) for line in (tmp_path / "suite.jsonl").read_text().splitlines()]
    stale = {**records[0], "config": {**records[0]["config"], "hidden_size": 16}, "mean_return": 99.0}
    with (tmp_path / "suite.jsonl").open("a") as handle:
        handle.write(json.dumps(stale) + "\n")
    report = subprocess.run([*common, "--report", "--agents", "warm", "cold"], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert report.returncode == 0, report.stderr
    assert " seed=0 " not in report.stdout and "99.00" not in report.stdout
    assert "(n=1)" in report.stdout and "(n=0)" in report.stdout  # warm ran, cold did not
    assert len((tmp_path / "suite.jsonl").read_text().splitlines()) == 5


def test_lsc_vs_warmup_summary_reads_both_supervised_benchmarks(tmp_path, monkeypatch):
    import json

    module = load_script("lsc_vs_warmup")
    monkeypatch.setattr(module, "RL_REFERENCES", ())

    def run(cell, mode, seed, mse):
        return {"cell": cell, "mode": mode, "seed": seed, "test_metric": mse,
                "history": [{"vaa": 0.5}, {"vaa": 0.9}], "warmup": {"seconds": 2.0}, "lsc": None}

    for stem, mse in (("copy_T300", 0.001), ("denoising_N100", 0.5)):
        lines = [json.dumps(run(cell, "full", seed, mse * (seed + 1))) for cell in ("gru", "lstm") for seed in range(3)]
        (tmp_path / f"{stem}_runs.jsonl").write_text("\n".join(lines) + "\n")
    assert module.main(["--folder", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "## Supervised: copy-first-input T=300" in summary and "## Supervised: denoising N=100" in summary
    assert "0.001, 0.002, 0.003" in summary and "0.5, 1, 1.5" in summary
    assert (tmp_path / "vaa_vs_mse.png").stat().st_size > 0


def test_multistability_measures_the_network_train_starts_from(tmp_path):
    import torch

    from warm_rl.suite.data import make_benchmark
    from warm_rl.suite.trainer import TrainConfig, train

    module = load_script("multistability")
    bench = make_benchmark("copy", seq_length=15, train_size=40, val_size=8, test_size=8, seed=1)
    config = TrainConfig(cell="lstm", hidden_size=8, pretrain="double", init="chrono", epochs=0, seed=1,
                         vaa_samples=0, progress=False, warmup_pool=40, warmup_config={"updates": 3, "max_horizon": 10})
    measured = module.pretrained(config, bench.train).rnn.state_dict()
    trained = train(config, bench.train, bench.val, bench.test).model.rnn.state_dict()
    assert all(torch.equal(measured[key], trained[key]) for key in measured)


def test_multistability_script_writes_its_table_and_resumes(tmp_path, capsys):
    module = load_script("multistability")
    argv = ["--cells", "gru", "brc", "--procedures", "default", "chrono", "--seeds", "0", "--hidden-size", "8",
            "--seq-length", "15", "--train-size", "32", "--val-size", "8", "--test-size", "8", "--epochs", "1",
            "--vaa-horizon", "50", "--vaa-samples", "8", "--out", str(tmp_path / "ms")]
    assert module.main(argv) == 0
    text = (tmp_path / "ms.md").read_text()
    assert "| GRU | chrono |" in text and "| BRC | default |" in text and "BRC | chrono" not in text
    assert "Spearman rho" in text and (tmp_path / "ms.png").stat().st_size > 0
    assert len((tmp_path / "ms.csv").read_text().splitlines()) == 1 + 3
    capsys.readouterr()
    assert module.main(argv) == 0
    assert "seed 0:" not in capsys.readouterr().out, "a rerun trains nothing"
    assert module.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert module.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)

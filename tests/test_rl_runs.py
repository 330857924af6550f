"""Training runs and sweeps: checkpoints, resumption with the evaluation curve, sweep bookkeeping."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from agents import WarmRecurrentPPO, benchmark
from agents.training import RunConfig, build_model, latest_checkpoint, train_agent

TINY_RUN = {
    "env_kwargs": {"length": 3},
    "hidden_size": 8,
    "n_envs": 2,
    "warmup_env_steps": 32,
    "warmup_kwargs": {"updates": 3, "batch_size": 8, "max_horizon": 20, "seed": 0},
    "vaa_horizon": 50,
    "ppo_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 1},
    "eval_episodes": 4,
    "eval_every": 64,
    "checkpoint_every": 32,
    "stats_every": 32,
    "keep_checkpoints": 2,
}


def test_killed_run_resumes_with_its_curve_and_warmup_record(tmp_path):
    save = tmp_path / "run.zip"
    first = train_agent(RunConfig(**TINY_RUN, timesteps=128), save=save, resume=True)
    assert [step for step, _, _ in first.history] == [64, 128]
    assert first.vaa_after is not None and first.warmup_seconds is not None
    checkpoints = sorted((tmp_path / "run_checkpoints").glob("model_*_steps.zip"))
    assert len(checkpoints) == 2, "older checkpoints are deleted"
    assert latest_checkpoint(tmp_path / "run_checkpoints").name == "model_128_steps.zip"
    record = json.loads((tmp_path / "run_run.json").read_text())
    assert [item[0] for item in record["history"]] == [64, 128]
    assert [step for step, _, _ in first.training_curve] == [32, 64, 96, 128]
    assert all(0.0 <= ended <= 1.0 and 0.0 <= success <= ended for _, ended, success in first.training_curve)
    assert record["training_curve"] == [list(item) for item in first.training_curve]

    # As if killed at 128 steps of a 192-step run: the rerun continues, no second warm-up.
    second = train_agent(RunConfig(**TINY_RUN, timesteps=192), save=save, resume=True)
    assert second.timesteps == 192
    assert [step for step, _, _ in second.history] == [64, 128, 192]
    assert second.history[:2] == [tuple(item) for item in record["history"]]
    assert [step for step, _, _ in second.training_curve] == [32, 64, 96, 128, 160, 192]
    assert second.vaa_before == first.vaa_before and second.vaa_after == first.vaa_after
    assert latest_checkpoint(tmp_path / "run_checkpoints", max_steps=170).name == "model_160_steps.zip"
    assert latest_checkpoint(tmp_path / "run_checkpoints", max_steps=100) is None  # only 160 and 192 kept


def test_fresh_run_ignores_a_stale_record_without_checkpoint(tmp_path):
    (tmp_path / "run_run.json").write_text(json.dumps({"history": [[64, 1.0, 4.0]], "warmup": {}}))
    result = train_agent(RunConfig(**{**TINY_RUN, "eval_every": 0}, timesteps=64), save=tmp_path / "run.zip",
                         resume=True)
    assert result.history == []
    assert json.loads((tmp_path / "run_run.json").read_text())["history"] == []


def test_run_key_ignores_bookkeeping_and_names_are_unique():
    config = asdict(RunConfig(seed=3, env_kwargs={"length": 50}))
    other = {**config, "checkpoint_every": 1, "keep_checkpoints": 9}
    assert benchmark.run_key(config) == benchmark.run_key(other)
    assert benchmark.run_name("warm", config) == benchmark.run_name("warm", other)
    assert benchmark.run_name("warm", config).startswith("warm_L50_seed3_")
    assert benchmark.run_name("warm", config) != benchmark.run_name("warm", {**config, "seed": 4})
    constant = {**config, "lr_schedule": "constant", "ent_schedule": "constant"}
    assert benchmark.run_name("warm", constant) == benchmark.run_name("warm", {**constant, "timesteps": 7})
    assert benchmark.run_key(constant) != benchmark.run_key({**constant, "timesteps": 7})
    # runs recorded before policy_kwargs existed keep their names; set, it is part of the key
    older = {k: v for k, v in config.items() if k != "policy_kwargs"}
    assert benchmark.run_name("warm", older) == benchmark.run_name("warm", config)
    skip = {**config, "policy_kwargs": {"feature_skip": True}}
    assert benchmark.run_name("warm", skip) != benchmark.run_name("warm", config)


def test_linear_schedule_keeps_the_budget_in_the_run_name():
    config = asdict(RunConfig(seed=3, env_kwargs={"length": 50}, lr_schedule="constant", ent_schedule="constant"))
    older = {k: v for k, v in config.items() if k not in ("lr_schedule", "ent_schedule")}
    assert benchmark.run_name("warm", older) == benchmark.run_name("warm", config)
    linear = {**config, "lr_schedule": "linear"}
    assert (RunConfig().lr_schedule, RunConfig().ent_schedule) == ("linear", "constant")
    assert benchmark.run_name("warm", linear) != benchmark.run_name("warm", config)
    assert benchmark.run_name("warm", linear) != benchmark.run_name("warm", {**linear, "timesteps": 7})
    entropy = {**config, "ent_schedule": "linear"}
    assert benchmark.run_name("warm", entropy) not in (benchmark.run_name("warm", config),
                                                       benchmark.run_name("warm", linear))
    assert benchmark.run_name("warm", entropy) != benchmark.run_name("warm", {**entropy, "timesteps": 7})


def test_unknown_lr_schedule_is_rejected():
    with pytest.raises(ValueError, match="lr_schedule 'cosine'"):
        RunConfig(lr_schedule="cosine")
    with pytest.raises(ValueError, match="ent_schedule 'step'"):
        RunConfig(ent_schedule="step")


def test_linear_lr_schedule_decays_to_zero_over_the_budget_and_survives_resume(tmp_path):
    save = tmp_path / "run.zip"
    config = {**TINY_RUN, "eval_every": 0, "lr_schedule": "linear", "ppo_kwargs": {**TINY_RUN["ppo_kwargs"],
                                                                                   "learning_rate": 1e-3}}
    train_agent(RunConfig(**config, timesteps=128), save=save, resume=True)
    model = WarmRecurrentPPO.load(save)
    assert model.lr_schedule(1.0) == pytest.approx(1e-3)
    assert model.lr_schedule(0.25) == pytest.approx(2.5e-4)
    # resumed at 96 of 128 steps as train_agent does, the decay goes on from progress 0.25
    env = build_model(RunConfig(**config, timesteps=128)).get_env()
    model = WarmRecurrentPPO.load(tmp_path / "run_checkpoints" / "model_96_steps.zip", env=env)
    model._setup_learn(128 - model.num_timesteps, reset_num_timesteps=False)
    model._update_current_progress_remaining(model.num_timesteps, model._total_timesteps)
    assert model._current_progress_remaining == pytest.approx(0.25)


def test_sweep_skips_finished_runs_and_gives_each_run_a_work_dir(tmp_path, monkeypatch):
    calls = []

    def fake_run(config, variant, work_dir):
        calls.append((variant, config["seed"], work_dir))
        return {"variant": variant, "config": config, "success_rate": 1.0, "mean_return": 4.0,
                "vaa_before": None, "vaa_after": None, "warmup_seconds": None, "seconds": 0.0, "history": []}

    monkeypatch.setattr(benchmark, "_run", fake_run)
    runs = benchmark.plan_runs(RunConfig(), ["cold", "warm"], [10], [0, 1], {10: 100})
    out = tmp_path / "sweep.jsonl"
    old_style = {**runs[0][1]}
    del old_style["keep_checkpoints"]  # a line written before that field existed still counts
    out.write_text(json.dumps({**fake_run(old_style, "cold", None), "variant": "cold"}) + "\n")
    calls.clear()
    results = benchmark.run_sweep(runs, out, workers=1)
    assert len(results) == 4
    assert [(variant, seed) for variant, seed, _ in calls] == [("cold", 1), ("warm", 0), ("warm", 1)]
    assert {work for _, _, work in calls} == {str(tmp_path / "sweep_runs")}
    assert benchmark.run_sweep(runs, out, workers=1) and len(calls) == 3


LEGACY_RECORD_CONFIG = {
    "env": "warm_rl/TMaze-v0", "env_kwargs": {"length": 50}, "cell": "gru", "hidden_size": 64, "n_layers": 1,
    "double": True, "feature_skip": True, "warmup": True, "warmup_env_steps": 2048, "warmup_kwargs": {},
    "policy_kwargs": {}, "vaa_steps": 1000, "prev_action_reward": False, "horizon_terminal": False,
    "timesteps": 1000000, "n_envs": 8, "seed": 0, "device": "auto", "ppo_kwargs": {}, "lr_schedule": "linear",
    "eval_episodes": 50, "eval_every": 25000, "stats_every": 10000, "checkpoint_every": 20000, "keep_checkpoints": 2,
}
"""The config of a run recorded before RunConfig's n_layers / vaa_steps became num_layers / vaa_horizon
(``results/tmaze_warm_vs_cold/L50_lr_linear_1M.jsonl``, its first line)."""


def test_records_with_the_old_field_names_are_upgraded_and_keep_their_keys_and_names(tmp_path, monkeypatch):
    upgraded = benchmark.upgrade_config(LEGACY_RECORD_CONFIG)
    assert "n_layers" not in upgraded and "vaa_steps" not in upgraded
    assert (upgraded["num_layers"], upgraded["vaa_horizon"]) == (1, 1000)
    assert list(upgraded).index("num_layers") == list(LEGACY_RECORD_CONFIG).index("n_layers")
    assert benchmark.upgrade_config(upgraded) == upgraded
    # the name computed before the rename (checkpoints of that run are called so)
    assert benchmark.run_name("warm", LEGACY_RECORD_CONFIG) == "warm_L50_seed0_b7402dee13"
    assert benchmark.run_name("warm", upgraded) == "warm_L50_seed0_b7402dee13"
    assert benchmark.run_key(upgraded) == benchmark.run_key(LEGACY_RECORD_CONFIG)
    assert benchmark.run_key({**upgraded, "num_layers": 2}) != benchmark.run_key(LEGACY_RECORD_CONFIG)

    out = tmp_path / "sweep.jsonl"
    out.write_text(json.dumps({"variant": "warm", "config": LEGACY_RECORD_CONFIG, "success_rate": 1.0}) + "\n")
    loaded = benchmark.load_results(out)
    assert loaded[0]["config"] == upgraded and loaded[0]["success_rate"] == 1.0
    calls = []
    monkeypatch.setattr(benchmark, "_run", lambda config, variant, work_dir: calls.append(config) or {
        "variant": variant, "config": config, "success_rate": 0.0, "seconds": 0.0})
    other = {**upgraded, "seed": 1}
    results = benchmark.run_sweep([("warm", upgraded), ("warm", other)], out, workers=1)
    assert calls == [other], "the old record counts as the finished new-named run"
    assert [r["config"] for r in results] == [upgraded, other]


def test_runs_of_other_agent_defaults_never_count_as_this_warm_rls_runs(tmp_path):
    from agents.defaults import AGENT_DEFAULTS_VERSION

    current = asdict(RunConfig(**TINY_RUN))
    assert current["agent_defaults"] == AGENT_DEFAULTS_VERSION >= 2
    legacy = {k: v for k, v in current.items() if k != "agent_defaults"}  # recorded before the field
    assert benchmark.upgrade_config(legacy)["agent_defaults"] == 1
    assert benchmark.run_key(legacy) == benchmark.run_key({**current, "agent_defaults": 1})
    assert benchmark.run_key(legacy) != benchmark.run_key(current)
    assert benchmark.run_name("warm", legacy) != benchmark.run_name("warm", current)
    stock = {**current, "algorithm": "RecurrentPPO"}  # stock runs do not use warm-rl's defaults
    assert benchmark.run_key({k: v for k, v in stock.items() if k != "agent_defaults"}) == benchmark.run_key(stock)
    # nor its other fields: a stock run recorded under older defaults (pretrain "warmup") keeps its key
    assert benchmark.run_key({**stock, "pretrain": "warmup", "warmup_kwargs": {"eps": 0.1}}) == benchmark.run_key(stock)
    assert benchmark.run_key({**stock, "ppo_kwargs": {"n_epochs": 3}}) != benchmark.run_key(stock)
    with pytest.raises(ValueError, match=f"agent_defaults=1.*version 1.*version {AGENT_DEFAULTS_VERSION}"):
        build_model(RunConfig(**{**TINY_RUN, "agent_defaults": 1}))
    with pytest.raises(ValueError, match="agent_defaults.*0"):
        RunConfig(agent_defaults=0)
    # a run checkpointed under the old defaults is not resumed as a run of the new ones
    save = tmp_path / "run.zip"
    train_agent(RunConfig(**TINY_RUN, timesteps=32), save=save)
    stored = tmp_path / "run_checkpoints" / "run_config.json"
    stored.write_text(json.dumps({k: v for k, v in json.loads(stored.read_text()).items() if k != "agent_defaults"}))
    with pytest.raises(ValueError, match=rf"agent_defaults: 1 \(run\) vs {AGENT_DEFAULTS_VERSION} \(given\)"):
        train_agent(RunConfig(**TINY_RUN, timesteps=64), save=save, resume=True)


def test_a_stock_run_resumes_whatever_warm_rls_own_fields_were_when_it_started(tmp_path):
    stock = {**TINY_RUN, "algorithm": "RecurrentPPO", "policy_kwargs": {"lstm_hidden_size": 8},
             "ppo_kwargs": {"n_steps": 16, "batch_size": 32}}
    save = tmp_path / "stock.zip"
    train_agent(RunConfig(**stock, timesteps=32), save=save)
    stored = tmp_path / "stock_checkpoints" / "run_config.json"
    older = {**json.loads(stored.read_text()), "pretrain": "warmup", "agent_defaults": 2}  # older warm-rl defaults
    stored.write_text(json.dumps(older))
    result = train_agent(RunConfig(**stock, timesteps=64), save=save, resume=True)
    assert result.timesteps == 64
    with pytest.raises(ValueError, match="ppo_kwargs"):  # what stock does read must still match
        train_agent(RunConfig(**{**stock, "ppo_kwargs": {"n_steps": 8, "batch_size": 16}}, timesteps=96),
                    save=save, resume=True)


def test_plan_runs_rejects_unknown_variant():
    with pytest.raises(ValueError, match="'hot'"):
        benchmark.plan_runs(RunConfig(), ["hot"], [10], [0], {})


def test_training_curve_counts_the_horizon_as_a_cut_not_a_success(tmp_path):
    config = RunConfig(**{**TINY_RUN, "eval_every": 0, "env_kwargs": {"length": 30}}, timesteps=256,
                       horizon_terminal=True)
    result = train_agent(config, save=tmp_path / "run.zip")
    # A near-random policy never crosses a 30-cell corridor: every training episode is cut.
    assert result.training_curve and all(ended == 0.0 for _, ended, _ in result.training_curve)


def test_summary_reports_training_episodes():
    config = asdict(RunConfig(env_kwargs={"length": 10}))
    runs = [
        {"variant": "warm", "config": config, "success_rate": rate, "vaa_before": 0.1, "vaa_after": 0.9,
         "history": [], "training_curve": [[10_000, 0.5, 0.25], [20_000, ended, success]]}
        for rate, ended, success in ((1.0, 1.0, 1.0), (0.5, 0.0, 0.0))
    ]
    table = benchmark.summarise(runs)
    assert "| 10 | warm | 1/2 | 0.75 | 100000 | 0.100 -> 0.900 | 0.50 / 0.50 |" in table
    old = [{**run, "training_curve": None} for run in runs]
    assert benchmark.summarise(old).rstrip().endswith("| - |")


def test_truncation_as_termination_keeps_real_ends_and_marks_the_horizon():
    import gymnasium as gym

    from agents import TruncationAsTermination

    env = TruncationAsTermination(gym.make("warm_rl/TMaze-v0", length=2))
    env.reset(seed=0)
    for _ in range(env.unwrapped.horizon - 1):
        _, _, terminated, truncated, info = env.step(2)  # left at the cue cell: bump
        assert not (terminated or truncated) and "horizon_reached" not in info
    _, reward, terminated, truncated, info = env.step(2)
    assert (reward, terminated, truncated, info["horizon_reached"]) == (-0.1, True, False, True)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    _, reward, terminated, truncated, info = env.step(1)  # a turn at the junction: a real end
    assert terminated and not truncated and "horizon_reached" not in info


def test_horizon_terminal_wraps_the_env_only_when_asked():
    from agents import TruncationAsTermination
    from agents.training import _make_env

    plain = _make_env(RunConfig(env_kwargs={"length": 2}), seed=0, n_envs=1)
    assert plain.env_is_wrapped(TruncationAsTermination) == [False]
    wrapped = _make_env(RunConfig(env_kwargs={"length": 2}, horizon_terminal=True), seed=0, n_envs=1)
    assert wrapped.env_is_wrapped(TruncationAsTermination) == [True]


def test_plot_draws_evaluation_and_training_curves(tmp_path):
    config = asdict(RunConfig(env_kwargs={"length": 10}))
    runs = [
        {"variant": variant, "config": {**config, "seed": seed}, "history": [[10, 0.5, 1.0], [20, 1.0, 4.0]],
         "training_curve": [[10, 0.2 + 0.2 * seed, 0.1], [20, 0.9, 0.5]]}
        for variant in ("warm", "cold") for seed in (0, 1)
    ]
    curves = benchmark._mean_curves(runs, "training_curve", 1)
    assert list(curves) == [(10, "cold"), (10, "warm")]
    steps, mean, low, high, seeds = curves[(10, "warm")]
    assert steps == [10, 20] and mean.tolist() == pytest.approx([0.3, 0.9]) and seeds == 2
    assert low.tolist() == pytest.approx([0.25, 0.9]) and high.tolist() == pytest.approx([0.35, 0.9])
    benchmark.plot(runs, tmp_path / "both.png")
    benchmark.plot([{**run, "history": []} for run in runs], tmp_path / "no_eval.png")
    assert (tmp_path / "both.png").stat().st_size > 0 and (tmp_path / "no_eval.png").stat().st_size > 0


def test_benchmark_script_writes_table_plot_and_keeps_runs_in_the_work_dir(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "benchmark_rl.py"
    spec = importlib.util.spec_from_file_location("benchmark_rl_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out, work = tmp_path / "sweep", tmp_path / "work"
    argv = ["--lengths", "3", "--seeds", "0", "--variants", "cold", "--timesteps", "64", "--n-envs", "2",
            "--hidden-size", "8", "--ppo-kwargs", '{"n_steps": 16, "batch_size": 32, "n_epochs": 1}',
            "--eval-every", "0", "--eval-episodes", "2", "--out", str(out), "--work-dir", str(work)]
    assert script.main(argv) == 0
    table = (tmp_path / "sweep.md").read_text()
    assert "| 3 | cold | " in table and "--work-dir" in table
    assert """--ppo-kwargs '{"n_steps": 16""" in table  # the recorded command can be pasted into a shell
    assert (tmp_path / "sweep.png").stat().st_size > 0
    assert len(benchmark.load_results(tmp_path / "sweep.jsonl")) == 1
    assert [p.name.split("_")[:3] for p in work.glob("*.zip")] == [["cold", "L3", "seed0"]]
    assert "cold L=3 seed=0" in capsys.readouterr().out


def test_shared_flags_default_to_the_run_config_and_reach_it():
    import argparse

    from agents.cli import add_run_arguments, run_fields

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    assert RunConfig(**run_fields(parser.parse_args([]))) == RunConfig()
    args = parser.parse_args(["--cell", "brc", "--no-feature-skip", "--ent-schedule", "linear",
                              "--ppo-kwargs", '{"gamma": 0.9}', "--eval-episodes", "7"])
    config = RunConfig(**run_fields(args))
    assert (config.cell, config.feature_skip, config.ent_schedule, config.ppo_kwargs, config.eval_episodes) == (
        "brc", False, "linear", {"gamma": 0.9}, 7)
    with pytest.raises(SystemExit):
        parser.parse_args(["--cell", "rnn"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow in the diverging rollout statistics
def test_a_diverging_update_stops_at_once_and_saves_nothing_non_finite(tmp_path):
    import torch

    settings = {**TINY_RUN, "keep_checkpoints": 10, "ppo_kwargs": {**TINY_RUN["ppo_kwargs"], "learning_rate": 1e20}}
    config = RunConfig(**settings, timesteps=256, lr_schedule="constant")
    with pytest.raises(FloatingPointError, match=r"parameter '.+' became non-finite at optimiser step \d+"):
        train_agent(config, save=tmp_path / "run.zip")
    assert not (tmp_path / "run.zip").exists(), "the final model is never written with non-finite weights"
    for path in (tmp_path / "run_checkpoints").glob("*.zip"):
        model = WarmRecurrentPPO.load(path)
        assert all(bool(torch.isfinite(p).all()) for p in model.policy.parameters()), path
    assert not list((tmp_path / "run_checkpoints").glob("*.partial"))


def test_a_truncated_newest_checkpoint_resumes_from_the_previous_one(tmp_path):
    save = tmp_path / "run.zip"
    train_agent(RunConfig(**TINY_RUN, timesteps=128), save=save)
    folder = tmp_path / "run_checkpoints"
    newest = folder / "model_128_steps.zip"
    newest.write_bytes(newest.read_bytes()[:500])  # killed mid-write by an older version
    with pytest.warns(UserWarning, match="skipping unreadable checkpoint .*model_128_steps.zip"):
        assert latest_checkpoint(folder) == folder / "model_96_steps.zip"  # checkpoints every 32 steps, 2 kept
    with pytest.warns(UserWarning, match="unreadable"):
        resumed = train_agent(RunConfig(**TINY_RUN, timesteps=160), save=save, resume=True)
    assert resumed.timesteps == 160


def test_save_model_refuses_non_finite_weights(tmp_path):
    import torch

    from agents.checkpoints import save_model

    model = build_model(RunConfig(**TINY_RUN))
    with torch.no_grad():
        next(model.policy.parameters()).fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="not saving"):
        save_model(model, tmp_path / "bad.zip")
    assert not list(tmp_path.iterdir())


def test_resume_refuses_another_run_and_force_new_moves_the_old_one_aside(tmp_path):
    save = tmp_path / "run.zip"
    train_agent(RunConfig(**TINY_RUN, timesteps=64), save=save)
    folder = tmp_path / "run_checkpoints"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    model_bytes = save.read_bytes()
    with pytest.raises(ValueError, match=r"cell: 'gru' \(run\) vs 'lstm' \(given\).*hidden_size: 8 \(run\) vs 16"):
        train_agent(RunConfig(**{**TINY_RUN, "hidden_size": 16}, cell="lstm", timesteps=96), save=save, resume=True)
    with pytest.raises(ValueError, match="beyond timesteps=16"):  # checkpoints at 32 and 64 steps
        train_agent(RunConfig(**TINY_RUN, timesteps=16), save=save, resume=True)
    with pytest.raises(ValueError, match="--resume continues it, --force-new starts over"):
        train_agent(RunConfig(**TINY_RUN, timesteps=64), save=save)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before and save.read_bytes() == model_bytes

    said = []
    finished = train_agent(RunConfig(**TINY_RUN, timesteps=64), save=save, resume=True, say=said.append)
    assert finished.timesteps == 64 and "finished" in said[-1]
    assert save.read_bytes() == model_bytes, "a finished run is left unchanged"

    fresh = train_agent(RunConfig(**{**TINY_RUN, "hidden_size": 16}, timesteps=32), save=save, force_new=True,
                        say=said.append)
    assert fresh.timesteps == 32 and "moved to" in said[-1]
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("run_old_")]
    assert len(aside) == 1 and (aside[0] / "run.zip").read_bytes() == model_bytes
    assert (aside[0] / "run_checkpoints" / "model_64_steps.zip").is_file()
    assert json.loads((folder / "run_config.json").read_text())["hidden_size"] == 16


@pytest.mark.parametrize("bad, error, match", [
    ({"timesteps": 0}, ValueError, "timesteps.*0"),
    ({"timesteps": -5}, ValueError, "-5"),
    ({"n_envs": 0}, ValueError, "n_envs"),
    ({"checkpoint_every": 0}, ValueError, "checkpoint_every"),
    ({"eval_episodes": 0}, ValueError, "eval_episodes"),
    ({"vaa_horizon": 0}, ValueError, "vaa_horizon"),
    ({"env_kwargs": [1, 2]}, TypeError, r"env_kwargs must be a dict.*\[1, 2\]"),
    ({"ppo_kwargs": {"n_steps": 0}}, ValueError, "n_steps"),
    ({"ppo_kwargs": {"gamma": 1.5}}, ValueError, "gamma.*1.5"),
    ({"ppo_kwargs": {"gamma": 0.0}}, ValueError, "gamma"),
    ({"double": "no"}, TypeError, "'no'"),
    ({"cell": "chrono"}, ValueError, "t_max"),
])
def test_nonsense_run_settings_fail_before_any_work(bad, error, match):
    with pytest.raises(error, match=match):
        RunConfig(**bad)


def test_cuda_is_refused_only_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        assert RunConfig(device="cuda").device == "cuda"
    else:
        with pytest.raises(ValueError, match="'cuda'.*not available"):
            RunConfig(device="cuda")


def test_train_script_reports_a_nonsense_setting_without_training():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    done = subprocess.run([sys.executable, str(script), "--timesteps", "0"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "RunConfig.timesteps must be >= 1, got 0" in done.stderr, done.stderr
    assert "trained" not in done.stdout


def _parameters(path):
    model = WarmRecurrentPPO.load(path)
    return {name: value.clone() for name, value in model.policy.state_dict().items()}


def test_a_killed_and_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, monkeypatch):
    from agents import checkpoints

    config = RunConfig(**TINY_RUN, timesteps=160)  # the default linear learning-rate decay
    train_agent(config, save=tmp_path / "whole.zip")

    save_checkpoint = checkpoints.KeepLastCheckpoints._save

    def save_then_die(self):
        save_checkpoint(self)
        if self.num_timesteps == 96:
            raise KeyboardInterrupt  # killed right after the checkpoint at 96 steps: what followed is lost

    monkeypatch.setattr(checkpoints.KeepLastCheckpoints, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_agent(config, save=tmp_path / "killed.zip")
    monkeypatch.undo()
    said = []
    resumed = train_agent(config, save=tmp_path / "killed.zip", resume=True, say=said.append)
    assert "at 96 steps (exactly)" in said[0]
    whole, again = _parameters(tmp_path / "whole.zip"), _parameters(tmp_path / "killed.zip")
    assert all(torch.equal(whole[name], again[name]) for name in whole), "resume must be bit-identical"
    uninterrupted = json.loads((tmp_path / "whole_run.json").read_text())
    assert resumed.history == [tuple(point) for point in uninterrupted["history"]]
    whole_eval, killed_eval = (tmp_path / f"{name}_eval" / "evaluations.npz" for name in ("whole", "killed"))
    with np.load(whole_eval) as a, np.load(killed_eval) as b:
        assert a["timesteps"].tolist() == b["timesteps"].tolist() == [64, 128]
        assert np.array_equal(a["results"], b["results"]) and np.array_equal(a["successes"], b["successes"])


def test_a_checkpoint_without_its_resume_state_resumes_with_fresh_episodes(tmp_path):
    save = tmp_path / "run.zip"
    train_agent(RunConfig(**TINY_RUN, timesteps=64), save=save)
    for state in (tmp_path / "run_checkpoints").glob("*.resume.pkl"):
        state.unlink()  # a checkpoint written by an older version
    said = []
    with pytest.warns(UserWarning, match="resume.pkl is missing"):
        result = train_agent(RunConfig(**TINY_RUN, timesteps=96), save=save, resume=True, say=said.append)
    assert result.timesteps == 96 and "with fresh episodes" in said[0]


def test_checkpoints_are_taken_at_rollout_boundaries_with_their_resume_state(tmp_path):
    train_agent(RunConfig(**{**TINY_RUN, "checkpoint_every": 40, "keep_checkpoints": 5}, timesteps=160),
                save=tmp_path / "run.zip")
    folder = tmp_path / "run_checkpoints"
    # rollouts of 2 envs x 16 steps: the first boundary at or after every 40 steps, and the end
    assert sorted(int(p.name.split("_")[1]) for p in folder.glob("model_*_steps.zip")) == [64, 96, 128, 160]
    assert sorted(p.name for p in folder.glob("*.resume.pkl")) == [
        f"model_{n}_steps.resume.pkl" for n in (128, 160, 64, 96)]


def test_periodic_evaluation_is_sb3s_eval_callback_with_its_keys_and_files(tmp_path):
    from stable_baselines3.common.logger import configure

    from agents.run_tracking import PeriodicEvaluation
    from agents.training import _make_env

    config = RunConfig(**TINY_RUN)
    model = build_model(config)
    model.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    callback = PeriodicEvaluation(_make_env(config, 99, 2), every=32, episodes=4, log_path=tmp_path / "eval",
                                  best_model_save_path=tmp_path / "eval")
    model.learn(64, callback=callback)
    header = (tmp_path / "log" / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"eval/mean_reward", "eval/mean_ep_length", "eval/success_rate"} <= set(header)
    assert (tmp_path / "eval" / "best_model.zip").is_file()
    with np.load(tmp_path / "eval" / "evaluations.npz") as saved:
        assert saved["timesteps"].tolist() == [step for step, _, _ in callback.history] == [32, 64]
        assert saved["results"].shape == (2, 4)
    with pytest.raises(ValueError, match="every"):
        PeriodicEvaluation(_make_env(config, 99, 2), every=0, episodes=4)


@pytest.mark.parametrize("tokens, expected", [
    (['{"length": 30, "stochasticity": 0.1}'], {"length": 30, "stochasticity": 0.1}),
    (["length:30", "stochasticity:0.1"], {"length": 30, "stochasticity": 0.1}),
    (["render_mode:None", "flag:True", "name:abc", "items:[1,2]"],
     {"render_mode": None, "flag": True, "name": "abc", "items": [1, 2]}),
    ([], {}),
])
def test_env_kwargs_take_json_or_rl_zoo_pairs(tokens, expected):
    from agents.cli import parse_kwargs

    assert parse_kwargs(tokens) == expected


@pytest.mark.parametrize("tokens, match", [(["length=30"], "'length=30'"), (["[1, 2]"], r"'\[1, 2\]'")])
def test_env_kwargs_that_are_neither_fail_naming_the_token(tokens, match):
    from agents.cli import parse_kwargs

    with pytest.raises(ValueError, match=match):
        parse_kwargs(tokens)


def test_train_help_documents_every_flag_with_its_default(capsys):
    from agents.commands import train

    with pytest.raises(SystemExit):
        train.main(["--help"])
    text = capsys.readouterr().out
    parser_flags = [line.split()[0] for line in text.splitlines() if line.startswith("  --")]
    assert "--eval-every" in parser_flags and "--no-tensorboard" in parser_flags
    assert "(default: 10000)" in text and "(default: runs)" in text
    import argparse

    from warm_rl.suite import command as supervised

    for parser in (train.build_parser(), supervised.build_parser()):
        flags = [action for action in parser._actions if action.option_strings]
        assert [action.option_strings for action in flags if not action.help] == [], parser.prog
        assert issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter)


def test_train_prints_a_table_and_writes_the_learning_curve(tmp_path, capsys):
    from agents.commands import train

    code = train.main([
        "--env-kwargs", "length:3", "--hidden-size", "8", "--n-envs", "2", "--warmup-env-steps", "32",
        "--warmup-kwargs", '{"updates": 3, "batch_size": 8, "max_horizon": 20}', "--vaa-horizon", "50",
        "--ppo-kwargs", '{"n_steps": 16, "batch_size": 32, "n_epochs": 1}', "--timesteps", "64",
        "--eval-every", "32", "--eval-episodes", "4", "--save", str(tmp_path / "run.zip"),
        "--tensorboard-log", str(tmp_path / "tb"), "--no-progress",
    ])
    out = capsys.readouterr().out
    assert code == 0
    assert "warm_rl/TMaze-v0 length=3" in out and "greedy success" in out and "VAA before -> after" in out
    assert (tmp_path / "run_curve.png").stat().st_size > 0
    assert list((tmp_path / "tb").glob("WarmRecurrentPPO_1/events.*"))
    record = json.loads((tmp_path / "run_run.json").read_text())
    assert [point[0] for point in record["history"]] == [32, 64]


def test_train_takes_t_max_for_a_chrono_backbone():
    from agents.commands import train

    config = train._run_config(train.parse_args(["--cell", "chrono", "--t-max", "30"]))
    assert config.policy_kwargs["cell_kwargs"] == {"t_max": 30.0}
    with pytest.raises(ValueError, match="--t-max T"):
        train._run_config(train.parse_args(["--cell", "chrono"]))

"""The sb3-contrib integration: policy, warm-up, WarmRecurrentPPO, WarmupCallback, save/load."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnvBox, IdentityEnvMultiDiscrete, SimpleMultiObsEnv
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import LinearSchedule

import envs  # noqa: F401
from agents import (
    MultiInputWarmPolicy,
    WarmRecurrentPolicy,
    WarmRecurrentPPO,
    WarmupCallback,
    split_trajectories,
)
from agents.warmup import collect_sequences
from warm_rl import CELL_NAMES, RecurrentNet

TINY_WARMUP = {"updates": 3, "batch_size": 8, "max_horizon": 20, "seed": 0}
TINY_PPO = {"n_steps": 16, "batch_size": 32, "n_epochs": 1, "seed": 0}


def tmaze_env(n_envs=2, length=4, seed=0):
    return make_vec_env(
        "warm_rl/TMaze-v0", n_envs=n_envs, seed=seed, env_kwargs={"length": length, "render_mode": None}
    )


def make_model(
    cell="gru", double=True, warmup=TINY_WARMUP, env=None, warmup_env_steps=64, policy_kwargs_extra=None, **kwargs
):
    policy_kwargs = {"cell": cell, "hidden_size": 8, "double": double, "warmup": warmup, **(policy_kwargs_extra or {})}
    if cell == "chrono":
        policy_kwargs["cell_kwargs"] = {"t_max": 10}
    return WarmRecurrentPPO(
        "MlpWarmPolicy", env or tmaze_env(), warmup_env_steps=warmup_env_steps, policy_kwargs=policy_kwargs,
        **{**TINY_PPO, "vaa_horizon": 50, **kwargs},
    )


@pytest.mark.parametrize("double", [False, True], ids=["single", "double"])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_trains_and_warms_up(cell, double):
    model = make_model(cell, double)
    assert isinstance(model.policy.lstm_actor, RecurrentNet)
    assert isinstance(model.policy.lstm_critic, RecurrentNet)
    assert model.policy.lstm_actor.cell == cell
    model.learn(64)
    assert bool(model.policy.warmed_up)
    report = model.warmup_result["actor"]
    assert report.updates == TINY_WARMUP["updates"] * (1 + report.restarts)


def test_optimizer_holds_the_new_backbones():
    model = make_model()
    optimized = {id(p) for group in model.policy.optimizer.param_groups for p in group["params"]}
    assert all(id(p) in optimized for p in model.policy.lstm_actor.parameters())
    assert optimized == {id(p) for p in model.policy.parameters()}


def test_process_sequence_equals_per_step_reference():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 3, 6, num_layers=2, double=True)
    n_seq, steps = 4, 7
    features = torch.randn(n_seq * steps, 3)
    starts = (torch.rand(n_seq * steps) < 0.3).float()
    state = (torch.randn(2, n_seq, 6), torch.randn(2, n_seq, 6))
    policy = make_model(policy_kwargs_extra={"feature_skip": False}).policy
    out, (h, _) = policy._process_sequence(features, state, starts, net)
    seq = features.reshape(n_seq, steps, 3).transpose(0, 1)
    resets = starts.reshape(n_seq, steps).transpose(0, 1)
    ref, ref_state = [], state
    for t in range(steps):
        keep = (1.0 - resets[t]).view(1, n_seq, 1)
        step_out, ref_state = net(seq[t : t + 1], (ref_state[0] * keep, ref_state[1] * keep))
        ref.append(step_out)
    ref_out = torch.cat(ref).transpose(0, 1).reshape(-1, 6)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_state[0])


@pytest.mark.parametrize("critic", ["own", "none", "shared"])
def test_feature_skip_gives_the_heads_the_features_too(tmp_path, critic):
    critic_kwargs = {
        "own": {},
        "none": {"enable_critic_lstm": False},
        "shared": {"enable_critic_lstm": False, "shared_lstm": True},
    }[critic]
    model = make_model(policy_kwargs_extra={"feature_skip": True, **critic_kwargs})
    policy = model.policy
    features_dim, hidden = policy.features_dim, policy.lstm_output_dim
    assert policy.mlp_extractor.policy_net[0].in_features == hidden + features_dim
    assert policy.mlp_extractor.value_net[0].in_features == hidden + features_dim
    features = torch.randn(2 * 3, features_dim)
    state = policy.lstm_actor.zero_state(2)
    out, _ = policy._process_sequence(features, state, torch.zeros(6), policy.lstm_actor)
    assert out.shape == (6, hidden + features_dim)
    torch.testing.assert_close(out[:, hidden:], features)
    model.learn(64)
    model.save(tmp_path / "skip.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "skip.zip")
    assert loaded.policy.feature_skip
    obs = tmaze_env(seed=5).reset()
    starts = np.ones(2, dtype=bool)
    expected, _ = model.predict(obs, None, starts, deterministic=True)
    np.testing.assert_array_equal(loaded.predict(obs, None, starts, deterministic=True)[0], expected)


def test_feature_skip_defaults_and_old_models_keep_their_layout(tmp_path):
    assert make_model().policy.feature_skip  # WarmRecurrentPPO's defaults
    assert not make_model().normalize_advantage
    assert make_model(normalize_advantage=True).normalize_advantage
    plain = RecurrentPPO(WarmRecurrentPolicy, tmaze_env(), policy_kwargs={"hidden_size": 8, "warmup": None})
    assert plain.policy.feature_skip  # one default: the policy class's is WarmRecurrentPPO's
    stock_layout = make_model(policy_kwargs_extra={"feature_skip": False})
    stock_layout.save(tmp_path / "stock.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "stock.zip")
    assert not loaded.policy.feature_skip
    assert loaded.policy.mlp_extractor.policy_net[0].in_features == loaded.policy.lstm_output_dim


def test_warm_up_happens_once_and_never_after_load(tmp_path, monkeypatch):
    import agents.warmup as ppo_module

    calls = []
    original = ppo_module.warm_up_model
    monkeypatch.setattr(ppo_module, "warm_up_model", lambda m, n, s: calls.append(n) or original(m, n, s))
    model = make_model()
    model.learn(32)
    model.learn(32, reset_num_timesteps=False)
    assert calls == [64]
    model.save(tmp_path / "model.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "model.zip", env=tmaze_env())
    loaded.learn(32)
    assert calls == [64]
    assert bool(loaded.policy.warmed_up)


def test_double_warm_up_leaves_cold_halves_and_heads_identical():
    model = make_model(double=True)
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.policy.warm_up(collect_sequences(model, 64))
    changed = {k for k, v in model.policy.state_dict().items() if not torch.equal(v, before[k])}
    assert changed, "warm-up changed nothing"
    assert all(".warm." in k or k == "warmed_up" for k in changed), sorted(changed)


def test_save_load_round_trip_gives_identical_actions(tmp_path, assert_same_greedy_actions):
    model = make_model(cell="mgu")
    model.learn(64)
    model.save(tmp_path / "m.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "m.zip")
    assert_same_greedy_actions(model, loaded, tmaze_env(seed=3), compare_states=True)


@pytest.mark.parametrize(
    "env_factory,policy",
    [
        (lambda: IdentityEnvBox(ep_length=6), "MlpWarmPolicy"),
        (lambda: IdentityEnvMultiDiscrete(dim=3, ep_length=6), "MlpWarmPolicy"),
        (lambda: SimpleMultiObsEnv(random_start=True), "MultiInputWarmPolicy"),
    ],
    ids=["box-actions", "multidiscrete", "dict-obs"],
)
def test_action_and_observation_spaces(env_factory, policy):
    env = make_vec_env(env_factory, n_envs=2, seed=0)
    model = WarmRecurrentPPO(
        policy, env, warmup_env_steps=32, vaa_horizon=50, policy_kwargs={"hidden_size": 8, "warmup": TINY_WARMUP},
        **TINY_PPO,
    )
    model.learn(32)
    assert bool(model.policy.warmed_up)
    if policy == "MultiInputWarmPolicy":
        assert isinstance(model.policy, MultiInputWarmPolicy)


def test_warmup_callback_with_plain_recurrent_ppo():
    model = RecurrentPPO(
        WarmRecurrentPolicy, tmaze_env(), policy_kwargs={"hidden_size": 8, "warmup": TINY_WARMUP}, **TINY_PPO
    )
    callback = WarmupCallback(warmup_env_steps=32, vaa_every=1, vaa_horizon=20)
    model.learn(64, callback=callback)
    assert bool(model.policy.warmed_up)
    assert 0 < callback.result["vaa_after"] <= 1


def test_warmup_none_disables_and_plain_rpo_needs_warm_policy():
    model = make_model(warmup=None)
    model.learn(32)
    assert not bool(model.policy.warmed_up) and model.warmup_result is None
    stock = RecurrentPPO("MlpLstmPolicy", tmaze_env(), **TINY_PPO)
    with pytest.raises(TypeError, match="WarmRecurrentPolicy"):
        collect_sequences(stock, 8)


def test_logs_warmup_and_train_vaa(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = make_model(vaa_every=1, vaa_horizon=20, verbose=1, tensorboard_log=str(tmp_path / "tb"))
    model.set_logger(configure(str(tmp_path / "log"), ["stdout", "csv", "tensorboard"]))
    model.learn(64)
    out = capsys.readouterr().out
    assert out.count("| warmup/") == 1, "one warm-up summary, with the first training dump"
    with (tmp_path / "log" / "progress.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["time/total_timesteps"] for row in rows), "every CSV row is a training row"
    for key in ("warmup/seconds", "warmup/restarts", "warmup/vaa_before", "warmup/vaa_after", "warmup/env_steps",
                "train/vaa"):
        assert key in rows[0], key
    assert not [key for key in rows[0] if key.startswith("warmup/loss")], "per-step curves stay out of the CSV"
    events = EventAccumulator(str(tmp_path / "log"))
    events.Reload()
    losses = events.Scalars("warmup/loss_actor")
    assert [e.step for e in losses] == list(range(TINY_WARMUP["updates"] * (1 + model.warmup_result["actor"].restarts)))
    assert "warmup/vaa_star_critic_0" in events.Tags()["scalars"]


def test_tensorboard_runs_are_named_after_the_algorithm(tmp_path):
    model = make_model(tensorboard_log=str(tmp_path))
    model.learn(32)
    assert [p.name for p in tmp_path.iterdir()] == ["WarmRecurrentPPO_1"]


def test_entropy_schedule_is_followed_logged_and_saved(tmp_path):
    model = make_model(warmup=None, ent_coef=LinearSchedule(0.01, 0.0, 1.0))
    assert model.ent_coef == pytest.approx(0.01)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(128)  # 4 rollouts of 32 steps: updates at progress 0.75, 0.5, 0.25, 0
    with (tmp_path / "progress.csv").open() as handle:
        logged = [float(r["train/ent_coef"]) for r in csv.DictReader(handle) if r.get("train/ent_coef")]
    assert logged == pytest.approx([0.0075, 0.005, 0.0025])  # SB3 dumps before each update: the last is not
    assert model.ent_coef == 0.0
    model.save(tmp_path / "model.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "model.zip")
    assert loaded.ent_coef_schedule(0.5) == pytest.approx(0.005)
    with pytest.raises(TypeError, match="ent_coef must be a float or a schedule, got 'auto'"):
        make_model(warmup=None, ent_coef="auto")


def test_split_trajectories_respects_episode_boundaries():
    obs = np.arange(12, dtype=np.float32).reshape(6, 2, 1)
    starts = np.zeros((6, 2), dtype=bool)
    starts[2, 0] = starts[5, 0] = starts[3, 1] = True
    pieces = split_trajectories(obs, starts)
    assert [p[:, 0].tolist() for p in pieces] == [[0, 2], [4, 6, 8], [10], [1, 3, 5], [7, 9, 11]]


def test_bad_policy_arguments():
    with pytest.raises(ValueError, match="unknown cell 'lstmx'"):
        make_model(cell="lstmx")
    with pytest.raises(TypeError, match="lstm_hidden_size is an LSTM setting"):
        WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), policy_kwargs={"lstm_hidden_size": 8})
    with pytest.raises(ValueError, match="even hidden_size"):
        WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), policy_kwargs={"hidden_size": 7})
    with pytest.raises(ValueError, match="warmup_env_steps must be >= 1, got 0"):
        make_model(warmup_env_steps=0)


def test_train_script_smoke_and_resume(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    save = tmp_path / "run.zip"
    common = [sys.executable, str(script), "--timesteps", "256", "--n-envs", "2", "--warmup-env-steps", "32",
              "--eval-episodes", "4", "--env-kwargs", '{"length": 3}', "--no-progress", "--save", str(save),
              "--checkpoint-every", "64", "--ppo-kwargs", '{"n_steps": 32, "batch_size": 64}',
              "--warmup-kwargs", '{"updates": 5, "max_horizon": 20}', "--vaa-horizon", "50",
              "--no-tensorboard"]
    first = subprocess.run(common, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "greedy success" in first.stdout and "VAA before -> after" in first.stdout
    assert save.exists() and list((tmp_path / "run_checkpoints").glob("model_*_steps.zip"))
    more = [*common, "--resume"]
    more[more.index("256")] = "384"
    second = subprocess.run(more, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert " 384 │" in second.stdout and "resuming from" in second.stderr


def test_previous_action_reward_wrapper():
    import gymnasium as gym

    from agents import PreviousActionReward

    env = PreviousActionReward(gym.make("warm_rl/TMaze-v0", length=3))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4 + 4 + 1,) and obs[4:].sum() == 0
    obs, reward, *_ = env.step(2)  # left at x = 0: bump
    assert obs[4 + 2] == 1.0 and obs[-1] == pytest.approx(reward) == pytest.approx(-0.1)
    assert env.observation_space.contains(obs)
    with pytest.raises(TypeError, match="1-D Box observation space"):
        PreviousActionReward(SimpleMultiObsEnv())


def test_tmaze_probe_script_on_fresh_and_saved_agents(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "tmaze_probe.py"
    fresh = subprocess.run(
        [sys.executable, str(script), "--length", "30", "--seeds", "0", "--no-warmup"],
        capture_output=True, text=True, timeout=300,
    )
    assert fresh.returncode == 0, fresh.stderr
    header, _, row = fresh.stdout.strip().splitlines()
    assert "dist t=0" in header and "dist t=30" in header
    distances = [float(cell) for cell in row.split("|")[3:8]]
    # a cold (monostable) network forgets the cue on the way to the junction
    assert distances[0] > 0.1 and distances[-1] < 1e-3 * distances[0]
    model = make_model()
    model.learn(32)
    model.save(tmp_path / "agent.zip")
    saved = subprocess.run(
        [sys.executable, str(script), "--length", "5", "--model", str(tmp_path / "agent.zip")],
        capture_output=True, text=True, timeout=300,
    )
    assert saved.returncode == 0, saved.stderr
    p_up = saved.stdout.strip().splitlines()[-1].split("|")[-2]
    assert all(0.0 <= float(p) <= 1.0 for p in p_up.split("/"))


def test_tmaze_probe_walk_probabilities_and_sampled_reach():
    from agents import probe

    model = make_model()
    probs = probe.walk_probabilities(model, 6)
    assert probs.shape == (7, 4)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    torch.manual_seed(0)  # actions are sampled from torch's global generator
    fraction, furthest = probe.sampled_reach(model, 2, episodes=6, seed=0)
    assert furthest.shape == (6,) and furthest.min() >= 0 and furthest.max() <= 2
    assert 0.0 <= fraction <= float((furthest == 2).mean())
    torch.manual_seed(0)
    again, furthest_again = probe.sampled_reach(model, 2, episodes=6, seed=0)
    assert again == fraction and np.array_equal(furthest_again, furthest)


def test_renamed_arguments_name_their_new_names():
    from agents.training import RunConfig

    with pytest.raises(TypeError, match="'vaa_steps', which was renamed: use 'vaa_horizon'"):
        make_model(warmup=None, vaa_steps=10)
    with pytest.raises(TypeError, match="'vaa_steps', which was renamed: use 'vaa_horizon'"):
        WarmupCallback(vaa_steps=10)
    with pytest.raises(TypeError, match="'n_layers', which was renamed: use 'num_layers'"):
        make_model(warmup=None, policy_kwargs_extra={"n_layers": 2})
    with pytest.raises(TypeError, match="'n_layers', which was renamed: use 'num_layers'"):
        RunConfig(n_layers=2)
    with pytest.raises(TypeError, match="'vaa_steps', which was renamed: use 'vaa_horizon'"):
        RunConfig(vaa_steps=10)


def test_callback_and_algorithm_share_one_warmup_path():
    from agents.defaults import DEFAULT_VAA_EVERY

    assert WarmupCallback().vaa_every == make_model(warmup=None).vaa_every == DEFAULT_VAA_EVERY
    model = RecurrentPPO(
        WarmRecurrentPolicy, tmaze_env(), policy_kwargs={"hidden_size": 8, "warmup": TINY_WARMUP}, **TINY_PPO
    )
    callback = WarmupCallback(warmup_env_steps=32, vaa_horizon=20)
    model.learn(32, callback=callback)
    assert model.warmup_result is callback.result  # RecordWarmup reads model.warmup_result either way
    assert set(model.warmup_result) == {"actor", "critic", "vaa_before", "vaa_after", "seconds", "lsc"}


def test_models_saved_with_old_argument_names_load(tmp_path):
    model = make_model(warmup=None)
    model.save(tmp_path / "agent.zip")
    from stable_baselines3.common.save_util import load_from_zip_file, save_to_zip_file

    data, params, variables = load_from_zip_file(tmp_path / "agent.zip")
    data["policy_kwargs"]["n_layers"] = data["policy_kwargs"].pop("num_layers", 1)
    data["vaa_steps"] = data.pop("vaa_horizon")
    save_to_zip_file(tmp_path / "old.zip", data=data, params=params, pytorch_variables=variables)
    loaded = WarmRecurrentPPO.load(tmp_path / "old.zip")
    assert loaded.policy.lstm_actor.num_layers == 1 and loaded.vaa_horizon == 50


TINY_LSC = {"max_steps": 6, "batch_size": 8, "seed": 0}


@pytest.mark.parametrize("pretrain", ["lsc", "warmup+lsc"])
def test_lsc_pretraining_trains_logs_and_round_trips(tmp_path, pretrain):
    model = make_model(policy_kwargs_extra={"pretrain": pretrain, "lsc": TINY_LSC}, vaa_horizon=20)
    model.set_logger(configure(str(tmp_path), ["csv", "tensorboard"]))
    model.learn(64)  # two rollouts of 2 envs x 16 steps after pre-training
    assert model.num_timesteps == 64 and bool(model.policy.warmed_up)
    reports = model.warmup_result["lsc"]
    assert set(reports) == {"actor", "critic"}
    assert reports["actor"].steps == TINY_LSC["max_steps"]
    assert reports["actor"].halves == ("cold" if pretrain == "warmup+lsc" else "both")
    assert ("actor" in model.warmup_result) == (pretrain == "warmup+lsc")  # warm-up reports by backbone
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.step for e in events.Scalars("warmup/lsc_loss_actor")] == list(range(TINY_LSC["max_steps"]))
    assert len(events.Scalars("warmup/lsc_radius_critic_recurrent_0")) == TINY_LSC["max_steps"]
    with (tmp_path / "progress.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["warmup/lsc_steps"] == str(TINY_LSC["max_steps"]) and rows[0]["time/total_timesteps"]
    model.save(tmp_path / "agent.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "agent.zip", env=tmaze_env())
    assert loaded.policy.pretrain == pretrain
    assert loaded.policy.lsc_config == model.policy.lsc_config
    calls = []
    loaded.policy.lsc_features = lambda *a, **k: calls.append(a)
    loaded.learn(32)
    assert calls == [], "a loaded, pre-trained policy is never pre-trained again"


def test_warmup_plus_lsc_keeps_the_warm_halves_of_the_warm_up():
    model = make_model(policy_kwargs_extra={"pretrain": "warmup+lsc", "lsc": TINY_LSC})
    seen = {}
    warm_up_features = model.policy.warm_up_features

    def record(*args, **kwargs):
        reports = warm_up_features(*args, **kwargs)
        seen.update({n: p.detach().clone() for n, p in model.policy.lstm_actor.named_parameters()})
        return reports

    model.policy.warm_up_features = record
    model.learn(0)  # pre-training only
    after = dict(model.policy.lstm_actor.named_parameters())
    warm = [n for n in seen if ".warm." in n]
    cold = [n for n in seen if ".cold." in n]
    assert warm and cold
    assert all(torch.equal(seen[n], after[n]) for n in warm)
    assert any(not torch.equal(seen[n], after[n]) for n in cold)


def test_pretrain_choices_are_checked():
    with pytest.raises(ValueError, match="'hot'"):
        make_model(policy_kwargs_extra={"pretrain": "hot"})
    with pytest.raises(TypeError, match="pretrain must be a str or None"):
        make_model(policy_kwargs_extra={"pretrain": True})
    with pytest.raises(ValueError, match="warmup=None"):
        make_model(warmup=None, policy_kwargs_extra={"pretrain": "warmup+lsc"})
    with pytest.raises(ValueError, match="halves='cold' needs double=True"):
        make_model(double=False, policy_kwargs_extra={"pretrain": "lsc", "lsc": {"halves": "cold"}})
    with pytest.raises(ValueError, match="target"):
        make_model(policy_kwargs_extra={"pretrain": "lsc", "lsc": {"target": 0.0}})
    assert make_model(warmup=None).policy.pretrain is None  # warmup=None still turns warm-up off
    from agents.defaults import DEFAULT_PRETRAIN
    assert make_model().policy.pretrain == DEFAULT_PRETRAIN == "warmup+lsc"  # the "default" word
    assert make_model(warmup=None, policy_kwargs_extra={"pretrain": "lsc"}).policy.pretrain == "lsc"


def test_run_config_and_train_script_take_pretrain(tmp_path):
    import subprocess
    import sys

    from agents.training import RunConfig, build_model

    with pytest.raises(TypeError, match="'warmup', which was renamed: use 'pretrain'"):
        RunConfig(warmup=True)
    with pytest.raises(ValueError, match="'lcs'"):
        RunConfig(pretrain="lcs")
    model = build_model(RunConfig(pretrain="lsc", lsc_kwargs={"target": 0.5}, n_envs=2, device="cpu"))
    assert model.policy.pretrain == "lsc" and model.policy.lsc_config.target == 0.5
    script = str(Path(__file__).resolve().parents[1] / "scripts" / "train.py")
    for flag, message in (("--no-warmup", "--pretrain none"), ("--pretrain=lcs", "unknown pre-training 'lcs'")):
        done = subprocess.run([sys.executable, script, flag], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_the_class_defaults_are_the_default_run():
    from agents.training import RunConfig, build_model

    config = RunConfig(n_envs=2, device="cpu")
    scripted = build_model(config)
    plain = WarmRecurrentPPO("MlpWarmPolicy", scripted.get_env(), seed=config.seed, device="cpu")
    for name in ("n_steps", "batch_size", "n_epochs", "gamma", "ent_coef", "normalize_advantage", "gae_lambda",
                 "clip_range", "max_grad_norm", "warmup_env_steps", "vaa_every", "vaa_horizon"):
        got, expected = getattr(plain, name), getattr(scripted, name)
        if callable(expected):
            got, expected = got(0.5), expected(0.5)
        assert got == expected, name
    for progress in (1.0, 0.5, 0.0):  # decayed linearly to 0 over the learn call
        assert plain.lr_schedule(progress) == scripted.lr_schedule(progress) == pytest.approx(3e-4 * progress)
    assert plain.policy._get_constructor_parameters() == scripted.policy._get_constructor_parameters()
    for a, b in zip(plain.policy.state_dict().values(), scripted.policy.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    constant = build_model(RunConfig(n_envs=2, device="cpu", lr_schedule="constant"))
    assert constant.lr_schedule(0.0) == constant.lr_schedule(1.0) == 3e-4


def test_run_config_builds_and_resumes_the_stock_baseline(tmp_path):
    from agents.training import RunConfig, build_model, train_agent

    with pytest.raises(ValueError, match="'PPO'"):
        RunConfig(algorithm="PPO")
    config = RunConfig(algorithm="RecurrentPPO", n_envs=2, device="cpu", timesteps=256, eval_episodes=2,
                       env_kwargs={"length": 3}, policy_kwargs={"lstm_hidden_size": 16},
                       ppo_kwargs={"n_steps": 32, "batch_size": 64}, checkpoint_every=128, stats_every=0)
    stock = build_model(config)
    assert type(stock) is RecurrentPPO and stock.policy.lstm_actor.hidden_size == 16
    first = train_agent(config, save=tmp_path / "stock.zip")
    assert first.timesteps == 256 and first.vaa_after is None
    resumed = train_agent(RunConfig(**{**vars(config), "timesteps": 320}), save=tmp_path / "stock.zip", resume=True)
    assert resumed.timesteps >= 320


def test_warm_up_is_never_skipped_silently(tmp_path):
    stock = RecurrentPPO("MlpLstmPolicy", tmaze_env(), **TINY_PPO)
    with pytest.raises(TypeError, match="MlpLstmPolicy|RecurrentActorCriticPolicy"):
        stock.learn(32, callback=WarmupCallback(warmup_env_steps=32))
    stock.save(tmp_path / "stock.zip")
    with pytest.raises(TypeError, match="RecurrentActorCriticPolicy.*sb3_contrib.RecurrentPPO"):
        WarmRecurrentPPO.load(tmp_path / "stock.zip")
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

    with pytest.raises(TypeError, match="needs a WarmRecurrentPolicy"):
        WarmRecurrentPPO(RecurrentActorCriticPolicy, tmaze_env(), **TINY_PPO)


@pytest.mark.parametrize("command", ["warm-rl-train", "warm-rl-benchmark", "warm-rl-supervised"])
def test_installed_console_scripts_run(command):
    import shutil
    import subprocess
    import sys

    program = Path(sys.executable).parent / command
    program = str(program) if program.exists() else shutil.which(command)
    assert program, f"{command} is not installed: pip install -e . declares it ([project.scripts])"
    done = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and f"usage: {command}" in done.stdout, done.stderr


def test_check_install_finds_warm_rls_packages_and_flags_a_foreign_one(monkeypatch):
    import importlib.metadata

    import warm_rl
    from warm_rl.install_check import report

    origins = warm_rl.check_install()
    assert [o.name for o in origins] == ["warm_rl", "envs", "agents"] and all(o.ours for o in origins)
    assert "envs     " in report(origins) and "NOT" not in report(origins)
    real = importlib.metadata.packages_distributions()
    monkeypatch.setattr(importlib.metadata, "packages_distributions", lambda: {**real, "envs": ["envs", "warm-rl"]})
    foreign = {o.name: o for o in warm_rl.check_install()}
    assert not foreign["envs"].ours and foreign["agents"].ours
    assert "NOT warm-rl's" in report(list(foreign.values()))


def test_python_m_warm_rl_reports_the_install():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "warm_rl"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "agents" in done.stdout and "ok" in done.stdout, done.stderr
    assert "torch" not in done.stderr


def test_rl_zoo3_trains_warm_ppo_with_warm_rls_hyperparameters(tmp_path):
    import subprocess
    import sys

    pytest.importorskip("rl_zoo3")
    from agents.zoo import HYPERPARAMS, zoo_argv

    assert zoo_argv(["--algo", "warm_ppo"])[-2:] == ["--conf-file", str(HYPERPARAMS)]
    assert "--conf-file" not in zoo_argv(["--algo", "ppo_lstm"])
    command = [sys.executable, "-m", "agents.zoo", "train", "--algo", "warm_ppo", "--env", "warm_rl/TMaze-v0",
               "-n", "128", "--eval-freq", "-1", "--log-folder", str(tmp_path), "--seed", "0",
               "--hyperparams", "n_envs:2", "n_steps:32", "batch_size:64", "warmup_env_steps:64",
               "policy_kwargs:dict(hidden_size=8, warmup=dict(updates=3, max_horizon=20))", "--env-kwargs", "length:3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    saved = tmp_path / "warm_ppo" / "warm_rl-TMaze-v0_1" / "warm_rl-TMaze-v0.zip"
    from agents import WarmRecurrentPPO

    model = WarmRecurrentPPO.load(saved)
    assert model.policy.warmed_up and model.num_timesteps >= 128


def test_the_zoo_hyperparameters_that_spell_out_the_defaults_are_the_defaults():
    yaml = pytest.importorskip("yaml")
    from agents.defaults import DEFAULT_ENT_COEF, DEFAULT_NORMALIZE_ADVANTAGE, DEFAULT_PPO_KWARGS, DEFAULT_PRETRAIN
    from agents.suite import SUITE_TASKS
    from agents.zoo import HYPERPARAMS

    entries = yaml.safe_load(HYPERPARAMS.read_text())
    spelled = {name: entry for name, entry in entries.items() if "n_epochs" in entry}
    assert {"default", "warm_rl/TMaze-v0"} <= set(spelled)
    for name, entry in spelled.items():
        for key in ("n_steps", "batch_size", "n_epochs", "target_kl"):
            assert entry[key] == DEFAULT_PPO_KWARGS[key], (name, key)
        assert float(entry["learning_rate"].removeprefix("lin_")) == DEFAULT_PPO_KWARGS["learning_rate"], name
        assert entry["ent_coef"] == DEFAULT_ENT_COEF and entry["normalize_advantage"] == DEFAULT_NORMALIZE_ADVANTAGE
        assert f"pretrain='{DEFAULT_PRETRAIN}'" in entry["policy_kwargs"], name
    for task in SUITE_TASKS:
        if task.env != "warm_rl/TMaze-v0":  # the zoo has the T-maze at L=10 and an L=50 id
            assert entries[task.env].get("env_kwargs", {}) == task.env_kwargs, task.name


def test_dependency_floors_are_the_versions_ci_tests():
    import re

    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pinned = {}
    for line in (root / "ci" / "min-versions.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.strip().lower().replace("_", "-")] = version.strip()
    floors = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["zoo"]]:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement.split(";")[0].strip()).groups()
        floors[name.lower()] = version
    assert set(floors) == set(pinned), "every dependency has its minimum pinned in ci/min-versions.txt"
    for name, floor in floors.items():
        tested = pinned[name].split(".")[: len(floor.split("."))]
        assert tested == floor.split("."), f"{name}: floor {floor} but CI tests {pinned[name]}"


@pytest.mark.parametrize("policy_kwargs, error, match", [
    ({"hidden_size": 0}, ValueError, "hidden_size must be >= 1, got 0"),
    ({"hidden_size": 8.0}, TypeError, "hidden_size must be an int, got float 8.0"),
    ({"num_layers": 0}, ValueError, "num_layers must be >= 1, got 0"),
    ({"double": "no"}, TypeError, "double must be a bool, got str 'no'"),
    ({"feature_skip": 1}, TypeError, "feature_skip must be a bool"),
    ({"cell_kwargs": [1]}, TypeError, r"cell_kwargs must be a dict or None, got list \[1\]"),
])
def test_bad_policy_kwargs_get_warm_rls_message(policy_kwargs, error, match):
    with pytest.raises(error, match=match):
        WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), policy_kwargs=policy_kwargs, **TINY_PPO)


def test_asking_for_cuda_without_it_warns_on_build_and_load(tmp_path, monkeypatch):
    import warnings

    import torch

    from agents.ppo import warn_if_no_cuda

    model = WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), **TINY_PPO)
    model.save(tmp_path / "model.zip")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_no_cuda("cpu")  # never a warning for the CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without CUDA, here or on a GPU
    with pytest.warns(UserWarning, match="device='cuda:0' but CUDA is not available"):
        warn_if_no_cuda("cuda:0")
    with pytest.warns(UserWarning, match="device='cuda' but CUDA is not available"):
        WarmRecurrentPPO.load(tmp_path / "model.zip", device="cuda")


def test_vaa_regulariser_steps_after_due_updates_logs_and_survives_save_load(tmp_path):
    from stable_baselines3.common.logger import configure

    model = WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), warmup_env_steps=32, vaa_horizon=20,
                             vaa_reg={"weight": 1.0, "every": 2, "horizon": 10},
                             policy_kwargs={"hidden_size": 8, "warmup": {"updates": 3, "max_horizon": 20}}, **TINY_PPO)
    model.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    model.learn(96)  # three rollouts of 2 x 16 steps: the regulariser steps after updates 0 and 2
    rows = (tmp_path / "log" / "progress.csv").read_text().splitlines()
    header = rows[0].split(",")
    column = header.index("train/vaa_reg_loss")
    filled = [row.split(",")[column] != "" for row in rows[1:]]
    # SB3 dumps an update's train/ keys with the next iteration's row: rows 2 and 4 (the last never dumped)
    assert filled == [False, True, False]
    assert model._train_calls == 3
    model.save(tmp_path / "model.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "model.zip", env=tmaze_env())
    assert loaded.vaa_reg == model.vaa_reg and loaded._regularizer().every == 2
    with pytest.raises(ValueError, match="every must be >= 1, got 0"):
        WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), vaa_reg={"weight": 1.0, "every": 0}, **TINY_PPO)


def test_the_vaa_regulariser_moves_only_the_warm_halves(tmp_path):
    import torch
    from stable_baselines3.common.logger import configure

    from agents.vaa_regularization import regularizer_step
    from agents.warmup import split_trajectories
    from warm_rl import VAARegularizer

    model = WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), policy_kwargs={"hidden_size": 8, "pretrain": None},
                             **TINY_PPO)
    model.set_logger(configure(None, []))
    observations = np.random.default_rng(0).random((16, 2, 4)).astype(np.float32)
    starts = np.zeros((16, 2), dtype=np.float32)
    starts[0] = 1
    before = {name: p.detach().clone() for name, p in model.policy.named_parameters()}
    stats = regularizer_step(model, VAARegularizer(weight=1.0, horizon=5, seed=0),
                             split_trajectories(observations, starts), update=0)
    assert set(stats) == {"vaa_reg_loss", "vaa_reg_vaa_star", "vaa_reg_stepped", "vaa_reg_seconds"}
    assert stats["vaa_reg_stepped"] == 1.0
    moved = {name for name, p in model.policy.named_parameters() if not torch.equal(p, before[name])}
    assert moved and all(".warm." in name for name in moved), moved
    assert any(name.startswith("lstm_critic") for name in moved), "the critic's backbone is regularised too"


def test_an_idle_floor_regulariser_leaves_training_exactly_as_without_it():
    import torch

    def trained(vaa_reg):
        model = WarmRecurrentPPO("MlpWarmPolicy", tmaze_env(), warmup_env_steps=32, vaa_horizon=20,
                                 vaa_reg=vaa_reg,
                                 policy_kwargs={"hidden_size": 8, "warmup": {"updates": 3, "max_horizon": 20}},
                                 **TINY_PPO)
        model.learn(160)  # five rollouts: the regulariser's draws would shift the later rollouts' sampling
        return model.policy.state_dict()

    # target 1e-6: no layer's VAA* is below it, so the floor never acts
    idle = trained({"weight": 1.0, "every": 1, "horizon": 10, "floor": True, "target": 1e-6})
    plain = trained(None)
    assert all(torch.equal(idle[name], plain[name]) for name in plain)
    pulling = trained({"weight": 1.0, "every": 1, "horizon": 10, "floor": True, "target": 1.0})
    assert not all(torch.equal(pulling[name], plain[name]) for name in plain), "a floor above VAA* acts"


def test_kl_early_stops_counts_the_update_phases_target_kl_cut_short(tmp_path):
    strict = make_model(warmup=None, target_kl=1e-12, n_epochs=3, learning_rate=3e-4)  # constant: every update moves
    strict.learn(96)  # three rollouts of one minibatch; after the first epoch's step the KL passes 1.5e-12
    assert strict._train_calls == 3 and strict.kl_early_stops == 3
    strict.save(tmp_path / "strict.zip")
    assert WarmRecurrentPPO.load(tmp_path / "strict.zip").kl_early_stops == 3
    assert make_model(warmup=None).target_kl == 0.02  # the default
    free = make_model(warmup=None, target_kl=None)
    free.learn(64)
    assert free.kl_early_stops == 0

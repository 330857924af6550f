"""Half ablation: holding a half of the actor's double layer at a value, and the three evaluations."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from script_loader import load_script
from stable_baselines3.common.env_util import make_vec_env

import envs  # noqa: F401
from agents import WarmRecurrentPPO
from agents.half_ablation import ablate_halves, half_slice, held_half, recorded_outputs


def half_ablation_main(argv):
    return load_script("half_ablation").main(argv)


def _model(double=True, lstm=False):
    env = make_vec_env("warm_rl/RepeatPrevious-v0", n_envs=2, seed=0, env_kwargs={"k": 1, "length": 6})
    return WarmRecurrentPPO(
        "MlpWarmPolicy", env, n_steps=16, batch_size=32, n_epochs=1, seed=0, warmup_env_steps=32, vaa_horizon=20,
        policy_kwargs={"cell": "lstm" if lstm else "gru", "hidden_size": 8, "double": double,
                       "warmup": {"updates": 2, "batch_size": 4, "max_horizon": 10, "seed": 0}},
    ), env


@pytest.mark.parametrize("lstm", [False, True], ids=["gru", "lstm"])
def test_held_half_sets_only_that_halfs_outputs_and_leaves_the_state_running(lstm):
    model, _ = _model(lstm=lstm)
    net = model.policy.lstm_actor
    sequence = th.randn(5, 3, net.input_size, generator=th.Generator().manual_seed(0))
    with th.no_grad():
        free, free_state = net(sequence)
        with held_half(model.policy, "warm", th.full((4,), 0.5)):
            held, held_state = net(sequence)
    assert half_slice(model.policy, "warm") == slice(0, 4) and half_slice(model.policy, "cold") == slice(4, 8)
    assert th.all(held[..., :4] == 0.5) and th.equal(held[..., 4:], free[..., 4:])
    assert all(th.equal(a, b) for a, b in zip(free_state, held_state, strict=True))
    with th.no_grad():
        assert th.equal(net(sequence)[0], free)  # the hook is gone after the block


def test_recorded_outputs_keeps_every_forward_flattened():
    model, _ = _model()
    net = model.policy.lstm_actor
    with recorded_outputs(model.policy) as outputs, th.no_grad():
        net(th.zeros(5, 3, net.input_size))
        net(th.zeros(2, 1, net.input_size))
    assert [tuple(o.shape) for o in outputs] == [(15, 8), (2, 8)]


def test_ablate_halves_evaluates_three_ways_and_measures_vaa():
    model, env = _model()
    model.learn(32)
    result = ablate_halves(model, env, episodes=4, vaa_episodes=3, vaa_horizon=20)
    for value in (result.intact, result.warm_held, result.cold_held):
        assert -5.0 <= value <= 5.0  # returns of a length-6, k=1 episode: 5 scored steps
    assert 1 / 3 <= result.vaa <= 1.0 and result.warm_std >= 0 and result.cold_std >= 0


def test_half_ablation_refuses_bad_input():
    single, _ = _model(double=False)
    with pytest.raises(ValueError, match="DoubleLayer"):
        half_slice(single.policy, "warm")
    model, _ = _model()
    with pytest.raises(ValueError, match="'hot'"):
        half_slice(model.policy, "hot")
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        with held_half(model.policy, "cold", th.zeros(3)):
            pass


def test_half_ablation_script_prints_a_row_per_model(tmp_path, capsys):
    model, _ = _model()
    model.learn(32)
    model.save(tmp_path / "agent.zip")
    assert half_ablation_main([str(tmp_path / "agent.zip"), "--env", "warm_rl/RepeatPrevious-v0", "--env-kwargs",
                               '{"k": 1, "length": 6}', "--episodes", "2", "--vaa-episodes", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[2].startswith("| agent |") and lines[2].count("|") == 7 and np.isfinite(float(lines[2].split("|")[2]))
    with pytest.raises(FileNotFoundError, match="--env"):
        half_ablation_main([str(tmp_path / "agent.zip")])

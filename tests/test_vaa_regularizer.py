"""The VAA* regulariser: its value, its gradient, its cadence, its checks, and the trainer's use of it."""

from __future__ import annotations

import json
import math

import pytest
import torch
from script_loader import load_script

from warm_rl import RecurrentNet, VAARegularizer, vaa_star
from warm_rl.suite.data import make_benchmark
from warm_rl.suite.trainer import TrainConfig, train


def _inputs(seed=0, T=20, B=6, F=2):
    return torch.randn(T, B, F, generator=torch.Generator().manual_seed(seed))


def test_the_term_is_weight_times_the_squared_distance_of_vaa_star_to_the_target():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 2, 8, num_layers=2)
    x = _inputs()
    regularizer = VAARegularizer(weight=0.5, target=0.9, horizon=15, eps=1e-2, seed=3)
    term = regularizer.term(net, x, None, update=0)
    sequences = [x[:, i] for i in range(x.shape[1])]
    expected = vaa_star(net, sequences, horizon=15, eps=1e-2, seed=3)
    assert regularizer.last_values.shape == (2,)
    assert torch.allclose(regularizer.last_values, expected.detach())
    assert float(term.detach()) == pytest.approx(0.5 * float((expected.detach() - 0.9).pow(2).mean()), rel=1e-5)


def test_the_floor_penalises_only_layers_below_the_target():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 2, 8, num_layers=2)
    x = _inputs()
    values = vaa_star(net, [x[:, i] for i in range(x.shape[1])], horizon=15, eps=1e-2, seed=3).detach()
    above = min(float(values.max()) + 0.3, 1.0)
    floor = VAARegularizer(weight=2.0, target=above, horizon=15, eps=1e-2, seed=3, floor=True)
    term = floor.term(net, x, None, 0)
    assert term.requires_grad
    assert float(term.detach()) == pytest.approx(2.0 * float((above - values).pow(2).mean()), rel=1e-5)
    below = float(values.min()) / 2
    two_sided = VAARegularizer(weight=2.0, target=below, horizon=15, eps=1e-2, seed=3)
    assert float(two_sided.term(net, x, None, 0).detach()) > 0, "the two-sided term pulls a layer down to k"
    idle = VAARegularizer(weight=2.0, target=below, horizon=15, eps=1e-2, seed=3, floor=True)
    term = idle.term(net, x, None, 0)
    assert float(term) == 0.0 and not term.requires_grad, "no layer below the floor: no gradient"
    assert torch.allclose(idle.last_values, values), "its VAA* is still recorded"


def test_it_is_evaluated_every_every_updates_and_logged():
    net = RecurrentNet("gru", 2, 8)
    regularizer = VAARegularizer(weight=1.0, every=3, horizon=5, seed=0)
    due = [regularizer.term(net, _inputs(), None, update) is not None for update in range(7)]
    assert due == [True, False, False, True, False, False, True]
    assert [update for update, _, _ in regularizer.log] == [0, 3, 6]
    summary = regularizer.summary()
    assert set(summary) == {"vaa_reg_loss", "vaa_reg_vaa_star", "vaa_reg_seconds"} and summary["vaa_reg_seconds"] > 0
    assert math.isnan(regularizer.summary()["vaa_reg_loss"]), "a summary covers the evaluations since the last one"


def test_on_a_double_layer_only_the_warm_halves_get_its_gradient():
    torch.manual_seed(0)
    net = RecurrentNet("lstm", 2, 8, double=True)
    VAARegularizer(weight=1.0, horizon=10, seed=0).term(net, _inputs(), None, 0).backward()
    warm = {id(p) for p in net.warm_parameters()[0]}
    for param in net.parameters():
        has_gradient = param.grad is not None and bool(param.grad.abs().sum() > 0)
        assert has_gradient == (id(param) in warm)


def test_it_uses_at_most_max_sequences_and_honours_lengths():
    net = RecurrentNet("gru", 2, 8)
    x = _inputs(B=10)
    lengths = torch.tensor([20, 5] * 5)
    few = VAARegularizer(weight=1.0, horizon=5, max_sequences=2, seed=1)
    assert few.term(net, x, lengths, 0) is not None
    with pytest.raises(ValueError, match=r"inputs must be \(T, B, 2\), got shape \(20, 10\)"):
        few.term(net, x[..., 0], None, 0)


@pytest.mark.parametrize("fields, error, match", [
    ({"weight": 0.0}, ValueError, "weight"),
    ({"weight": 1.0, "target": 1.5}, ValueError, "target"),
    ({"weight": 1.0, "floor": "yes"}, TypeError, "floor"),
    ({"weight": 1.0, "every": 0}, ValueError, "every must be >= 1, got 0"),
    ({"weight": 1.0, "horizon": 2.5}, TypeError, "horizon"),
    ({"weight": "big"}, TypeError, "weight"),
])
def test_bad_settings_are_refused_naming_them(fields, error, match):
    with pytest.raises(error, match=match):
        VAARegularizer(**fields)


def test_from_value_takes_a_weight_a_dict_or_none():
    assert VAARegularizer.from_value(0.1).weight == 0.1
    assert VAARegularizer.from_value({"weight": 0.2, "every": 4}).every == 4
    assert VAARegularizer.from_value(None) is None
    with pytest.raises(TypeError, match="vaa_reg must be"):
        VAARegularizer.from_value("0.1")


def test_the_trainer_adds_it_and_records_its_loss_and_vaa():
    bench = make_benchmark("copy", seq_length=12, train_size=64, val_size=16, test_size=32, seed=0)
    settings = dict(hidden_size=8, epochs=2, progress=False, vaa_samples=8, vaa_horizon=20, pretrain="double",
                    warmup_config={"updates": 5, "max_horizon": 20}, warmup_pool=32, batch_size=16)
    plain = train(TrainConfig(**settings), bench.train, bench.val, bench.test)
    regularised = train(TrainConfig(**settings, vaa_reg={"weight": 1.0, "every": 2, "horizon": 10}),
                        bench.train, bench.val, bench.test)
    last = regularised.history[-1]
    assert math.isfinite(last["vaa_reg_loss"]) and 0.0 <= last["vaa_reg_vaa_star"] <= 1.0
    assert "vaa_reg_loss" not in plain.history[-1]
    assert regularised.history[-1]["train_loss"] != plain.history[-1]["train_loss"], "the term changes training"
    with pytest.raises(TypeError, match="vaa_reg must be a dict"):
        TrainConfig(vaa_reg=0.1)


def _sweep_record(seed, weight, vaas, test_mse, reg_seconds=0.0):
    settings = {"benchmark": "copy"} if weight is None else {"benchmark": "copy", "vaa_reg": {"weight": weight}}
    history = [{"epoch": 0, "vaa": 1.0, "val_metric": 1.0, "seconds": 0.0}]
    history += [{"epoch": i + 1, "vaa": v, "val_metric": 0.5, "seconds": 10.0, "vaa_reg_seconds": reg_seconds * (i + 1)}
                for i, v in enumerate(vaas)]
    return {"seed": seed, "test_metric": test_mse, "best_epoch": len(vaas), "settings": settings, "history": history}


def test_the_sweep_report_counts_solved_runs_kept_epochs_and_the_overhead(tmp_path):
    report = load_script("vaa_regularizer_report")
    (tmp_path / "none_runs.jsonl").write_text(json.dumps(_sweep_record(1, None, [0.2, 0.01], 0.8)) + "\n")
    (tmp_path / "reg1_runs.jsonl").write_text(
        json.dumps(_sweep_record(1, 1.0, [0.6, 1.0], 1e-4, reg_seconds=0.5)) + "\n"
        + json.dumps(_sweep_record(2, 1.0, [0.1, 0.3], 0.3, reg_seconds=0.5)) + "\n")
    assert report.main(["--dir", str(tmp_path), "--no-plot"]) == 0
    text = (tmp_path / "vaa_regularizer.md").read_text()
    assert "| none | 1 | 0 / 1 | 8.00e-01 | 0 / 1 | - |" in text
    assert "| 1 | 1, 2 | 1 / 2 |" in text and "| 1 / 2 | 5.0% |" in text  # 1 s of 20 s training
    row = report.run_summary(_sweep_record(0, 0.1, [0.9, 0.4, 0.7], 0.005, reg_seconds=1.0), solved=0.01)
    assert (row["solved"], row["vaa_min"], row["vaa_final"], row["epochs_kept"]) == (True, 0.4, 0.7, 2)
    assert row["overhead"] == pytest.approx(3.0 / 30.0)


def test_the_sweep_report_refuses_an_empty_folder_and_a_bad_threshold(tmp_path):
    report = load_script("vaa_regularizer_report")
    with pytest.raises(SystemExit):
        report.main(["--dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        report.main(["--dir", str(tmp_path), "--solved", "0"])
    with pytest.raises(ValueError, match="seed 3"):
        report.run_summary({"seed": 3, "test_metric": 1.0, "best_epoch": 0, "history": [{"epoch": 0, "vaa": 1.0}]},
                           solved=0.01)

"""VAA, VAA* and warm-up on systems with known attractors and on copy-first-input."""

from __future__ import annotations

import math

import pytest
import torch

from warm_rl import RecurrentNet, WarmupConfig, vaa, vaa_star, warm_up
from warm_rl.vaa import count_attractors, soft_attractor_variability


def copy_first_sequences(count=64, steps=40, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(steps, count, 1, generator=generator), torch.full((count,), steps)


def contraction_gru() -> RecurrentNet:
    """A GRU with no recurrence and a fixed update gate: h' = 0.5 h + 0.5 tanh(W x).

    Under a constant input it contracts to one fixed point: VAA = 1/n.
    """
    net = RecurrentNet("gru", 1, 4)
    rnn = net.layers[0].rnn
    with torch.no_grad():
        for p in rnn.parameters():
            p.zero_()
        rnn.weight_ih_l0[8:] = 1.0  # candidate depends on the input only
    return net


def bistable_brc() -> RecurrentNet:
    """A one-unit BRC that only remembers the sign of its first input.

    Update gate at 0.5; feedback a = 2 makes
    h' = tanh(2h) bistable with attractors near +-0.96 once inputs vanish.
    The sequences start with +-5 then zeros; the constant perturbation enters
    with weight 0.05, too weak to break the bistability: two attractors.
    """
    net = RecurrentNet("brc", 1, 1)
    layer = net.layers[0]
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.input_proj.bias[1] = 10.0  # a = 1 + tanh(10) ~ 2
        layer.input_proj.weight[2, 0] = 0.05  # candidate sees the input, weakly
    return net


def test_count_attractors_on_known_sets():
    points = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
    assert count_attractors(points, 1e-4) == pytest.approx(0.75)
    soft = soft_attractor_variability(torch.tensor([[0.0], [0.0], [5.0], [-5.0]]), 1e-4)
    assert float(soft) == pytest.approx(0.75, abs=1e-3)


def test_vaa_of_a_contraction_is_one_over_n():
    torch.manual_seed(0)
    seqs = copy_first_sequences(count=50)
    assert vaa(contraction_gru(), seqs, horizon=500, seed=0) == pytest.approx(1 / 50)
    value = vaa_star(contraction_gru(), seqs, horizon=200, seed=0)
    assert value.shape == (1,) and float(value[0].detach()) == pytest.approx(1 / 50, rel=1e-3)


def test_vaa_of_a_bistable_system_is_two_over_n():
    n = 40
    signs = torch.where(torch.arange(n) % 2 == 0, 5.0, -5.0)
    padded = torch.zeros(30, n, 1)
    padded[0, :, 0] = signs
    lengths = torch.full((n,), 30)
    # the cut may stop right after the first input: the state is then already signed.
    assert vaa(bistable_brc(), (padded, lengths), horizon=2000, seed=1) == pytest.approx(2 / n)
    star = vaa_star(bistable_brc(), (padded, lengths), horizon=200, seed=1)
    assert float(star[0].detach()) == pytest.approx(2 / n, rel=1e-3)


def test_vaa_star_is_differentiable_per_layer():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 8, num_layers=3)
    values = vaa_star(net, copy_first_sequences(count=16), horizon=5, seed=0)
    assert values.shape == (3,)
    values.sum().backward()
    assert all(p.grad is not None for p in net.layers[2].parameters())


def test_sequences_as_list_of_different_lengths():
    torch.manual_seed(0)
    net = RecurrentNet("mgu", 2, 6)
    seqs = [torch.randn(n, 2) for n in (3, 9, 1, 5)]
    value = vaa(net, seqs, horizon=50, seed=0)
    assert 1 / 4 <= value <= 1.0
    assert vaa(net, seqs, horizon=50, seed=0) == value


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_warm_up_raises_vaa(cell):
    torch.manual_seed(1)
    net = RecurrentNet(cell, 1, 32)
    seqs = copy_first_sequences(count=100, steps=50)
    before = vaa(net, seqs, horizon=1000, seed=0)
    report = warm_up(net, seqs, WarmupConfig(seed=1))
    after = vaa(net, seqs, horizon=1000, seed=0)
    assert before <= 0.05
    assert after >= 0.5
    assert report.updates >= 100 and len(report.vaa_star) == report.updates
    assert report.seconds > 0


@pytest.mark.parametrize("cell", ["gru", "lstm", "mgu", "nbrc"])
def test_double_warm_up_changes_warm_halves_only(cell):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 2, 8, num_layers=2, double=True)
    readout = torch.nn.Linear(8, 1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    readout_before = readout.weight.clone()
    warm_up(net, [torch.randn(12, 2) for _ in range(8)], WarmupConfig(updates=5, seed=0))
    for name, value in net.state_dict().items():
        if ".warm." in name:
            continue
        assert torch.equal(value, before[name]), name
    assert any(not torch.equal(v, before[k]) for k, v in net.state_dict().items() if ".warm." in k)
    assert torch.equal(readout.weight, readout_before)


def test_vaa_star_gradients_reach_warm_halves_only():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 2, 8, num_layers=2, double=True)
    vaa_star(net, [torch.randn(12, 2) for _ in range(8)], horizon=5, seed=0).sum().backward()
    for name, param in net.named_parameters():
        if ".warm." in name:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
        else:
            assert param.grad is None, name


def test_non_finite_loss_restarts_then_raises(monkeypatch):
    import warm_rl.warmup as warmup_module

    def nan_vaa_star(net, padded, lengths, horizon, eps, generator, layers=None):
        count = len(layers) if layers is not None else net.num_layers
        zeros = sum(p.sum() for p in net.parameters()) * 0
        return torch.full((count,), float("nan")) + zeros

    monkeypatch.setattr(warmup_module, "vaa_star_padded", nan_vaa_star)
    net = RecurrentNet("gru", 1, 4)
    with pytest.raises(RuntimeError, match="non-finite.*after 2 restart"):
        warm_up(net, copy_first_sequences(count=8), WarmupConfig(updates=3, restarts=2, seed=0))


@pytest.mark.parametrize(
    "sequences,error,match",
    [
        ([], ValueError, "empty"),
        ([torch.zeros(5, 3)], ValueError, "3 features, the network expects input_size=1"),
        ([torch.zeros(0, 1)], ValueError, r"sequences\[0\] has length 0"),
        ([torch.tensor([[float("nan")]])], ValueError, "non-finite"),
        (torch.zeros(5, 2, 1), TypeError, "single tensor"),
        ([[1.0, 2.0]], TypeError, r"sequences\[0\] must be a Tensor"),
    ],
    ids=["empty", "features", "zero-length", "nan", "bare-tensor", "list-of-lists"],
)
def test_bad_sequences(sequences, error, match):
    net = RecurrentNet("gru", 1, 4)
    with pytest.raises(error, match=match):
        vaa(net, sequences, horizon=5)
    with pytest.raises(error, match=match):
        warm_up(net, sequences, WarmupConfig(updates=1))


def test_bad_config():
    with pytest.raises(ValueError, match="WarmupConfig.lr must be > 0, got -1"):
        WarmupConfig(lr=-1)
    with pytest.raises(ValueError, match="unknown WarmupConfig field"):
        WarmupConfig.from_value({"stepz": 3})
    with pytest.raises(ValueError, match="horizon must be an int >= 1, got 0"):
        vaa(RecurrentNet("gru", 1, 4), [torch.zeros(3, 1)], horizon=0)


def test_unseeded_warm_up_follows_the_global_seed_and_keeps_it():
    seqs = copy_first_sequences(count=16, steps=10)
    config = WarmupConfig(updates=3, batch_size=8, max_horizon=10)

    def run():
        torch.manual_seed(5)
        net = RecurrentNet("gru", 1, 8)
        warm_up(net, seqs, config)
        return [p.detach().clone() for p in net.parameters()], torch.rand(3)

    (params_a, after_a), (params_b, after_b) = run(), run()
    for a, b in zip(params_a, params_b, strict=True):
        torch.testing.assert_close(a, b)
    # the global stream is not reseeded at random: what follows is reproducible too
    torch.testing.assert_close(after_a, after_b)


@pytest.mark.parametrize(
    "old,new", [("steps", "updates"), ("max_steps", "max_horizon"), ("increment", "horizon_increment")], ids=str
)
def test_renamed_warmup_fields_name_the_new_one(old, new):
    with pytest.raises(TypeError, match=f"'{old}', which was renamed: use '{new}'"):
        WarmupConfig(**{old: 3})
    with pytest.raises(TypeError, match=f"use '{new}'"):
        WarmupConfig.from_value({old: 3})


@pytest.mark.parametrize("function", [vaa, vaa_star], ids=lambda f: f.__name__)
def test_vaa_steps_was_renamed_horizon(function):
    net, sequences = RecurrentNet("gru", 1, 4), [torch.zeros(3, 1)]
    with pytest.raises(TypeError, match="'steps', which was renamed: use 'horizon'"):
        function(net, sequences, horizon=3, steps=3)
    with pytest.raises(TypeError, match="horizon"):
        function(net, sequences, steps=3)


@pytest.mark.parametrize(
    "field,value,error",
    [("updates", 1.5, TypeError), ("updates", 0, ValueError), ("lr", True, TypeError), ("lr", float("inf"), ValueError),
     ("progress", "yes", TypeError), ("seed", "x", TypeError), ("seed", True, TypeError),
     ("eps", float("nan"), ValueError),
     ("target", True, TypeError), ("batch_size", 2.0, TypeError), ("restarts", -1, ValueError)],
    ids=lambda v: repr(v),
)
def test_warmup_config_checks_types_and_values(field, value, error):
    with pytest.raises(error, match=f"WarmupConfig.{field}") as info:
        WarmupConfig(**{field: value})
    assert repr(value) in str(info.value)


def _tiny_warmup_data():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(50, 32, 1, generator=generator), torch.full((32,), 50)


def test_a_diverged_warm_up_is_reported_warned_or_raised():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 16)
    with pytest.warns(UserWarning, match=r"warm-up diverged: .*\|w\| = .*try a smaller lr than 1e\+06"):
        report = warm_up(net, _tiny_warmup_data(), WarmupConfig(lr=1e6, updates=20, max_horizon=30, seed=0))
    assert report.diverged is not None and "warm weights reached" in report.diverged
    torch.manual_seed(0)
    with pytest.raises(RuntimeError, match="warm-up diverged"):
        warm_up(RecurrentNet("gru", 1, 16), _tiny_warmup_data(),
                WarmupConfig(lr=1e6, updates=20, max_horizon=30, seed=0, if_diverged="raise"))
    with pytest.raises(ValueError, match="'maybe'"):
        WarmupConfig(if_diverged="maybe")


def test_an_overflowing_warm_up_restarts_then_fails_clearly_with_finite_weights():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 16)
    with pytest.raises(RuntimeError, match=r"Adam's step overflowed\) at update \d+ .* after 1 restart"):
        warm_up(net, _tiny_warmup_data(), WarmupConfig(lr=1e38, updates=5, max_horizon=10, restarts=1, seed=0))
    assert all(bool(torch.isfinite(p).all()) for p in net.parameters())


@pytest.mark.parametrize(
    "make_net,sequences,error,bad",
    [
        (lambda: RecurrentNet("gru", 1, 4), [torch.zeros(3, 1, dtype=torch.float64)], TypeError, "torch.float64"),
        (lambda: RecurrentNet("gru", 1, 4).to(torch.float64), [torch.zeros(3, 1)], TypeError, "torch.float32"),
        (lambda: RecurrentNet("gru", 1, 4).to(torch.float64), (torch.zeros(3, 2, 1), torch.tensor([3, 3])), TypeError,
         "torch.float32"),
        (lambda: RecurrentNet("gru", 1, 4), (torch.zeros(3, 2, 1), torch.tensor([2.5, 3.0])), TypeError, "2.5"),
    ],
    ids=["float64-seqs", "float64-net", "float64-net-padded", "float-lengths"],
)
def test_sequence_dtypes_must_match_the_network(make_net, sequences, error, bad):
    for function in (vaa, vaa_star):
        with pytest.raises(error) as info:
            function(make_net(), sequences, horizon=3)
        assert bad in str(info.value) and "mat1" not in str(info.value)
    with pytest.raises(error) as info:
        warm_up(make_net(), sequences, WarmupConfig(updates=1))
    assert bad in str(info.value)


def test_integer_sequences_are_cast_to_the_network_dtype():
    sequences = [torch.ones(3, 1, dtype=torch.long), torch.zeros(4, 1, dtype=torch.long)]
    for dtype in (torch.float32, torch.float64):
        value = vaa(RecurrentNet("gru", 1, 4).to(dtype), sequences, horizon=3, seed=0)
        assert 0.5 <= value <= 1.0


# (not a float64 subnormal such as 5e-324: other tests turn torch.set_flush_denormal on, process-wide)
@pytest.mark.parametrize("eps", [1e-30, 1e-50, 1e-300], ids=repr)
def test_vaa_stays_in_range_for_tiny_eps(eps):
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 4)
    sequences = [torch.randn(5, 1) for _ in range(6)] + [torch.zeros(5, 1)] * 2
    value = vaa(net, sequences, horizon=5, eps=eps, seed=0)
    assert 1 / 8 <= value <= 1.0
    # VAA* compares eps ** 2, which underflows in float32: refused, naming eps
    with pytest.raises(ValueError, match="eps") as info:
        vaa_star(net, sequences, horizon=5, eps=eps, seed=0)
    assert repr(eps) in str(info.value)
    with pytest.raises(ValueError, match="WarmupConfig.eps") as info:
        warm_up(net, sequences, WarmupConfig(updates=1, eps=eps))
    assert repr(eps) in str(info.value)


def test_count_attractors_range_and_non_finite_states():
    points = torch.tensor([[0.0], [0.0], [1.0]])
    assert count_attractors(points, 5e-324) == pytest.approx((0.5 + 0.5 + 1) / 3)
    with pytest.warns(RuntimeWarning, match="nan or inf"):
        assert math.isnan(count_attractors(torch.tensor([[0.0], [float("nan")]]), 1e-4))


def test_a_layer_collapsed_to_one_attractor_is_restarted_with_a_larger_learning_rate():
    from warm_rl.warmup import COLLAPSED_COUNT, LR_ESCALATION

    torch.manual_seed(0)
    net = RecurrentNet("lstm", 2, 8)
    sequences = [torch.randn(30, 2, generator=torch.Generator().manual_seed(i)) for i in range(16)]
    config = WarmupConfig(updates=2, lr=1e-6, restarts=2, max_horizon=20, batch_size=16, seed=0)
    with pytest.warns(UserWarning, match=r"collapsed to a few attractors"):
        report = warm_up(net, sequences, config)  # two tiny steps cannot make a random LSTM multistable
    assert report.collapsed_layers == [[0], [0], [0]]
    assert report.learning_rates == pytest.approx([1e-6, 1e-6 * LR_ESCALATION, 1e-6 * LR_ESCALATION**2])
    assert report.restarts == 2 and report.final_attractors[0] <= COLLAPSED_COUNT / 16


def test_a_warm_up_that_works_is_not_restarted():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 16)
    sequences = [torch.randn(40, 1, generator=torch.Generator().manual_seed(i)) for i in range(32)]
    report = warm_up(net, sequences, WarmupConfig(updates=60, max_horizon=50, seed=0))
    assert report.restarts == 0 and report.learning_rates == [1e-2] and report.collapsed_layers == []
    assert report.final_attractors[0] > 2.5 / 32


def test_the_papers_procedure_does_not_restart_collapsed_layers():
    torch.manual_seed(0)
    net = RecurrentNet("lstm", 2, 8)
    sequences = [torch.randn(30, 2, generator=torch.Generator().manual_seed(i)) for i in range(16)]
    config = WarmupConfig(updates=2, lr=1e-6, restarts=2, max_horizon=20, batch_size=16, seed=0,
                          restart_collapsed=False)
    report = warm_up(net, sequences, config)
    assert report.restarts == 0 and report.learning_rates == [1e-6] and report.collapsed_layers == []
    with pytest.raises(TypeError, match="restart_collapsed must be a bool"):
        WarmupConfig(restart_collapsed="no")


def test_collapsed_count_sets_how_few_attractors_count_as_collapsed():
    torch.manual_seed(0)
    sequences = [torch.randn(40, 1, generator=torch.Generator().manual_seed(i)) for i in range(32)]
    settings = {"updates": 60, "max_horizon": 50, "seed": 0, "restarts": 1}
    kept = warm_up(RecurrentNet("gru", 1, 16), sequences, WarmupConfig(**settings))
    count = kept.final_attractors[0] * 32  # the attractors this warm-up leaves: not collapsed by default
    assert kept.collapsed_layers == [] and count > WarmupConfig().collapsed_count
    torch.manual_seed(0)
    strict = warm_up(RecurrentNet("gru", 1, 16), sequences, WarmupConfig(**settings, collapsed_count=count + 0.5))
    assert strict.collapsed_layers[0] == [0] and strict.restarts == 1
    assert strict.learning_rates == pytest.approx([1e-2, 1e-2 * 3.0])
    with pytest.raises(ValueError, match="collapsed_count=32"):
        WarmupConfig(collapsed_count=32)
    with pytest.raises(ValueError, match="collapsed_count"):
        WarmupConfig(collapsed_count=0)

"""LSC pre-training: radius estimators on known matrices, the procedure on every cell, its guards."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from warm_rl import CELL_NAMES, RecurrentNet, WarmupConfig, warm_up
from warm_rl.lsc import LSCConfig, LSCReport, lsc_pretrain, lsc_radii
from warm_rl.lsc_radius import dense_jacobian, estimate_radius, jacobian_radius, square_indices
from warm_rl.lsc_terms import layer_step

ESTIMATOR_NAMES = ("dense", "matrix_free")


def cell_kwargs(cell: str) -> dict:
    return {"t_max": 20} if cell == "chrono" else {}


def data(steps: int = 30, count: int = 16, features: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(steps, count, features, generator=generator), torch.full((count,), steps)


def matrices() -> dict[str, torch.Tensor]:
    """Square matrices whose dominant eigenvalue is real positive, negative, or a complex pair."""
    generator = torch.Generator().manual_seed(0)
    random = torch.randn(12, 12, generator=generator, dtype=torch.float64) / 12**0.5
    negative = torch.diag(torch.tensor([-2.0, 1.5, 1.0, -0.5, 0.3], dtype=torch.float64))
    negative = negative + 0.1 * torch.randn(5, 5, generator=generator, dtype=torch.float64)
    rotation = torch.zeros(6, 6, dtype=torch.float64)
    rotation[:2, :2] = torch.tensor([[0.0, -1.3], [1.3, 0.0]], dtype=torch.float64)
    rotation[2:, 2:] = 0.5 * torch.randn(4, 4, generator=generator, dtype=torch.float64)
    return {"random": random, "negative": negative, "complex_pair": rotation}


# ------------------------------------------------------------------ estimators


@pytest.mark.parametrize("estimator", ESTIMATOR_NAMES)
@pytest.mark.parametrize("name", list(matrices()))
def test_radius_of_a_linear_map_is_that_of_its_matrix(estimator, name):
    weight = matrices()[name]
    z = torch.randn(3, weight.shape[0], dtype=torch.float64)
    eig = jacobian_radius(lambda s: s @ weight.T, z, radius="eig", estimator=estimator)
    svd = jacobian_radius(lambda s: s @ weight.T, z, radius="svd", estimator=estimator)
    torch.testing.assert_close(eig, torch.linalg.eigvals(weight).abs().max().expand(3), rtol=1e-6, atol=0)
    torch.testing.assert_close(svd, torch.linalg.svdvals(weight)[0].expand(3), rtol=1e-6, atol=0)


@pytest.mark.parametrize("estimator", ESTIMATOR_NAMES)
@pytest.mark.parametrize("radius", ["eig", "svd"])
def test_radius_gradient_matches_autograd_of_the_decomposition(estimator, radius):
    weight = matrices()["random"].clone().requires_grad_(True)
    value = jacobian_radius(lambda s: s @ weight.T, torch.randn(2, 12, dtype=torch.float64),
                            radius=radius, estimator=estimator)
    (grad,) = torch.autograd.grad(value.sum(), weight)
    reference = weight.detach().clone().requires_grad_(True)
    exact = torch.linalg.eigvals(reference).abs().max() if radius == "eig" else torch.linalg.svdvals(reference)[0]
    (expected,) = torch.autograd.grad(2 * exact, reference)
    torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-8)


def test_dense_left_eigenvectors_survive_a_failing_batched_solve(monkeypatch):
    """MKL's batched complex LU failed on some inputs with 2 threads: each sample is then solved alone."""
    solve = torch.linalg.solve

    def batched_fails(matrix, rhs):
        if matrix.dim() == 3:
            raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1")
        return solve(matrix, rhs)

    monkeypatch.setattr(torch.linalg, "solve", batched_fails)
    weight = matrices()["complex_pair"].clone().requires_grad_(True)
    value = jacobian_radius(lambda s: s @ weight.T, torch.randn(2, 6, dtype=torch.float64), estimator="dense")
    (grad,) = torch.autograd.grad(value.sum(), weight)
    monkeypatch.setattr(torch.linalg, "solve", solve)
    reference = weight.detach().clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(2 * torch.linalg.eigvals(reference).abs().max(), reference)
    torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-8)


def test_a_non_square_jacobian_is_squared_by_a_fresh_draw_of_its_larger_axis():
    tall = torch.randn(10, 3, dtype=torch.float64)
    rows, cols = square_indices(10, 3, torch.Generator().manual_seed(5))
    assert cols is None and rows.numel() == 3 and rows.unique().numel() == 3
    value = jacobian_radius(lambda s: s @ tall.T, torch.randn(2, 3, dtype=torch.float64),
                            generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(value, torch.linalg.eigvals(tall[rows]).abs().max().expand(2))
    rows, cols = square_indices(3, 10, torch.Generator().manual_seed(1))
    assert rows is None and cols.numel() == 3
    generator = torch.Generator().manual_seed(0)
    draws = {tuple(square_indices(10, 3, generator)[0].tolist()) for _ in range(6)}
    assert len(draws) > 1


def test_dense_jacobian_is_per_sample():
    weight = torch.randn(4, 4)
    z = torch.randn(3, 4)
    jac = dense_jacobian(lambda s: torch.tanh(s @ weight.T), z)
    expected = (1 - torch.tanh(z @ weight.T) ** 2).unsqueeze(-1) * weight
    torch.testing.assert_close(jac, expected)


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("double", [False, True], ids=["single", "double"])
def test_layer_step_is_one_step_of_the_network(cell, double):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 3, 8, num_layers=2, double=double, **cell_kwargs(cell))
    x = torch.randn(1, 5, 3)
    h0, c0 = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    _, (h, c) = net(x, (h0, c0))
    inputs = x[0]
    for depth, layer in enumerate(net.layers):
        full = (lambda a, b, d=depth: torch.cat([a[d], b[d]], -1)) if layer.has_cell_state else (
            lambda a, b, d=depth: a[d]
        )
        new = layer_step(layer)(inputs, full(h0, c0))
        torch.testing.assert_close(new, full(h, c), rtol=1e-5, atol=1e-5)
        inputs = new[..., :8]


def reached_state(cell: str, hidden: int) -> tuple:
    torch.manual_seed(0)
    net = RecurrentNet(cell, 4, hidden)
    _, (h, c) = net(torch.randn(20, 16, 4))
    layer = net.layers[0]
    state = torch.cat([h[0], c[0]], -1) if layer.has_cell_state else h[0]
    step = layer_step(layer)
    return (lambda s, x: step(x, s)), state, torch.randn(16, 4)


@pytest.mark.parametrize("radius", ["eig", "svd"])
@pytest.mark.parametrize(("cell", "hidden", "rel"), [("gru", 16, 0.02), ("lstm", 16, 0.02), ("gru", 64, 0.03)])
def test_matrix_free_agrees_with_dense_on_recurrent_nets(cell, hidden, rel, radius):
    fn, state, inputs = reached_state(cell, hidden)
    dense = jacobian_radius(fn, state, (inputs,), radius=radius, estimator="dense")
    free = jacobian_radius(fn, state, (inputs,), radius=radius, estimator="matrix_free",
                           generator=torch.Generator().manual_seed(0))
    assert float(((free - dense).abs() / dense).max().detach()) < rel


def test_auto_is_dense_up_to_128_and_matrix_free_above():
    weight = torch.randn(130, 130) / 130**0.5
    small = estimate_radius(lambda s: s[:, :128] @ weight[:128, :128].T, torch.randn(2, 128))
    large = estimate_radius(lambda s: s @ weight.T, torch.randn(2, 130))
    assert (small.estimator, large.estimator) == ("dense", "matrix_free")
    assert estimate_radius(lambda s: s @ weight.T, torch.randn(2, 130), dense_max_size=200).estimator == "dense"


def test_non_finite_jacobian_gives_nan_not_an_error():
    for estimator in ESTIMATOR_NAMES:
        value = jacobian_radius(lambda s: s * float("nan"), torch.randn(2, 4), estimator=estimator)
        assert bool(value.isnan().all())


# ------------------------------------------------------------------ procedure


def test_lsc_moves_the_gru_recurrent_radius_to_the_target():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 16, 16)
    sequences = data(steps=50, count=32)
    before = lsc_radii(net, sequences, LSCConfig(seed=1))
    report = lsc_pretrain(net, sequences, LSCConfig(seed=0))
    after = lsc_radii(net, sequences, LSCConfig(seed=1))
    assert abs(before["recurrent_0"] - 1.0) > 0.2
    assert abs(after["recurrent_0"] - 1.0) < 0.1
    assert report.steps <= 100 and report.stop_reason in ("converged", "budget")


def test_lsc_moves_the_depth_radius_of_a_stack_to_the_target():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 16, 16, num_layers=2)
    sequences = data(steps=50, count=32)
    before = lsc_radii(net, sequences, LSCConfig(seed=1))
    lsc_pretrain(net, sequences, LSCConfig(seed=0))
    after = lsc_radii(net, sequences, LSCConfig(seed=1))
    assert set(after) == {"recurrent_0", "recurrent_1", "depth_1", "input"}
    assert abs(before["depth_1"] - 1.0) > 0.5
    assert abs(after["depth_1"] - 1.0) < 0.1


def test_target_half_is_an_option():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 16, 16)
    report = lsc_pretrain(net, data(), LSCConfig(seed=0, target=0.5, max_steps=10))
    assert report.targets == {"recurrent_0": 0.5, "input": 0.5}


@pytest.mark.parametrize("halves", ["cold", "warm"])
def test_halves_leave_the_other_halves_bit_identical(halves):
    torch.manual_seed(0)
    net = RecurrentNet("gru", 16, 16, num_layers=2, double=True)
    kept = "warm" if halves == "cold" else "cold"
    frozen = {n: p.detach().clone() for n, p in net.named_parameters() if f".{kept}." in n}
    trained = {n: p.detach().clone() for n, p in net.named_parameters() if f".{halves}." in n}
    report = lsc_pretrain(net, data(), LSCConfig(seed=0, halves=halves, max_steps=15))
    assert report.halves == halves
    params = dict(net.named_parameters())
    assert all(torch.equal(params[n], value) for n, value in frozen.items())
    assert any(not torch.equal(params[n], value) for n, value in trained.items())


def test_halves_default_to_cold_on_a_net_marked_warmed_up():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 4, 8, double=True)
    assert not net.warmed_up
    assert lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=2)).halves == "both"
    with pytest.warns(UserWarning, match="stuck"):  # 2 updates: not yet multistable, still marked
        warm_up(net, data(features=4), WarmupConfig(updates=2, batch_size=4, max_horizon=5, restarts=0, seed=0))
    assert net.warmed_up
    warm = {n: p.detach().clone() for n, p in net.named_parameters() if ".warm." in n}
    assert lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=3)).halves == "cold"
    assert all(torch.equal(dict(net.named_parameters())[n], v) for n, v in warm.items())


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_runs_with_a_head(cell):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 3, 8, num_layers=2, **cell_kwargs(cell))
    head = nn.Linear(8, 2)
    report = lsc_pretrain(net, data(steps=6, count=4, features=3), LSCConfig(seed=0, max_steps=4), head=head)
    assert set(report.radii) == {"recurrent_0", "recurrent_1", "depth_1", "input", "output"}  # 2L + 1
    assert report.targets["output"] == 1.0
    assert all(len(values) == 4 and all(math.isfinite(v) for v in values) for values in report.radii.values())
    assert all(bool(torch.isfinite(p).all()) for p in net.parameters())


def test_report_fields_and_callback():
    torch.manual_seed(0)
    net = RecurrentNet("lstm", 4, 8)
    seen = []
    report = lsc_pretrain(net, data(steps=5, features=4), LSCConfig(seed=0, max_steps=7),
                          callback=lambda step, loss, radii: seen.append((step, loss, radii)))
    assert isinstance(report, LSCReport)
    assert report.steps == len(report.losses) == 7 and report.stop_step == 6 and report.stop_reason == "budget"
    assert [s for s, _, _ in seen] == list(range(7)) and seen[0][1] == report.losses[0]
    assert seen[3][2] == {name: values[3] for name, values in report.radii.items()}
    assert 0 <= report.best_step <= 6 and math.isfinite(report.best_error)
    assert report.estimators == {"recurrent_0": "dense", "input": "dense"}
    assert report.seconds > 0 and report.restarts == 0


def test_best_weights_are_loaded_back():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 16, 16)
    # the weights measured at step k are those after update k - 1 (the initial ones at step 0)
    measured = [[p.detach().clone() for p in net.parameters()]]
    report = lsc_pretrain(net, data(), LSCConfig(seed=0, max_steps=12, lr=0.05), callback=lambda *_: measured.append(
        [p.detach().clone() for p in net.parameters()]))
    assert 0 < report.best_step < report.steps
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), measured[report.best_step], strict=True))


def test_convergence_stops_early():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 4, 8)
    report = lsc_pretrain(net, data(features=4), LSCConfig(seed=0, tolerance=10.0, patience=3))
    assert report.stop_reason == "converged" and report.stop_step == 2 and report.steps == 3


@pytest.mark.parametrize("options", [
    {"estimator": "matrix_free"}, {"radius": "svd"}, {"optimizer": "adam"}, {"rescale_recurrent": True},
], ids=["matrix_free", "svd", "adam", "rescale"])
def test_options_run(options):
    torch.manual_seed(0)
    net = RecurrentNet("gru", 4, 8, num_layers=2)
    before = [p.detach().clone() for p in net.parameters()]
    report = lsc_pretrain(net, data(steps=8, features=4), LSCConfig(seed=0, max_steps=6, **options))
    assert report.steps == 6
    if options.get("estimator") == "matrix_free":
        assert set(report.estimators.values()) == {"matrix_free"}
    assert any(not torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))


def test_missing_pytorch_optimizer_falls_back_to_adam(monkeypatch):
    monkeypatch.setitem(sys.modules, "pytorch_optimizer", None)
    net = RecurrentNet("gru", 4, 8)
    with pytest.warns(UserWarning, match="pytorch-optimizer"):
        report = lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=2))
    assert report.steps == 2


def test_output_term_is_left_out_for_a_wide_head():
    net = RecurrentNet("gru", 4, 8)
    report = lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=2), head=nn.Linear(8, 101))
    assert "output" not in report.radii
    report = lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=2), head=nn.Linear(8, 100))
    assert "output" in report.radii


def test_sequences_of_different_lengths():
    net = RecurrentNet("mgu", 2, 8)
    sequences = [torch.randn(n, 2) for n in (7, 3, 1, 5)]
    report = lsc_pretrain(net, sequences, LSCConfig(seed=0))
    assert report.steps == 14  # twice the longest sequence


# ------------------------------------------------------------------- failures


class NanHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * float("nan")


def test_non_finite_loss_restarts_once_then_raises_with_finite_weights():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 4, 8)
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(RuntimeError, match="non-finite.*1 restart"):
        lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=5), head=NanHead())
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))


def test_a_non_finite_weight_restores_the_best_and_restarts():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 4, 8)
    poisoned = []

    def poison(step, loss, radii):
        if step == 3 and not poisoned:
            poisoned.append(step)
            with torch.no_grad():
                net.layers[0].rnn.weight_hh_l0[0, 0] = float("inf")

    report = lsc_pretrain(net, data(features=4), LSCConfig(seed=0, max_steps=6), callback=poison)
    assert report.restarts == 1 and report.steps == 5 + 6  # the failed step is recorded, then a fresh budget
    assert math.isnan(report.losses[4]) and all(math.isfinite(v) for v in report.losses[5:])
    assert all(bool(torch.isfinite(p).all()) for p in net.parameters())


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(("field", "value", "error"), [
    ("target", 0.0, ValueError), ("target", -1.0, ValueError), ("target", "1", TypeError),
    ("estimator", "power", ValueError), ("radius", "frobenius", ValueError), ("halves", "left", ValueError),
    ("optimizer", "sgd", ValueError), ("lr", 0.0, ValueError), ("patience", 0, ValueError),
    ("patience", 2.0, TypeError), ("max_steps", 0, ValueError), ("tolerance", -0.1, ValueError),
    ("rescale_recurrent", 1, TypeError), ("restarts", -1, ValueError), ("krylov_steps", 0, ValueError),
])
def test_config_checks_name_the_field_and_value(field, value, error):
    with pytest.raises(error, match=rf"LSCConfig\.{field}.*{value!r}" if error is TypeError else field):
        LSCConfig(**{field: value})


def test_bad_arguments_are_named():
    net = RecurrentNet("gru", 4, 8)
    with pytest.raises(ValueError, match="empty"):
        lsc_pretrain(net, [])
    with pytest.raises(ValueError, match="input_size=4"):
        lsc_pretrain(net, data(features=3))
    with pytest.raises(ValueError, match="halves.*double"):
        lsc_pretrain(net, data(features=4), LSCConfig(halves="cold"))
    with pytest.raises(TypeError, match="RecurrentNet"):
        lsc_pretrain(nn.GRU(4, 8), data(features=4))
    with pytest.raises(TypeError, match="head"):
        lsc_pretrain(net, data(features=4), head=lambda x: x)
    with pytest.raises(ValueError, match="unknown LSCConfig field"):
        lsc_pretrain(net, data(features=4), {"budget": 3})
    with pytest.raises(TypeError, match="LSC config"):
        lsc_pretrain(net, data(features=4), "default")
    with pytest.raises(ValueError, match="estimator"):
        jacobian_radius(lambda s: s, torch.randn(2, 3), estimator="lanczos")
    with pytest.raises(ValueError, match="radius"):
        jacobian_radius(lambda s: s, torch.randn(2, 3), radius="trace")

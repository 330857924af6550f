"""RecurrentNet: shapes, state carry-over, reset masks, lengths, gradients, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

from warm_rl import CELL_NAMES, RecurrentNet
from warm_rl.backends import select_backend
from warm_rl.torchscript_scans import brc_scan, gru_scan, mgu_scan, nbrc_scan

CELL_KWARGS = {"chrono": {"t_max": 20}}
CASES = [(cell, double) for cell in CELL_NAMES for double in (False, True)]
CASE_IDS = [f"{cell}-{'double' if double else 'single'}" for cell, double in CASES]


def make_net(cell: str, double: bool, input_size=3, hidden=8, layers=2, dtype=torch.float64):
    torch.manual_seed(0)
    net = RecurrentNet(cell, input_size, hidden, layers, double=double, **CELL_KWARGS.get(cell, {}))
    return net.to(dtype)


def step_by_step(net, x, state, reset_mask):
    """Reference: one call per step and per column, resets applied by hand."""
    outs, finals_h, finals_c = [], [], []
    for b in range(x.shape[1]):
        h, c = state[0][:, b : b + 1], state[1][:, b : b + 1]
        column = []
        for t in range(x.shape[0]):
            if reset_mask[t, b]:
                h, c = torch.zeros_like(h), torch.zeros_like(c)
            out, (h, c) = net(x[t : t + 1, b : b + 1], (h, c))
            column.append(out)
        outs.append(torch.cat(column))
        finals_h.append(h)
        finals_c.append(c)
    return torch.cat(outs, 1), (torch.cat(finals_h, 1), torch.cat(finals_c, 1))


@pytest.mark.parametrize("cell,double", CASES, ids=CASE_IDS)
def test_shapes_and_attributes(cell, double):
    net = make_net(cell, double, dtype=torch.float32)
    out, (h, c) = net(torch.randn(7, 5, 3))
    assert out.shape == (7, 5, 8)
    assert h.shape == c.shape == (2, 5, 8)
    assert (net.input_size, net.hidden_size, net.num_layers) == (3, 8, 2)
    assert net.cell == cell and net.double == double
    unbatched, (h1, _) = net(torch.randn(7, 3))
    assert unbatched.shape == (7, 8) and h1.shape == (2, 8)


@pytest.mark.parametrize("cell,double", CASES, ids=CASE_IDS)
def test_state_carry_over_equals_one_long_call(cell, double):
    net = make_net(cell, double)
    x = torch.randn(10, 4, 3, dtype=torch.float64)
    out, (h, c) = net(x)
    out1, state1 = net(x[:4])
    out2, (h2, c2) = net(x[4:], state1)
    torch.testing.assert_close(torch.cat([out1, out2]), out)
    torch.testing.assert_close(h2, h)
    torch.testing.assert_close(c2, c)


@pytest.mark.parametrize("cell,double", CASES, ids=CASE_IDS)
def test_reset_mask_equals_separate_calls(cell, double):
    net = make_net(cell, double)
    x = torch.randn(9, 4, 3, dtype=torch.float64)
    state = (torch.randn(2, 4, 8, dtype=torch.float64), torch.randn(2, 4, 8, dtype=torch.float64))
    reset = torch.zeros(9, 4, dtype=torch.bool)
    reset[5, 1] = reset[2, 2] = reset[7, 2] = reset[0, 3] = True
    out, (h, c) = net(x, state, reset_mask=reset)
    ref_out, (ref_h, ref_c) = step_by_step(net, x, state, reset)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_h)
    torch.testing.assert_close(c, ref_c)


@pytest.mark.parametrize("cell,double", CASES, ids=CASE_IDS)
def test_lengths_and_packed_sequence(cell, double):
    net = make_net(cell, double)
    seqs = [torch.randn(n, 3, dtype=torch.float64) for n in (6, 2, 4)]
    padded = torch.nn.utils.rnn.pad_sequence(seqs)
    out, (h, _) = net(padded, lengths=torch.tensor([6, 2, 4]))
    for b, seq in enumerate(seqs):
        ref, (ref_h, _) = net(seq.unsqueeze(1))
        torch.testing.assert_close(out[: len(seq), b], ref[:, 0])
        torch.testing.assert_close(h[:, b], ref_h[:, 0])
        assert out[len(seq) :, b].abs().max() == 0 if len(seq) < 6 else True
    packed_out, (packed_h, _) = net(pack_sequence(seqs, enforce_sorted=False))
    torch.testing.assert_close(packed_h, h)
    assert isinstance(packed_out, torch.nn.utils.rnn.PackedSequence)


@pytest.mark.parametrize("cell,double", CASES, ids=CASE_IDS)
def test_gradcheck_float64(cell, double):
    torch.manual_seed(0)
    kwargs = CELL_KWARGS.get(cell, {})
    net = RecurrentNet(cell, 2, 4, num_layers=2, double=double, **kwargs).to(torch.float64)
    x = torch.randn(5, 3, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    reset = torch.zeros(5, 3, dtype=torch.bool)
    reset[2, 1] = True

    def fn(x, h0, c0):
        out, (h, c) = net(x, (h0, c0), reset_mask=reset)
        return out, h, c

    assert torch.autograd.gradcheck(fn, (x, h0, c0))


@pytest.mark.parametrize("scan,widths", [(mgu_scan, (2, 1, 1)), (brc_scan, (3, 0, 0)), (gru_scan, (3, 3, 3))],
                         ids=["mgu", "brc", "gru"])
def test_fused_scans_gradcheck_weights(scan, widths):
    torch.manual_seed(1)
    steps, batch, hidden = 4, 3, 3
    x = torch.randn(steps, batch, widths[0] * hidden, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(batch, hidden, dtype=torch.float64, requires_grad=True)
    if scan is mgu_scan:
        weights = [torch.randn(hidden, hidden, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    elif scan is gru_scan:
        weights = [torch.randn(3 * hidden, hidden, dtype=torch.float64, requires_grad=True),
                   torch.randn(3 * hidden, dtype=torch.float64, requires_grad=True)]
    else:
        weights = [torch.randn(hidden, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    assert torch.autograd.gradcheck(scan, (x, h0, *weights))


def test_nbrc_scan_gradcheck_weights():
    torch.manual_seed(2)
    x = torch.randn(4, 3, 9, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(nbrc_scan, (x, h0, w))


def test_chrono_bias_is_exact():
    torch.manual_seed(0)
    net = RecurrentNet("chrono", 2, 16, t_max=100)
    rnn = net.layers[0].rnn
    total = rnn.bias_ih_l0 + rnn.bias_hh_l0
    forget = total[16:32]
    assert torch.all(forget >= 0) and torch.all(forget <= torch.log(torch.tensor(99.0)) + 1e-6)
    torch.testing.assert_close(total[:16], -forget)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(cell="rnn", input_size=2, hidden_size=4), ValueError, "unknown cell 'rnn'"),
        (dict(cell="gru", input_size=2, hidden_size=0), ValueError, "hidden_size must be >= 1, got 0"),
        (dict(cell="gru", input_size=2, hidden_size=5, double=True), ValueError, "even hidden_size, got 5"),
        (dict(cell="chrono", input_size=2, hidden_size=4), ValueError, "t_max"),
        (dict(cell="gru", input_size=2, hidden_size=4, t_max=3), TypeError, "t_max"),
        (dict(cell="gru", input_size=2.5, hidden_size=4), TypeError, "input_size must be an int"),
    ],
    ids=["unknown-cell", "hidden-0", "odd-double", "chrono-no-tmax", "gru-tmax", "float-size"],
)
def test_bad_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        RecurrentNet(**kwargs)


def test_bad_forward_input():
    net = RecurrentNet("gru", 3, 4)
    with pytest.raises(ValueError, match="Expected 3, got 2"):
        net(torch.zeros(5, 2, 2))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        net(torch.zeros(5, 2, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match="reset_mask must have shape"):
        net(torch.zeros(5, 2, 3), reset_mask=torch.zeros(5, 3))
    with pytest.raises(ValueError, match="lengths must lie in"):
        net(torch.zeros(5, 2, 3), lengths=torch.tensor([0, 5]))


def test_cpu_gru_scan_matches_torch_gru():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 3, 6).to(torch.float64)
    x = torch.randn(8, 4, 3, dtype=torch.float64)
    h0 = torch.randn(1, 4, 6, dtype=torch.float64)
    out, (h, _) = net(x, (h0, torch.zeros_like(h0)))
    ref, ref_h = net.layers[0].rnn(x, h0)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(h, ref_h)


@pytest.mark.parametrize("cell", ["gru", "mgu", "brc", "nbrc"])
def test_double_layer_merged_scan_matches_separate_halves(cell):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 3, 8, double=True).to(torch.float64)
    layer = net.layers[0]
    x = torch.randn(6, 5, 3, dtype=torch.float64)
    h0 = torch.randn(5, 8, dtype=torch.float64)
    c0 = torch.zeros(5, 8, dtype=torch.float64)
    out, (h, _) = layer(x, (h0, c0), None)
    out_w, (h_w, _) = layer.warm(x, (h0[:, :4], c0[:, :4]), None)
    out_c, (h_c, _) = layer.cold(x, (h0[:, 4:], c0[:, 4:]), None)
    torch.testing.assert_close(out, torch.cat([out_w, out_c], -1))
    torch.testing.assert_close(h, torch.cat([h_w, h_c], -1))
    grads = torch.autograd.grad(out.pow(2).sum(), list(layer.parameters()))
    ref = torch.autograd.grad(out_w.pow(2).sum() + out_c.pow(2).sum(), list(layer.parameters()))
    for got, expected in zip(grads, ref, strict=True):
        torch.testing.assert_close(got, expected)


def test_double_layer_inference_cache_follows_parameter_updates():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 3, 8, double=True)
    x = torch.randn(1, 4, 3)
    with torch.no_grad():
        before, _ = net(x)
        assert torch.equal(net(x)[0], before)  # cached merge reused
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net(torch.randn(5, 4, 3))[0].pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        after, _ = net(x)
    torch.testing.assert_close(after, net(x)[0])  # with autograd: merged afresh
    assert not torch.allclose(after, before)
    net.load_state_dict({k: torch.zeros_like(v) for k, v in net.state_dict().items()})
    with torch.no_grad():
        assert torch.count_nonzero(net(x)[0]) == 0


@pytest.mark.parametrize(
    ("cell", "kind", "merged"),
    [("lstm", "torch_rnn", False), ("chrono", "torch_rnn", False), ("gru", "torchscript", True),
     ("mgu", "torchscript", True), ("brc", "torchscript", True), ("nbrc", "torchscript", True)],
)
def test_select_backend_on_cpu(cell, kind, merged):
    backend = select_backend(cell, "cpu")
    assert (backend.kind, backend.variant, backend.merged_halves) == (kind, None, merged)


def test_select_backend_rejects_unknown_cell():
    with pytest.raises(ValueError, match="'rnn'"):
        select_backend("rnn", "cpu")


@pytest.mark.parametrize(
    "kwargs,error,bad",
    [
        (dict(double="no"), TypeError, "'no'"),
        (dict(double=1), TypeError, "1"),
        (dict(hidden_size=0), ValueError, "0"),
        (dict(hidden_size=8.0), TypeError, "8.0"),
        (dict(num_layers=0), ValueError, "0"),
        (dict(input_size=0), ValueError, "0"),
        (dict(cell="chrono", t_max=float("inf")), ValueError, "inf"),
        (dict(cell="chrono", t_max=float("nan")), ValueError, "nan"),
        (dict(cell="chrono", t_max=1), ValueError, "1"),
        (dict(cell="chrono", t_max="x"), TypeError, "'x'"),
    ],
    ids=["double-str", "double-int", "hidden-0", "hidden-float", "layers-0", "input-0", "tmax-inf", "tmax-nan",
         "tmax-1", "tmax-str"],
)
def test_bad_constructor_arguments_name_the_value(kwargs, error, bad):
    arguments = dict(cell="gru", input_size=2, hidden_size=4)
    arguments.update(kwargs)
    name = next(iter(kwargs)) if "t_max" not in kwargs else "t_max"
    with pytest.raises(error, match=name) as info:
        RecurrentNet(**arguments)
    assert bad in str(info.value)
    assert "Trace" not in str(info.value)


def test_layers_check_their_sizes():
    from warm_rl.cells import make_layer
    from warm_rl.double_layer import DoubleLayer

    with pytest.raises(ValueError, match="hidden_size must be >= 1, got 0"):
        make_layer("mgu", 2, 0)
    with pytest.raises(TypeError, match="input_size must be an int, got float 2.0"):
        DoubleLayer("gru", 2.0, 4)


@pytest.mark.parametrize(
    "call,error,bad",
    [
        (lambda net: net(torch.zeros(5, 2, 3, dtype=torch.float64)), TypeError, "torch.float64"),
        (lambda net: net(torch.zeros(5, 2, 3), (torch.zeros(1, 2, 4, dtype=torch.float64),) * 2), TypeError,
         "torch.float64"),
        (lambda net: net.to(torch.float64)(torch.zeros(5, 2, 3)), TypeError, "torch.float32"),
        (lambda net: net(torch.zeros(0, 2, 3)), ValueError, "(0, 2, 3)"),
        (lambda net: net(torch.zeros(0, 3)), ValueError, "(0, 1, 3)"),
        (lambda net: net(torch.zeros(5, 2, 3), reset_mask=torch.full((5, 2), 2.0)), ValueError, "2.0"),
        (lambda net: net(torch.zeros(5, 2, 3), reset_mask=torch.full((5, 2), -1)), ValueError, "-1"),
        (lambda net: net(torch.zeros(5, 2, 3), lengths=torch.tensor([2.5, 3.0])), TypeError, "2.5"),
        (lambda net: net(torch.zeros(5, 2, 3), lengths=[True, True]), TypeError, "torch.bool"),
    ],
    ids=["x-float64", "h0-float64", "net-float64", "t-0", "t-0-unbatched", "mask-2", "mask-minus-1",
         "lengths-float", "lengths-bool"],
)
@pytest.mark.parametrize("cell", ["gru", "lstm", "mgu"])
def test_bad_forward_input_names_the_value(cell, call, error, bad):
    net = RecurrentNet(cell, 3, 4)
    with pytest.raises(error) as info:
        call(net)
    assert bad in str(info.value)
    assert "mat1" not in str(info.value)


def test_integer_input_and_01_mask_are_accepted():
    net = RecurrentNet("gru", 3, 4)
    x = torch.ones(5, 2, 3, dtype=torch.long)
    mask = torch.tensor([[1, 0], [0, 1], [0, 0], [1, 0], [0, 0]])
    out, _ = net(x, reset_mask=mask)
    expected, _ = net(x.float(), reset_mask=mask.bool())
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("cell", ["lstm", "gru", "mgu", "brc", "nbrc"])
def test_initialisations_set_what_they_name(cell):
    from warm_rl.inits import CHRONO_CELLS, initialise

    torch.manual_seed(0)
    net = initialise(RecurrentNet(cell, 3, 8, double=True), "paper_gru")
    for name, param in net.named_parameters():
        if "bias" in name:
            assert torch.count_nonzero(param) == 0, name
    if cell in ("lstm", "gru"):
        weight = net.layers[0].warm.rnn.weight_hh_l0[:4]
        assert torch.allclose(weight @ weight.T, torch.eye(4), atol=1e-5), "each gate block orthogonal"
    if cell in CHRONO_CELLS:
        initialise(net, "chrono", t_max=100)
    else:
        with pytest.raises(ValueError, match="chrono initialisation needs a gated memory"):
            initialise(net, "chrono", t_max=100)
    if cell == "gru":
        bias = net.layers[0].cold.rnn.bias_ih_l0[4:8]  # the update gate z of the 4-wide cold half
        assert bool(((bias >= 0) & (bias <= math.log(99) + 1e-6)).all())
    with pytest.raises(ValueError, match="initialisation"):
        initialise(net, "xavier")
    with pytest.raises(ValueError, match="t_max"):
        initialise(RecurrentNet("lstm", 3, 8), "chrono")

"""CUDA paths: Triton scans, every cell on the GPU vs the CPU, warm-up, training, agents.

Skipped where torch sees no GPU (CI); run on a GPU machine with
``python -m pytest -q tests/test_cuda.py``.
"""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
import torch

from warm_rl import CELL_NAMES, RecurrentNet, WarmupConfig, backends, vaa, warm_up
from warm_rl import torchscript_scans as kernels
from warm_rl.suite.data import make_benchmark
from warm_rl.suite.trainer import TrainConfig, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
needs_triton = pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="needs Triton")
CUDA = torch.device("cuda")


@pytest.fixture(autouse=True)
def exact_float32():
    """Full fp32 products on the GPU (torch's cuDNN RNNs and our scans use TF32 by default)."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


# (name, TorchScript scan, number of input projections, recurrent argument shapes given H)
SCANS = [
    ("mgu", lambda *a: kernels._MGUScan.apply(*a), 2, lambda h: [(h, h), (h, h)]),
    ("brc", lambda *a: kernels._BRCScan.apply(*a, False), 3, lambda h: [(h,), (h,)]),
    ("nbrc", lambda x, h0, w: kernels._BRCScan.apply(x, h0, w, w.new_empty(0), True), 3, lambda h: [(2 * h, h)]),
]


def _scan_inputs(gates, shapes, steps, batch, hidden, seed=0):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(steps, batch, gates * hidden, generator=gen)
    h0 = 0.5 * torch.randn(batch, hidden, generator=gen)
    weights = [torch.randn(*s, generator=gen) / hidden**0.5 for s in shapes(hidden)]
    return [t.to(CUDA) for t in (x, h0, *weights)]


@needs_triton
@pytest.mark.parametrize("steps,batch,hidden", [(9, 5, 20), (40, 33, 128), (12, 16, 256)])
@pytest.mark.parametrize("name,reference,gates,shapes", SCANS, ids=[s[0] for s in SCANS])
def test_triton_scan_matches_torchscript_scan(name, reference, gates, shapes, steps, batch, hidden):
    from warm_rl import triton_scans

    fused = getattr(triton_scans, f"{name}_scan")
    inputs = _scan_inputs(gates, shapes, steps, batch, hidden)
    ref_args = [t.clone().requires_grad_(True) for t in inputs]
    new_args = [t.clone().requires_grad_(True) for t in inputs]
    ref_out, new_out = reference(*ref_args), fused(*new_args)
    torch.testing.assert_close(new_out, ref_out, rtol=1e-4, atol=1e-5)
    weights = torch.randn_like(ref_out)
    (ref_out * weights).sum().backward()
    (new_out * weights).sum().backward()
    for ref, new in zip(ref_args, new_args, strict=True):
        torch.testing.assert_close(new.grad, ref.grad, rtol=1e-3, atol=1e-4)


@needs_triton
@pytest.mark.parametrize("name,reference,gates,shapes", SCANS, ids=[s[0] for s in SCANS])
def test_triton_scan_in_tf32_stays_close(name, reference, gates, shapes, monkeypatch):
    from warm_rl import triton_scans

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert triton_scans.dot_precision() == "tf32"
    inputs = _scan_inputs(gates, shapes, 100, 32, 128)
    torch.testing.assert_close(getattr(triton_scans, f"{name}_scan")(*inputs), reference(*inputs),
                               rtol=0.0, atol=2e-2)


@needs_triton
def test_scans_dispatch_to_triton_on_cuda_float32_only(monkeypatch):
    x = torch.zeros(3, 2, 8, device=CUDA)
    assert backends.triton_scans_for(x) is not None
    assert backends.triton_scans_for(x.double()) is None
    assert backends.triton_scans_for(x.cpu()) is None
    monkeypatch.setenv("WARM_RL_NO_TRITON", "1")
    assert backends.triton_scans_for(x) is None


@needs_triton
def test_select_backend_on_cuda():
    assert backends.select_backend("gru", CUDA).kind == "torch_rnn"
    assert backends.select_backend("lstm", CUDA).kind == "torch_rnn"
    assert backends.select_backend("mgu", CUDA, torch.float64).kind == "torchscript"
    for cell in ("mgu", "brc", "nbrc"):
        backend = backends.select_backend(cell, CUDA)
        assert backend.kind == "triton" and not backend.merged_halves
        assert backend.variant in (("register", "sliced") if cell == "mgu" else ("sliced",))


@pytest.mark.parametrize("double", [False, True], ids=["single", "double"])
@pytest.mark.parametrize("cell", CELL_NAMES)
def test_every_cell_on_cuda_matches_cpu(cell, double):
    torch.manual_seed(0)
    kwargs = {"t_max": 20} if cell == "chrono" else {}
    net = RecurrentNet(cell, 3, 32, num_layers=2, double=double, **kwargs)
    gpu_net = copy.deepcopy(net).to(CUDA)
    x = torch.randn(25, 6, 3)
    lengths = torch.tensor([25, 3, 17, 25, 1, 9])
    resets = torch.zeros(25, 6, dtype=torch.bool)
    resets[[4, 11, 20], [0, 3, 5]] = True
    out, (h, c) = net(x, lengths=lengths)
    gpu_out, (gpu_h, gpu_c) = gpu_net(x.to(CUDA), lengths=lengths)
    torch.testing.assert_close(gpu_out.cpu(), out, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gpu_h.cpu(), h, rtol=1e-4, atol=1e-5)
    state = (torch.randn(2, 6, 32), torch.randn(2, 6, 32))  # given states: double halves are slices of them
    state_out, (state_h, _) = net(x, state)
    gpu_state_out, (gpu_state_h, _) = gpu_net(x.to(CUDA), tuple(s.to(CUDA) for s in state))
    torch.testing.assert_close(gpu_state_out.cpu(), state_out, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gpu_state_h.cpu(), state_h, rtol=1e-4, atol=1e-5)
    reset_out, _ = net(x, reset_mask=resets)
    gpu_reset_out, _ = gpu_net(x.to(CUDA), reset_mask=resets.to(CUDA))
    torch.testing.assert_close(gpu_reset_out.cpu(), reset_out, rtol=1e-4, atol=1e-5)
    out.square().sum().backward()
    gpu_out.square().sum().backward()
    for (name, p), gpu_p in zip(net.named_parameters(), gpu_net.parameters(), strict=True):
        torch.testing.assert_close(gpu_p.grad.cpu(), p.grad, rtol=1e-3, atol=1e-4, msg=name)


@pytest.mark.parametrize("cell", ["gru", "mgu"])
def test_warm_up_on_cuda_makes_the_network_multistable(cell):
    torch.manual_seed(1)
    net = RecurrentNet(cell, 1, 32).to(CUDA)
    data = make_benchmark("copy", seq_length=50, train_size=100, val_size=8, test_size=8, device="cuda")
    sequences = (data.train.inputs, torch.full((100,), 50, device=CUDA))
    before = vaa(net, sequences, horizon=1000, seed=0)
    warm_up(net, sequences, WarmupConfig(seed=1))
    after = vaa(net, sequences, horizon=1000, seed=0)
    assert before <= 0.05
    assert after >= 0.5
    assert next(net.parameters()).device.type == "cuda"


def test_supervised_training_on_cuda_resumes(tmp_path):
    data = make_benchmark("copy", seq_length=20, train_size=256, val_size=64, test_size=64, device="cuda")
    config = TrainConfig(cell="mgu", hidden_size=16, epochs=2, device="cuda", pretrain="double",
                         warmup_config={"updates": 5}, vaa_samples=16, vaa_horizon=50, progress=False,
                         checkpoint=str(tmp_path / "run.pt"))
    first = train(config, data.train, data.val, data.test)
    assert np.isfinite(first.test_metric)
    longer = TrainConfig(**{**config.to_dict(), "epochs": 3})
    resumed = train(longer, data.train, data.val, data.test)
    assert [h["epoch"] for h in resumed.history] == list(range(0, 4))
    assert [h["val_metric"] for h in resumed.history[:3]] == [h["val_metric"] for h in first.history]


def test_agent_on_cuda_learns_saves_and_loads(tmp_path, assert_same_greedy_actions):
    pytest.importorskip("sb3_contrib")
    from stable_baselines3.common.env_util import make_vec_env

    import envs  # noqa: F401
    from agents import WarmRecurrentPPO

    env = make_vec_env("warm_rl/TMaze-v0", n_envs=2, seed=0, env_kwargs={"length": 4})
    model = WarmRecurrentPPO(
        "MlpWarmPolicy", env, device="cuda", warmup_env_steps=64, vaa_horizon=50, n_steps=16, batch_size=32,
        n_epochs=1, seed=0,
        policy_kwargs={"cell": "mgu", "hidden_size": 8, "warmup": {"updates": 3, "batch_size": 8, "max_horizon": 20}},
    )
    model.learn(64)
    assert next(model.policy.parameters()).device.type == "cuda"
    model.save(tmp_path / "m.zip")
    loaded = WarmRecurrentPPO.load(tmp_path / "m.zip", device="cuda")
    assert_same_greedy_actions(model, loaded, env)

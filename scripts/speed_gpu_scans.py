"""GPU scans of MGU, BRC and nBRC: TorchScript vs the Triton kernels' launch variants.

    python scripts/speed_gpu_scans.py                  # T=300, B=32, H=128 and 256
    python scripts/speed_gpu_scans.py --hidden 128 --steps 784

Prints, per cell and width, the forward and forward+backward time (CUDA events,
median of repeats) of the TorchScript scan (``warm_rl.torchscript_scans``) and of the
Triton kernels (``warm_rl.triton_scans``) for every combination of: recurrent
matrices held in registers or read in slices, full fp32 (``ieee``) or TF32
products, 4 or 8 warps; then ``nn.GRU`` (cuDNN) on the same shape. A variant
that does not fit the GPU (shared memory) is reported as such. The library's
own choice is ``warm_rl.triton_scans.register_resident`` (reported by ``warm_rl.backends.select_backend``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable

import torch

from warm_rl import torchscript_scans as kernels


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def _inputs(cell: str, steps: int, batch: int, hidden: int, device: torch.device) -> list[torch.Tensor]:
    gates = 2 if cell == "mgu" else 3
    x = torch.randn(steps, batch, gates * hidden, device=device)
    h0 = 0.5 * torch.randn(batch, hidden, device=device)
    if cell == "mgu":
        weights = [torch.randn(hidden, hidden, device=device) / hidden**0.5 for _ in range(2)]
    elif cell == "brc":
        weights = [torch.randn(hidden, device=device), torch.randn(hidden, device=device)]
    else:
        weights = [torch.randn(2 * hidden, hidden, device=device) / hidden**0.5]
    return [x, h0, *weights]


TORCHSCRIPT_SCANS: dict[str, Callable[..., torch.Tensor]] = {
    "mgu": lambda *a: kernels._MGUScan.apply(*a),
    "brc": lambda *a: kernels._BRCScan.apply(*a, False),
    "nbrc": lambda x, h, w: kernels._BRCScan.apply(x, h, w, w.new_empty(0), True),
}


def _time_scan(scan: Callable[..., torch.Tensor], args: list[torch.Tensor], repeats: int) -> tuple[float, float]:
    leaves = [a.clone().requires_grad_(True) for a in args]

    def forward():
        with torch.no_grad():
            scan(*args)

    def forward_backward():
        scan(*leaves).sum().backward()

    return _median_ms(forward, repeats), _median_ms(forward_backward, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("error: needs a CUDA device", file=sys.stderr)
        return 2
    from warm_rl import triton_scans

    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; T={args.steps}, B={args.batch}\n")
    print("| cell | H | scan | fwd ms | fwd+bwd ms | max diff to fp32 |")
    print("|---|---|---|---|---|---|")
    for hidden in args.hidden:
        for cell in ("mgu", "nbrc", "brc"):
            inputs = _inputs(cell, args.steps, args.batch, hidden, device)
            fwd, both = _time_scan(TORCHSCRIPT_SCANS[cell], inputs, args.repeats)
            print(f"| {cell} | {hidden} | TorchScript | {fwd:.2f} | {both:.2f} | |", flush=True)
            fused = getattr(triton_scans, f"{cell}_scan")
            triton_scans.PRECISION, triton_scans.RESIDENT_MAX_WIDTH = "ieee", 0
            with torch.no_grad():
                exact = fused(*inputs)
            # registers: MGU in TF32 only (the launcher's rule: fp32 spills, the nBRC backward
            # does not fit in shared memory, BRC has no matrices)
            variants = [(False, "ieee"), (False, "tf32")] + ([(True, "tf32")] if cell == "mgu" else [])
            for resident, precision in variants:
                for warps in (4, 8):
                    triton_scans.PRECISION, triton_scans.NUM_WARPS = precision, warps
                    triton_scans.RESIDENT_MAX_WIDTH = 1 << 30 if resident else 0  # H=256 may not fit
                    label = f"Triton {'registers' if resident else 'slices'} {precision} {warps} warps"
                    try:
                        fwd, both = _time_scan(fused, inputs, args.repeats)
                        with torch.no_grad():
                            diff = (fused(*inputs) - exact).abs().max().item()
                    except Exception as error:  # out of shared memory / registers
                        print(f"| {cell} | {hidden} | {label} | does not fit: {type(error).__name__} | | |")
                        continue
                    print(f"| {cell} | {hidden} | {label} | {fwd:.2f} | {both:.2f} | {diff:.1e} |", flush=True)
            triton_scans.PRECISION = triton_scans.NUM_WARPS = None
            triton_scans.RESIDENT_MAX_WIDTH = 128
        gru = torch.nn.GRU(1, hidden).to(device)
        x = torch.randn(args.steps, args.batch, 1, device=device)
        both = _median_ms(lambda gru=gru, x=x: gru(x)[0].sum().backward(), args.repeats)
        print(f"| gru | {hidden} | nn.GRU (cuDNN) | | {both:.2f} | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

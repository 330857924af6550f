"""Check the Triton scans of ``warm_rl.triton_scans`` without a GPU, in Triton's CPU interpreter.

Runs the MGU, BRC and nBRC kernels, forward and backward, in every variant the launcher can pick
(matrices read in slices or held in registers, ieee or tf32 products: the interpreter computes
both exactly) and compares outputs and gradients with the TorchScript scans of
``warm_rl.torchscript_scans``. Needs the ``triton`` package (torch's CUDA builds ship it; on a CPU-only
install ``pip install triton``); sets ``TRITON_INTERPRET=1`` itself. Exit status 1 on a mismatch.

    python scripts/check_triton_interpreter.py
"""

from __future__ import annotations

import os
import sys

os.environ["TRITON_INTERPRET"] = "1"  # before triton is imported

import torch  # noqa: E402

from warm_rl import torchscript_scans as kernels  # noqa: E402

SCANS = [  # name, reference, gates per step, recurrent weight shapes for width h
    ("mgu", kernels.mgu_scan, 2, lambda h: [(h, h), (h, h)]),
    ("brc", kernels.brc_scan, 3, lambda h: [(h,), (h,)]),
    ("nbrc", kernels.nbrc_scan, 3, lambda h: [(2 * h, h)]),
]
SHAPES = [(5, 5, 20), (4, 17, 40)]  # (T, B, H): a partial batch block, padded widths
TOLERANCE = 1e-4


def max_error(name: str, reference, gates: int, shapes, steps: int, batch: int, hidden: int) -> float:
    """Largest absolute difference of output and input gradients, Triton vs TorchScript."""
    from warm_rl import triton_scans

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(steps, batch, gates * hidden, generator=gen)
    h0 = 0.5 * torch.randn(batch, hidden, generator=gen)
    weights = [torch.randn(*shape, generator=gen) / hidden**0.5 for shape in shapes(hidden)]
    ref_args = [t.clone().requires_grad_(True) for t in (x, h0, *weights)]
    new_args = [t.clone().requires_grad_(True) for t in (x, h0, *weights)]
    ref_out = reference(*ref_args)
    new_out = getattr(triton_scans, f"{name}_scan")(*new_args)
    grad = torch.randn(ref_out.shape, generator=gen)
    (ref_out * grad).sum().backward()
    (new_out * grad).sum().backward()
    errors = [(new_out - ref_out).abs().max()]
    errors += [(new.grad - ref.grad).abs().max() for ref, new in zip(ref_args, new_args, strict=True)]
    return float(max(errors))


def main() -> int:
    try:
        from warm_rl import triton_scans
    except ImportError as error:
        print(f"Triton is not installed ({error}); pip install triton", file=sys.stderr)
        return 2
    failures = 0
    shared_memory_needed = triton_scans.RESIDENT_SHARED_MEMORY
    for resident in (False, True):  # CPU tensors report no shared memory: asking for none makes them resident
        triton_scans.RESIDENT_SHARED_MEMORY = 0 if resident else shared_memory_needed
        for precision in ("ieee", "tf32"):
            triton_scans.PRECISION = precision
            for name, reference, gates, shapes in SCANS:
                for steps, batch, hidden in SHAPES:
                    error = max_error(name, reference, gates, shapes, steps, batch, hidden)
                    ok = error < TOLERANCE
                    failures += not ok
                    where = "registers" if resident else "slices"
                    print(f"{name:4s} {where:9s} {precision} T={steps} B={batch} H={hidden}: "
                          f"max error {error:.1e} {'ok' if ok else 'MISMATCH'}", flush=True)
    print("all match" if not failures else f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

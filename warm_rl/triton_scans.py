"""GPU time scans of the MGU, BRC and nBRC recurrences as single Triton kernels.

On a GPU the TorchScript scans of :mod:`warm_rl.torchscript_scans` launch about ten tiny
kernels per time step forward and as many backward; at batch 32 and width 128
each does almost nothing, so a 300-step sequence costs thousands of launches
(MGU forward + backward 71 ms on an H100). Here the whole time loop of one
block of 16 sequences runs inside one kernel, the state in registers:

* products in TF32 when ``torch.backends.cudnn.allow_tf32`` is set (torch's
  default, under which torch's own cuDNN GRU and LSTM use TF32 too), in full
  fp32 (``input_precision="ieee"``) when it is not;
* in TF32 the MGU's two recurrent matrices (width up to 128) are loaded once
  and stay in registers (2.2 ms forward + backward at T=300, B=32, H=128;
  ``nn.GRU`` 1.5 ms);
* otherwise they are read from the L2 cache at every step in ``BLOCK_K``-wide
  slices, and the previous state (or gate product) is read back in slices
  from the buffer the kernel has just written, behind a block-wide barrier;
  any width works (tiles padded to a power of two of at least 16, masked).

Each forward kernel writes the gates its backward needs; each backward kernel
runs the time loop in reverse and returns the gradients of the input
projections and of the initial state. The recurrent weight gradients are then
summed over all time steps with one matmul, as in :mod:`warm_rl.torchscript_scans`.
Timings of every variant: ``scripts/speed_gpu_scans.py``.

Used by :func:`warm_rl.torchscript_scans.mgu_scan`, :func:`~warm_rl.torchscript_scans.brc_scan`
and :func:`~warm_rl.torchscript_scans.nbrc_scan` for float32 CUDA tensors when Triton
is installed (it ships with torch's CUDA builds on Linux); set the environment
variable ``WARM_RL_NO_TRITON=1`` to use the TorchScript scans instead.
"""

from __future__ import annotations

import contextlib

import torch
import triton
import triton.language as tl
from torch import Tensor

BLOCK_B = 16  # batch rows per program (tl.dot needs at least 16)
BLOCK_K = 32  # width of the reduction slices
RESIDENT_MAX_WIDTH = 128  # up to this (padded) width the recurrent matrices stay in registers
RESIDENT_SHARED_MEMORY = 232448  # bytes per block they were measured to fit in (H100)
NUM_WARPS: int | None = None  # None: by width
PRECISION: str | None = None  # None: dot_precision()


@triton.jit
def _tanh(x):
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _block_tiles(B, H, GATES: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr):
    """This program's ``BB`` batch rows and ``BH`` (padded) hidden columns.

    Returns the row and column indices, their masks, the ``(BB, BH)`` mask of the tile, and the
    tile's offsets in a ``(B, H)`` buffer and in the first gate of a ``(B, GATES * H)`` one.
    """
    rows = tl.program_id(0) * BB + tl.arange(0, BB)
    cols = tl.arange(0, BH)
    row_mask = rows < B
    col_mask = cols < H
    mask = row_mask[:, None] & col_mask[None, :]
    tile = rows[:, None] * H + cols[None, :]
    x_tile = rows[:, None] * (GATES * H) + cols[None, :]
    return rows, cols, row_mask, col_mask, mask, tile, x_tile


@triton.jit
def _slice_matmul(
    left_ptr, left_row_stride, w_ptr, w_row_stride, w_col_stride,
    rows, cols, row_mask, col_mask, H,
    BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
):
    """``left[rows, :H] @ W[:H, cols]`` with ``W[k, j] = w_ptr[k * w_row_stride + j * w_col_stride]``."""
    acc = tl.zeros((BB, BH), dtype=tl.float32)
    for k0 in tl.static_range(0, BH, BK):
        ks = k0 + tl.arange(0, BK)
        k_mask = ks < H
        left = tl.load(left_ptr + rows[:, None] * left_row_stride + ks[None, :],
                       mask=row_mask[:, None] & k_mask[None, :], other=0.0)
        w = tl.load(w_ptr + ks[:, None] * w_row_stride + cols[None, :] * w_col_stride,
                    mask=k_mask[:, None] & col_mask[None, :], other=0.0)
        acc += tl.dot(left, w, input_precision=PREC)
    return acc


@triton.jit
def _slice_product_matmul(
    a_ptr, b_ptr, row_stride, w_ptr, w_row_stride, w_col_stride,
    rows, cols, row_mask, col_mask, H,
    BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
):
    """``(a * b)[rows, :H] @ W[:H, cols]`` (elementwise product of two row-major buffers)."""
    acc = tl.zeros((BB, BH), dtype=tl.float32)
    for k0 in tl.static_range(0, BH, BK):
        ks = k0 + tl.arange(0, BK)
        k_mask = ks < H
        mask = row_mask[:, None] & k_mask[None, :]
        offsets = rows[:, None] * row_stride + ks[None, :]
        left = tl.load(a_ptr + offsets, mask=mask, other=0.0) * tl.load(b_ptr + offsets, mask=mask, other=0.0)
        w = tl.load(w_ptr + ks[:, None] * w_row_stride + cols[None, :] * w_col_stride,
                    mask=k_mask[:, None] & col_mask[None, :], other=0.0)
        acc += tl.dot(left, w, input_precision=PREC)
    return acc


@triton.jit
def _load_matrix(w_ptr, w_row_stride, w_col_stride, H, BH: tl.constexpr):
    """The whole ``W[:H, :H]`` as a zero-padded ``(BH, BH)`` tile (kept in registers)."""
    ks = tl.arange(0, BH)
    mask = (ks[:, None] < H) & (ks[None, :] < H)
    return tl.load(w_ptr + ks[:, None] * w_row_stride + ks[None, :] * w_col_stride, mask=mask, other=0.0)


# --------------------------------------------------------------------------- MGU


@triton.jit
def _mgu_forward_kernel(
    x_ptr, states_ptr, forget_ptr, cand_ptr, u_f_ptr, u_h_ptr, T, B, H,
    BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, RESIDENT: tl.constexpr, PREC: tl.constexpr,
):
    rows, cols, row_mask, col_mask, mask, tile, x_tile = _block_tiles(B, H, 2, BB, BH)
    h = tl.load(states_ptr + tile, mask=mask, other=0.0)
    if RESIDENT:  # W[k, j] = U[j, k]
        u_f_t = _load_matrix(u_f_ptr, 1, H, H, BH)
        u_h_t = _load_matrix(u_h_ptr, 1, H, H, BH)
    for t in range(T):
        prev_ptr = states_ptr + t * B * H
        x_t = x_ptr + t * B * 2 * H
        # f = s(xf + h U_f^T)
        if RESIDENT:
            pre_f = tl.dot(h, u_f_t, input_precision=PREC)
        else:
            pre_f = _slice_matmul(prev_ptr, H, u_f_ptr, 1, H, rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
        f = tl.sigmoid(tl.load(x_t + x_tile, mask=mask, other=0.0) + pre_f)
        tl.store(forget_ptr + t * B * H + tile, f, mask=mask)
        if RESIDENT:
            pre_g = tl.dot(f * h, u_h_t, input_precision=PREC)
        else:
            tl.debug_barrier()
            pre_g = _slice_product_matmul(forget_ptr + t * B * H, prev_ptr, H, u_h_ptr, 1, H,
                                          rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
        g = _tanh(tl.load(x_t + H + x_tile, mask=mask, other=0.0) + pre_g)
        h = h + f * (g - h)
        tl.store(cand_ptr + t * B * H + tile, g, mask=mask)
        tl.store(states_ptr + (t + 1) * B * H + tile, h, mask=mask)
        if not RESIDENT:
            tl.debug_barrier()


@triton.jit
def _mgu_backward_kernel(
    grad_out_ptr, states_ptr, forget_ptr, cand_ptr, u_f_ptr, u_h_ptr, grad_x_ptr, grad_h0_ptr, T, B, H,
    BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, RESIDENT: tl.constexpr, PREC: tl.constexpr,
):
    rows, cols, row_mask, col_mask, mask, tile, x_tile = _block_tiles(B, H, 2, BB, BH)
    dh = tl.zeros((BB, BH), dtype=tl.float32)
    if RESIDENT:
        u_f = _load_matrix(u_f_ptr, H, 1, H, BH)
        u_h = _load_matrix(u_h_ptr, H, 1, H, BH)
    for i in range(T):
        t = T - 1 - i
        dh_new = dh + tl.load(grad_out_ptr + t * B * H + tile, mask=mask, other=0.0)
        f = tl.load(forget_ptr + t * B * H + tile, mask=mask, other=0.0)
        g = tl.load(cand_ptr + t * B * H + tile, mask=mask, other=0.0)
        h = tl.load(states_ptr + t * B * H + tile, mask=mask, other=0.0)
        gx_t = grad_x_ptr + t * B * 2 * H
        da_g = dh_new * f * (1.0 - g * g)
        tl.store(gx_t + H + x_tile, da_g, mask=mask)
        if RESIDENT:
            dr = tl.dot(da_g, u_h, input_precision=PREC)
        else:
            tl.debug_barrier()
            dr = _slice_matmul(gx_t + H, 2 * H, u_h_ptr, H, 1, rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
        da_f = (dh_new * (g - h) + dr * h) * f * (1.0 - f)
        tl.store(gx_t + x_tile, da_f, mask=mask)
        if RESIDENT:
            from_f = tl.dot(da_f, u_f, input_precision=PREC)
        else:
            tl.debug_barrier()
            from_f = _slice_matmul(gx_t, 2 * H, u_f_ptr, H, 1, rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
        dh = dh_new * (1.0 - f) + dr * f + from_f
    tl.store(grad_h0_ptr + tile, dh, mask=mask)


# ---------------------------------------------------------------- BRC and nBRC


@triton.jit
def _brc_forward_kernel(
    x_ptr, states_ptr, gate_c_ptr, gate_a_ptr, cand_ptr, w_c_ptr, w_a_ptr, T, B, H,
    FULL: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
):
    rows, cols, row_mask, col_mask, mask, tile, x_tile = _block_tiles(B, H, 3, BB, BH)
    h = tl.load(states_ptr + tile, mask=mask, other=0.0)
    if not FULL:
        w_c = tl.load(w_c_ptr + cols, mask=col_mask, other=0.0)[None, :]
        w_a = tl.load(w_a_ptr + cols, mask=col_mask, other=0.0)[None, :]
    for t in range(T):
        x_t = x_ptr + t * B * 3 * H
        if FULL:
            # [c, a] pre-activations: h @ W_ca^T, W_ca rows [W_c; W_a]
            prev_ptr = states_ptr + t * B * H
            rec_c = _slice_matmul(prev_ptr, H, w_c_ptr, 1, H, rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
            rec_a = _slice_matmul(prev_ptr, H, w_c_ptr + H * H, 1, H, rows, cols, row_mask, col_mask, H,
                                  BB, BH, BK, PREC)
        else:
            rec_c = w_c * h
            rec_a = w_a * h
        c = tl.sigmoid(tl.load(x_t + x_tile, mask=mask, other=0.0) + rec_c)
        a = 1.0 + _tanh(tl.load(x_t + H + x_tile, mask=mask, other=0.0) + rec_a)
        n = _tanh(tl.load(x_t + 2 * H + x_tile, mask=mask, other=0.0) + a * h)
        h = n + c * (h - n)
        tl.store(gate_c_ptr + t * B * H + tile, c, mask=mask)
        tl.store(gate_a_ptr + t * B * H + tile, a, mask=mask)
        tl.store(cand_ptr + t * B * H + tile, n, mask=mask)
        tl.store(states_ptr + (t + 1) * B * H + tile, h, mask=mask)
        if FULL:
            tl.debug_barrier()


@triton.jit
def _brc_backward_kernel(
    grad_out_ptr, states_ptr, gate_c_ptr, gate_a_ptr, cand_ptr, w_c_ptr, w_a_ptr, grad_x_ptr, grad_h0_ptr,
    T, B, H,
    FULL: tl.constexpr, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
):
    rows, cols, row_mask, col_mask, mask, tile, x_tile = _block_tiles(B, H, 3, BB, BH)
    if not FULL:
        w_c = tl.load(w_c_ptr + cols, mask=col_mask, other=0.0)[None, :]
        w_a = tl.load(w_a_ptr + cols, mask=col_mask, other=0.0)[None, :]
    dh = tl.zeros((BB, BH), dtype=tl.float32)
    for i in range(T):
        t = T - 1 - i
        dh_new = dh + tl.load(grad_out_ptr + t * B * H + tile, mask=mask, other=0.0)
        c = tl.load(gate_c_ptr + t * B * H + tile, mask=mask, other=0.0)
        a = tl.load(gate_a_ptr + t * B * H + tile, mask=mask, other=0.0)
        n = tl.load(cand_ptr + t * B * H + tile, mask=mask, other=0.0)
        h = tl.load(states_ptr + t * B * H + tile, mask=mask, other=0.0)
        dz = dh_new * (1.0 - c) * (1.0 - n * n)
        dpre_a = dz * h * (1.0 - (a - 1.0) * (a - 1.0))
        dpre_c = dh_new * (h - n) * c * (1.0 - c)
        gx_t = grad_x_ptr + t * B * 3 * H
        tl.store(gx_t + x_tile, dpre_c, mask=mask)
        tl.store(gx_t + H + x_tile, dpre_a, mask=mask)
        tl.store(gx_t + 2 * H + x_tile, dz, mask=mask)
        dh = dh_new * c + dz * a
        if FULL:
            tl.debug_barrier()
            dh += _slice_matmul(gx_t, 3 * H, w_c_ptr, H, 1, rows, cols, row_mask, col_mask, H, BB, BH, BK, PREC)
            dh += _slice_matmul(gx_t + H, 3 * H, w_c_ptr + H * H, H, 1, rows, cols, row_mask, col_mask, H,
                                BB, BH, BK, PREC)
        else:
            dh += dpre_c * w_c + dpre_a * w_a
    tl.store(grad_h0_ptr + tile, dh, mask=mask)


# ----------------------------------------------------------------- launching


def dot_precision() -> str:
    """``"tf32"`` when torch lets cuDNN use TF32 (its GRU/LSTM then do), else ``"ieee"``."""
    return "tf32" if torch.backends.cudnn.allow_tf32 else "ieee"


def _shared_memory(device: torch.device) -> int:
    """Bytes of shared memory one block of ``device`` may use (0 when torch does not say)."""
    if device.type != "cuda":  # Triton's interpreter (TRITON_INTERPRET=1) runs on CPU tensors
        return 0
    return getattr(torch.cuda.get_device_properties(device), "shared_memory_per_block_optin", 0)


def _on(device: torch.device) -> contextlib.AbstractContextManager:
    """Makes ``device`` current for a launch (Triton launches on the current device)."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


RESIDENT_CELLS: tuple[str, ...] = ("mgu",)
"""Cells whose kernels may hold the recurrent matrices in registers (BRC has none;
the nBRC backward needs more shared memory than a block has when resident)."""


def register_resident(cell: str, hidden: int, device: torch.device) -> bool:
    """Whether the kernels of ``cell`` at width ``hidden`` hold the matrices in registers.

    From timings on an H100 (T=300, B=32, H=128 and 256): TF32 products with the
    matrices held in registers are fastest (MGU forward + backward 2.2 ms vs
    3.7 ms sliced); in full fp32 the register-resident matrices spill (24 ms), so
    exact products read them in slices (9.9 ms). The register-resident kernels
    were compiled and run on an H100, whose blocks may use 232448 bytes of shared
    memory; on GPUs with less the slices are used. Reported by
    :func:`warm_rl.backends.select_backend`.
    """
    return (cell in RESIDENT_CELLS and (PRECISION or dot_precision()) == "tf32"
            and _block_width(hidden) <= RESIDENT_MAX_WIDTH and _shared_memory(device) >= RESIDENT_SHARED_MEMORY)


def _block_width(hidden: int) -> int:
    return max(16, triton.next_power_of_2(hidden))


def _launch_shape(batch: int, hidden: int, cell: str, device: torch.device) -> tuple[tuple[int], dict]:
    """Grid and meta-parameters of a launch (register or sliced: :func:`register_resident`)."""
    block_h = _block_width(hidden)
    resident = register_resident(cell, hidden, device)
    warps = NUM_WARPS or (4 if resident or block_h < 128 else 8)
    meta = {"BB": BLOCK_B, "BH": block_h, "BK": min(BLOCK_K, block_h), "RESIDENT": resident,
            "PREC": PRECISION or dot_precision(), "num_warps": warps}
    return (triton.cdiv(batch, BLOCK_B),), meta


def _states_buffer(x_proj: Tensor, h0: Tensor) -> Tensor:
    """``(T + 1, B, H)``: ``h0`` then room for every state."""
    states = x_proj.new_empty((x_proj.shape[0] + 1,) + tuple(h0.shape))
    states[0] = h0
    return states


class _TritonMGUScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, u_f: Tensor, u_h: Tensor) -> Tensor:
        x_proj, h0, u_f, u_h = (t.contiguous() for t in (x_proj, h0, u_f, u_h))
        steps, batch = x_proj.shape[:2]
        hidden = h0.shape[-1]
        states = _states_buffer(x_proj, h0)
        forget = x_proj.new_empty((steps, batch, hidden))
        cand = torch.empty_like(forget)
        grid, meta = _launch_shape(batch, hidden, "mgu", x_proj.device)
        with _on(x_proj.device):
            _mgu_forward_kernel[grid](x_proj, states, forget, cand, u_f, u_h, steps, batch, hidden, **meta)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(states, forget, cand, u_f, u_h)
        return states[1:]

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        states, forget, cand, u_f, u_h = ctx.saved_tensors
        steps, batch, hidden = forget.shape
        grad_x = forget.new_empty((steps, batch, 2 * hidden))
        grad_h0 = forget.new_empty((batch, hidden))
        grid, meta = _launch_shape(batch, hidden, "mgu", states.device)
        with _on(states.device):
            _mgu_backward_kernel[grid](grad_out.contiguous(), states, forget, cand, u_f, u_h, grad_x, grad_h0,
                                       steps, batch, hidden, **meta)
        prev = states[:-1].reshape(-1, hidden)
        flat_gx = grad_x.reshape(-1, 2 * hidden)
        grad_u_f = flat_gx[:, :hidden].t() @ prev
        grad_u_h = flat_gx[:, hidden:].t() @ (forget.reshape(-1, hidden) * prev)
        return grad_x, grad_h0, grad_u_f, grad_u_h


class _TritonBRCScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, w_c: Tensor, w_a: Tensor, full: bool) -> Tensor:
        x_proj, h0, w_c, w_a = (t.contiguous() for t in (x_proj, h0, w_c, w_a))
        steps, batch = x_proj.shape[:2]
        hidden = h0.shape[-1]
        states = _states_buffer(x_proj, h0)
        gate_c = x_proj.new_empty((steps, batch, hidden))
        gate_a = torch.empty_like(gate_c)
        cand = torch.empty_like(gate_c)
        grid, meta = _launch_shape(batch, hidden, "nbrc" if full else "brc", x_proj.device)
        meta.pop("RESIDENT")
        w_a_arg = w_c if full else w_a  # unused by the full kernel
        with _on(x_proj.device):
            _brc_forward_kernel[grid](x_proj, states, gate_c, gate_a, cand, w_c, w_a_arg, steps, batch, hidden,
                                      FULL=full, **meta)
        ctx.full = full
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(states, gate_c, gate_a, cand, w_c, w_a)
        return states[1:]

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        states, gate_c, gate_a, cand, w_c, w_a = ctx.saved_tensors
        full = ctx.full
        steps, batch, hidden = gate_c.shape
        grad_x = gate_c.new_empty((steps, batch, 3 * hidden))
        grad_h0 = gate_c.new_empty((batch, hidden))
        grid, meta = _launch_shape(batch, hidden, "nbrc" if full else "brc", states.device)
        meta.pop("RESIDENT")
        with _on(states.device):
            _brc_backward_kernel[grid](grad_out.contiguous(), states, gate_c, gate_a, cand, w_c,
                                       w_c if full else w_a, grad_x, grad_h0, steps, batch, hidden, FULL=full, **meta)
        prev = states[:-1].reshape(-1, hidden)
        flat_gca = grad_x[:, :, : 2 * hidden].reshape(-1, 2 * hidden)
        if full:
            grad_w_c = flat_gca.t() @ prev
            grad_w_a = torch.zeros_like(w_a)
        else:
            grad_w_c = (flat_gca[:, :hidden] * prev).sum(0)
            grad_w_a = (flat_gca[:, hidden:] * prev).sum(0)
        return grad_x, grad_h0, grad_w_c, grad_w_a, None


def mgu_scan(x_proj: Tensor, h0: Tensor, u_f: Tensor, u_h: Tensor) -> Tensor:
    """As :func:`warm_rl.torchscript_scans.mgu_scan`, one Triton kernel each way.

    Shape:
        x_proj ``(T, B, 2H)``, h0 ``(B, H)``, u_f and u_h ``(H, H)``; output ``(T, B, H)``.
    """
    return _TritonMGUScan.apply(x_proj, h0, u_f, u_h)


def brc_scan(x_proj: Tensor, h0: Tensor, w_c: Tensor, w_a: Tensor) -> Tensor:
    """As :func:`warm_rl.torchscript_scans.brc_scan`, one Triton kernel each way.

    Shape:
        x_proj ``(T, B, 3H)``, h0 ``(B, H)``, w_c and w_a ``(H,)``; output ``(T, B, H)``.
    """
    return _TritonBRCScan.apply(x_proj, h0, w_c, w_a, False)


def nbrc_scan(x_proj: Tensor, h0: Tensor, w_ca: Tensor) -> Tensor:
    """As :func:`warm_rl.torchscript_scans.nbrc_scan`, one Triton kernel each way.

    Shape:
        x_proj ``(T, B, 3H)``, h0 ``(B, H)``, w_ca ``(2H, H)``; output ``(T, B, H)``.
    """
    return _TritonBRCScan.apply(x_proj, h0, w_ca, w_ca.new_empty(0), True)

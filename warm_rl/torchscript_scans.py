"""Fused time scans for the MGU, BRC and nBRC recurrences.

A naive implementation of these cells is a Python loop that launches a dozen
tiny kernels per time step and lets autograd record every one of them. Here
each recurrence is split in two:

* the input projections of all time steps are computed by the caller in one
  batched matmul (``x_proj``, shape ``(T, B, k * H)``, biases included);
* the scan over time - only the state-dependent part - runs in TorchScript
  (on a GPU: in one Triton kernel each way, :mod:`warm_rl.triton_scans`),
  forward and backward written out by hand. The backward loop carries only the
  state gradient; the recurrent weight gradients are summed over all time steps
  with one matmul after the loop.

The scans return every hidden state ``h_1 .. h_T`` (shape ``(T, B, H)``); the
caller picks the final state of each sequence from it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from warm_rl.backends import triton_scans_for

# --------------------------------------------------------------------------- MGU


@torch.jit.script
def _mgu_forward(x_proj: Tensor, h0: Tensor, u_f: Tensor, u_h: Tensor, save: bool):
    steps = x_proj.shape[0]
    hidden = h0.shape[-1]
    xf, xh = x_proj.split(hidden, dim=-1)
    u_f_t = u_f.t()
    u_h_t = u_h.t()
    out = x_proj.new_empty((steps,) + h0.shape)
    if save:
        forget = torch.empty_like(out)
        cand = torch.empty_like(out)
    else:
        forget = out.new_empty(0)
        cand = out.new_empty(0)
    h = h0
    for t in range(steps):
        f = torch.sigmoid(torch.addmm(xf[t], h, u_f_t))
        g = torch.tanh(torch.addmm(xh[t], f * h, u_h_t))
        h = torch.lerp(h, g, f)
        out[t] = h
        if save:
            forget[t] = f
            cand[t] = g
    return out, forget, cand


@torch.jit.script
def _mgu_backward(
    grad_out: Tensor, h0: Tensor, out: Tensor, forget: Tensor, cand: Tensor, u_f: Tensor, u_h: Tensor
):
    steps = out.shape[0]
    prev = torch.cat([h0.unsqueeze(0), out[:-1]], dim=0)
    grad_x = grad_out.new_empty(out.shape[:-1] + (2 * out.shape[-1],))
    hidden = out.shape[-1]
    dh = torch.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        dh_new = dh + grad_out[t]
        f = forget[t]
        g = cand[t]
        h = prev[t]
        da_g = dh_new * f * (1.0 - g * g)
        dr = torch.mm(da_g, u_h)
        df = dh_new * (g - h) + dr * h
        da_f = df * f * (1.0 - f)
        dh = dh_new * (1.0 - f) + dr * f + torch.mm(da_f, u_f)
        grad_x[t, :, :hidden] = da_f
        grad_x[t, :, hidden:] = da_g
    flat_prev = prev.reshape(-1, hidden)
    flat_gx = grad_x.reshape(-1, 2 * hidden)
    grad_u_f = torch.mm(flat_gx[:, :hidden].t(), flat_prev)
    grad_u_h = torch.mm(flat_gx[:, hidden:].t(), (forget * prev).reshape(-1, hidden))
    return grad_x, dh, grad_u_f, grad_u_h


class _MGUScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, u_f: Tensor, u_h: Tensor) -> Tensor:
        save = any(ctx.needs_input_grad)
        out, forget, cand = _mgu_forward(x_proj, h0, u_f, u_h, save)
        if save:
            ctx.save_for_backward(h0, out, forget, cand, u_f, u_h)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        h0, out, forget, cand, u_f, u_h = ctx.saved_tensors
        return _mgu_backward(grad_out.contiguous(), h0, out, forget, cand, u_f, u_h)


def mgu_scan(x_proj: Tensor, h0: Tensor, u_f: Tensor, u_h: Tensor) -> Tensor:
    """Runs the MGU recurrence over time.

    ``f = s(xf_t + U_f h)``, ``g = tanh(xh_t + U_h (f * h))``, ``h' = (1 - f) h + f g``.

    Args:
        x_proj: input projections ``[W_f x_t + b_f, W_h x_t + b_h]``.
        h0: initial state.
        u_f: recurrent forget-gate weight.
        u_h: recurrent candidate weight.

    Returns:
        All states ``h_1 .. h_T``.

    Shape:
        x_proj ``(T, B, 2H)``, h0 ``(B, H)``, u_f and u_h ``(H, H)``; output ``(T, B, H)``.
    """
    triton_scans = triton_scans_for(x_proj, h0, u_f, u_h)
    if triton_scans is not None:
        return triton_scans.mgu_scan(x_proj, h0, u_f, u_h)
    return _MGUScan.apply(x_proj, h0, u_f, u_h)


# ---------------------------------------------------------------- BRC and nBRC


@torch.jit.script
def _brc_step(
    xc: Tensor, xa: Tensor, xh: Tensor, h: Tensor, w_c: Tensor, w_a: Tensor, full: bool
):
    if full:
        ca = torch.mm(h, w_c.t())
        hidden = h.shape[-1]
        pre_c = xc + ca[:, :hidden]
        pre_a = xa + ca[:, hidden:]
    else:
        pre_c = xc + w_c * h
        pre_a = xa + w_a * h
    c = torch.sigmoid(pre_c)
    a = 1.0 + torch.tanh(pre_a)
    n = torch.tanh(xh + a * h)
    return torch.lerp(n, h, c), c, a, n


@torch.jit.script
def _brc_forward(x_proj: Tensor, h0: Tensor, w_c: Tensor, w_a: Tensor, full: bool, save: bool):
    steps = x_proj.shape[0]
    hidden = h0.shape[-1]
    xc, xa, xh = x_proj.split(hidden, dim=-1)
    out = x_proj.new_empty((steps,) + h0.shape)
    if save:
        gate_c = torch.empty_like(out)
        gate_a = torch.empty_like(out)
        cand = torch.empty_like(out)
    else:
        gate_c = out.new_empty(0)
        gate_a = out.new_empty(0)
        cand = out.new_empty(0)
    h = h0
    for t in range(steps):
        h, c, a, n = _brc_step(xc[t], xa[t], xh[t], h, w_c, w_a, full)
        out[t] = h
        if save:
            gate_c[t] = c
            gate_a[t] = a
            cand[t] = n
    return out, gate_c, gate_a, cand


@torch.jit.script
def _brc_backward(
    grad_out: Tensor,
    h0: Tensor,
    out: Tensor,
    gate_c: Tensor,
    gate_a: Tensor,
    cand: Tensor,
    w_c: Tensor,
    w_a: Tensor,
    full: bool,
):
    steps = out.shape[0]
    hidden = out.shape[-1]
    prev = torch.cat([h0.unsqueeze(0), out[:-1]], dim=0)
    grad_x = grad_out.new_empty(out.shape[:-1] + (3 * hidden,))
    dh = torch.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        dh_new = dh + grad_out[t]
        c = gate_c[t]
        a = gate_a[t]
        n = cand[t]
        h = prev[t]
        dz = dh_new * (1.0 - c) * (1.0 - n * n)
        dpre_a = dz * h * (1.0 - (a - 1.0) * (a - 1.0))
        dpre_c = dh_new * (h - n) * c * (1.0 - c)
        dh = dh_new * c + dz * a
        if full:
            dh = dh + torch.mm(torch.cat([dpre_c, dpre_a], dim=-1), w_c)
        else:
            dh = dh + dpre_c * w_c + dpre_a * w_a
        grad_x[t, :, :hidden] = dpre_c
        grad_x[t, :, hidden : 2 * hidden] = dpre_a
        grad_x[t, :, 2 * hidden :] = dz
    flat_prev = prev.reshape(-1, hidden)
    flat_gca = grad_x[:, :, : 2 * hidden].reshape(-1, 2 * hidden)
    if full:
        grad_w_c = torch.mm(flat_gca.t(), flat_prev)
        grad_w_a = torch.zeros_like(w_a)
    else:
        grad_w_c = (flat_gca[:, :hidden] * flat_prev).sum(0)
        grad_w_a = (flat_gca[:, hidden:] * flat_prev).sum(0)
    return grad_x, dh, grad_w_c, grad_w_a


class _BRCScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, w_c: Tensor, w_a: Tensor, full: bool) -> Tensor:
        save = any(ctx.needs_input_grad)
        out, gate_c, gate_a, cand = _brc_forward(x_proj, h0, w_c, w_a, full, save)
        ctx.full = full
        if save:
            ctx.save_for_backward(h0, out, gate_c, gate_a, cand, w_c, w_a)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        h0, out, gate_c, gate_a, cand, w_c, w_a = ctx.saved_tensors
        grads = _brc_backward(grad_out.contiguous(), h0, out, gate_c, gate_a, cand, w_c, w_a, ctx.full)
        return (*grads, None)


def brc_scan(x_proj: Tensor, h0: Tensor, w_c: Tensor, w_a: Tensor) -> Tensor:
    """Runs the bistable recurrent cell (BRC) over time.

    ``c = s(xc_t + w_c * h)``, ``a = 1 + tanh(xa_t + w_a * h)``,
    ``h' = c h + (1 - c) tanh(xh_t + a h)``.

    Args:
        x_proj: input projections ``[U_c x + b_c, U_a x + b_a, U_h x + b_h]``.
        h0: initial state.
        w_c: elementwise recurrent weight of the update gate.
        w_a: elementwise recurrent weight of the feedback gate.

    Returns:
        All states ``h_1 .. h_T``.

    Shape:
        x_proj ``(T, B, 3H)``, h0 ``(B, H)``, w_c and w_a ``(H,)``; output ``(T, B, H)``.
    """
    triton_scans = triton_scans_for(x_proj, h0, w_c, w_a)
    if triton_scans is not None:
        return triton_scans.brc_scan(x_proj, h0, w_c, w_a)
    return _BRCScan.apply(x_proj, h0, w_c, w_a, False)


def nbrc_scan(x_proj: Tensor, h0: Tensor, w_ca: Tensor) -> Tensor:
    """Runs the neuromodulated bistable recurrent cell (nBRC) over time.

    As :func:`brc_scan` with full recurrent matrices:
    ``[c_pre, a_pre] = [xc_t, xa_t] + h @ w_ca.T``.

    Args:
        x_proj: input projections ``[U_c x + b_c, U_a x + b_a, U_h x + b_h]``.
        h0: initial state.
        w_ca: the recurrent matrices ``[W_c; W_a]`` stacked.

    Returns:
        All states ``h_1 .. h_T``.

    Shape:
        x_proj ``(T, B, 3H)``, h0 ``(B, H)``, w_ca ``(2H, H)``; output ``(T, B, H)``.
    """
    triton_scans = triton_scans_for(x_proj, h0, w_ca)
    if triton_scans is not None:
        return triton_scans.nbrc_scan(x_proj, h0, w_ca)
    return _BRCScan.apply(x_proj, h0, w_ca, w_ca.new_empty(0), True)


# ------------------------------------------------------------------------- GRU


@torch.jit.script
def _gru_forward(x_proj: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor, save: bool):
    steps = x_proj.shape[0]
    hidden = h0.shape[-1]
    w_hh_t = w_hh.t()
    x_rz, x_n = x_proj.split([2 * hidden, hidden], dim=-1)
    out = x_proj.new_empty((steps,) + h0.shape)
    recurrent = x_proj.new_empty(x_proj.shape) if save else out.new_empty(0)
    h = h0
    for t in range(steps):
        gh = torch.addmm(b_hh, h, w_hh_t)
        gh_rz, gh_n = gh.split([2 * hidden, hidden], dim=1)
        r, z = torch.sigmoid(x_rz[t] + gh_rz).chunk(2, dim=1)
        n = torch.tanh(torch.addcmul(x_n[t], r, gh_n))
        h = torch.lerp(n, h, z)
        out[t] = h
        if save:
            recurrent[t] = gh
    return out, recurrent


@torch.jit.script
def _gru_backward(grad_out: Tensor, x_proj: Tensor, h0: Tensor, out: Tensor, recurrent: Tensor, w_hh: Tensor):
    steps = out.shape[0]
    hidden = out.shape[-1]
    prev = torch.cat([h0.unsqueeze(0), out[:-1]], dim=0)
    # Gates recomputed for all steps at once; every per-step derivative is the incoming
    # state gradient times a factor that depends on the forward pass only.
    x_rz, x_n = x_proj.split([2 * hidden, hidden], dim=-1)
    gh_rz, gh_n = recurrent.split([2 * hidden, hidden], dim=-1)
    r, z = torch.sigmoid(x_rz + gh_rz).chunk(2, dim=-1)
    n = torch.tanh(torch.addcmul(x_n, r, gh_n))
    d_n = (1.0 - z) * (1.0 - n * n)  # d h' / d (pre-activation of n)
    d_z = (prev - n) * z * (1.0 - z)  # d h' / d (pre-activation of z)
    d_r = d_n * gh_n * r * (1.0 - r)  # d h' / d (pre-activation of r)
    to_recurrent = torch.cat([d_r, d_z, d_n * r], dim=-1)
    state_grads = torch.empty_like(out)
    grad_gh = torch.empty_like(to_recurrent)
    dh = torch.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        dh_new = dh + grad_out[t]
        state_grads[t] = dh_new
        g = dh_new.repeat(1, 3) * to_recurrent[t]
        grad_gh[t] = g
        dh = torch.addmm(dh_new * z[t], g, w_hh)
    grad_x = state_grads.repeat(1, 1, 3) * torch.cat([d_r, d_z, d_n], dim=-1)
    flat_gh = grad_gh.reshape(-1, 3 * hidden)
    grad_w_hh = torch.mm(flat_gh.t(), prev.reshape(-1, hidden))
    grad_b_hh = flat_gh.sum(0)
    return grad_x, dh, grad_w_hh, grad_b_hh


class _GRUScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
        save = any(ctx.needs_input_grad)
        out, recurrent = _gru_forward(x_proj, h0, w_hh, b_hh, save)
        if save:
            ctx.save_for_backward(x_proj, h0, out, recurrent, w_hh)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x_proj, h0, out, recurrent, w_hh = ctx.saved_tensors
        return _gru_backward(grad_out.contiguous(), x_proj, h0, out, recurrent, w_hh)


def gru_scan(x_proj: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """Runs torch's GRU recurrence (gate order r, z, n) over time.

    ``r = s(xr_t + W_hr h + b_hr)``, ``z = s(xz_t + W_hz h + b_hz)``,
    ``n = tanh(xn_t + r * (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``; the same
    parameters and results as ``nn.GRU``, used on the CPU where torch has no
    fused GRU kernel.

    Args:
        x_proj: input projections ``W_ih x_t + b_ih``.
        h0: initial state.
        w_hh: recurrent weights ``[W_hr; W_hz; W_hn]``.
        b_hh: recurrent biases.

    Returns:
        All states ``h_1 .. h_T``.

    Shape:
        x_proj ``(T, B, 3H)``, h0 ``(B, H)``, w_hh ``(3H, H)``, b_hh ``(3H,)``;
        output ``(T, B, H)``.
    """
    return _GRUScan.apply(x_proj, h0, w_hh, b_hh)

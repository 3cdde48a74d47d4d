"""Causal-LM loss: mean over trained tokens (labels != -100), docs/SPEC.md §5.

``chunked_linear_cross_entropy`` fuses the output projection with the cross-entropy and walks
the sequence in chunks of ``chunk_size`` tokens: at most ``chunk_size x vocab`` fp32 logits exist
at any time (never ``seq x vocab``), and the gradients for the hidden states and the projection
weight are computed in the same pass (the loss is a scalar, so its backward only scales them).
Liger's fused linear cross-entropy is used instead where ``liger_kernel`` is installed (CUDA).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .export import IGNORE_INDEX

DEFAULT_CHUNK = 1024


class _ChunkedLinearCE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, chunk_size: int):
        n = hidden.shape[0]
        valid = labels != IGNORE_INDEX
        count = int(valid.sum())
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_h = torch.zeros_like(hidden) if need_h else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_w else None
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        if count > 0:
            for start in range(0, n, chunk_size):
                end = min(n, start + chunk_size)
                v = valid[start:end]
                if not bool(v.any()):
                    continue
                h = hidden[start:end]
                y = labels[start:end].long().clamp(min=0)
                logits = (h @ weight.t()).float()                      # [c, V], the only vocab-sized buffer
                lse = torch.logsumexp(logits, dim=-1)
                target_logit = logits.gather(1, y[:, None]).squeeze(1)
                total += ((lse - target_logit) * v).sum()
                if need_h or need_w:
                    # d(sum of NLL)/d(logits) = softmax - onehot, rows of ignored tokens are 0
                    g = logits.sub_(lse[:, None]).exp_()
                    g[torch.arange(end - start, device=g.device), y] -= 1.0
                    g *= v[:, None].to(g.dtype)
                    g /= count
                    if need_h:
                        grad_h[start:end] = (g.to(weight.dtype) @ weight).to(hidden.dtype)
                    if need_w:
                        grad_w += g.t() @ h.float()
                    del g
                del logits
        ctx.save_for_backward(*(t for t in (grad_h, grad_w) if t is not None))
        ctx.has = (need_h, need_w)
        ctx.weight_dtype = weight.dtype
        return total / max(count, 1)

    @staticmethod
    def backward(ctx, grad_out):
        saved = list(ctx.saved_tensors)
        need_h, need_w = ctx.has
        gh = saved.pop(0) * grad_out if need_h else None
        gw = (saved.pop(0) * grad_out).to(ctx.weight_dtype) if need_w else None
        return gh, gw, None, None


def chunked_linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                                 chunk_size: int = DEFAULT_CHUNK) -> torch.Tensor:
    """Mean cross-entropy of ``hidden @ weight.T`` against ``labels`` over positions whose label
    is not -100 (0 when none is). ``hidden`` [N, H], ``weight`` [V, H], ``labels`` [N] (already
    shifted). Returns an fp32 scalar."""
    if hidden.dim() != 2 or labels.dim() != 1 or hidden.shape[0] != labels.shape[0]:
        raise ValueError(f"expected hidden [N,H] and labels [N], got {tuple(hidden.shape)} and {tuple(labels.shape)}")
    return _ChunkedLinearCE.apply(hidden, weight, labels, int(chunk_size))


def plain_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Reference: full fp32 logits, then ``F.cross_entropy`` (mean over non-ignored labels)."""
    logits = (hidden @ weight.t()).float()
    if not bool((labels != IGNORE_INDEX).any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits, labels.long(), ignore_index=IGNORE_INDEX)


def shift_for_causal_lm(hidden: torch.Tensor, labels: torch.Tensor):
    """Position t predicts token t+1: drop the last hidden state and the first label.
    ``hidden`` [T, H] (or [1, T, H]), ``labels`` [T] (or [1, T])."""
    if hidden.dim() == 3:
        hidden = hidden.reshape(-1, hidden.shape[-1])
    labels = labels.reshape(-1)
    return hidden[:-1], labels[1:]


class LossFn:
    """Picks Liger's fused linear cross-entropy where installed (and on CUDA), else the chunked one."""

    def __init__(self, impl: str = "auto", chunk_size: int = DEFAULT_CHUNK, device: Optional[torch.device] = None):
        self.chunk_size = chunk_size
        self.impl = "chunked"
        self._liger = None
        if impl in ("auto", "liger") and device is not None and device.type == "cuda":
            try:
                from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss
                self._liger = LigerFusedLinearCrossEntropyLoss(ignore_index=IGNORE_INDEX, reduction="mean")
                self.impl = "liger"
            except ImportError:
                if impl == "liger":
                    raise ImportError("--loss liger needs the liger-kernel package: pip install liger-kernel")
        elif impl == "liger":
            raise ValueError("--loss liger needs a CUDA device")
        elif impl == "plain":
            self.impl = "plain"

    def __call__(self, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h, y = shift_for_causal_lm(hidden, labels)
        if self.impl == "liger":
            if not bool((y != IGNORE_INDEX).any()):
                return (h.sum() * 0.0).float() + (weight.sum() * 0.0).float()
            out = self._liger(weight, h, y.long())
            return (out[0] if isinstance(out, tuple) else out).float()
        if self.impl == "plain":
            return plain_cross_entropy(h, weight, y)
        return chunked_linear_cross_entropy(h, weight, y, self.chunk_size)

"""Causal-LM loss: summed cross-entropy over trained tokens (labels != -100) divided by a
denominator, docs/SPEC.md §5. The denominator is the micro-batch's own trained-token count by
default (its mean); the trainer passes the trained-token count of the whole global batch instead,
so that micro-batch losses add up to the global batch's token mean (``--loss-norm token``).

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
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, chunk_size: int,
                denominator: Optional[float]):
        n = hidden.shape[0]
        valid = labels != IGNORE_INDEX
        count = int(valid.sum())
        denom = float(max(count, 1) if denominator is None else max(denominator, 1))
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
                    g /= denom
                    if need_h:
                        grad_h[start:end] = (g.to(weight.dtype) @ weight).to(hidden.dtype)
                    if need_w:
                        grad_w += g.t() @ h.float()
                    del g
                del logits
        ctx.save_for_backward(*(t for t in (grad_h, grad_w) if t is not None))
        ctx.has = (need_h, need_w)
        ctx.weight_dtype = weight.dtype
        return total / denom

    @staticmethod
    def backward(ctx, grad_out):
        saved = list(ctx.saved_tensors)
        need_h, need_w = ctx.has
        gh = saved.pop(0) * grad_out if need_h else None
        gw = (saved.pop(0) * grad_out).to(ctx.weight_dtype) if need_w else None
        return gh, gw, None, None, None


def chunked_linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                                 chunk_size: int = DEFAULT_CHUNK, denominator: Optional[float] = None) -> torch.Tensor:
    """Summed cross-entropy of ``hidden @ weight.T`` against ``labels`` over positions whose label
    is not -100, divided by ``denominator`` (default: the number of such positions, i.e. their
    mean; 0 when there are none). ``hidden`` [N, H], ``weight`` [V, H], ``labels`` [N] (already
    shifted). Returns an fp32 scalar."""
    if hidden.dim() != 2 or labels.dim() != 1 or hidden.shape[0] != labels.shape[0]:
        raise ValueError(f"expected hidden [N,H] and labels [N], got {tuple(hidden.shape)} and {tuple(labels.shape)}")
    return _ChunkedLinearCE.apply(hidden, weight, labels, int(chunk_size), denominator)


def plain_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                        denominator: Optional[float] = None) -> torch.Tensor:
    """Reference: full fp32 logits, then ``F.cross_entropy`` summed over non-ignored labels and
    divided by ``denominator`` (default: their count)."""
    logits = (hidden @ weight.t()).float()
    count = int((labels != IGNORE_INDEX).sum())
    if count == 0:
        return logits.sum() * 0.0
    total = F.cross_entropy(logits, labels.long(), ignore_index=IGNORE_INDEX, reduction="sum")
    return total / float(max(count if denominator is None else denominator, 1))


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
                self._liger = LigerFusedLinearCrossEntropyLoss(ignore_index=IGNORE_INDEX, reduction="sum")
                self.impl = "liger"
            except ImportError:
                if impl == "liger":
                    raise ImportError("--loss liger needs the liger-kernel package: pip install liger-kernel")
        elif impl == "liger":
            raise ValueError("--loss liger needs a CUDA device")
        elif impl == "plain":
            self.impl = "plain"

    def __call__(self, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                 denominator: Optional[float] = None) -> torch.Tensor:
        """The summed loss of the trained tokens divided by ``denominator`` (default: their
        count in this micro-batch, after the shift)."""
        h, y = shift_for_causal_lm(hidden, labels)
        if self.impl == "liger":
            count = int((y != IGNORE_INDEX).sum())
            if count == 0:
                return (h.sum() * 0.0).float() + (weight.sum() * 0.0).float()
            out = self._liger(weight, h, y.long())
            total = (out[0] if isinstance(out, tuple) else out).float()
            return total / float(max(count if denominator is None else denominator, 1))
        if self.impl == "plain":
            return plain_cross_entropy(h, weight, y, denominator)
        return chunked_linear_cross_entropy(h, weight, y, self.chunk_size, denominator)


def trained_tokens(labels) -> int:
    """Trained positions of one sample after the causal shift (its first label predicts nothing):
    what a micro-batch contributes to the denominator of ``--loss-norm token``, and what the
    Hugging Face Trainer counts as ``num_items_in_batch``."""
    return int((labels[1:] != IGNORE_INDEX).sum())

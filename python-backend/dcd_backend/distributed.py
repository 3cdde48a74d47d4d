"""One process, or ``torchrun --nproc_per_node N`` with DDP (default) or FSDP full shard.

``grad_accum`` stays global: each of the N ranks runs grad_accum / N micro-batches per
optimizer step, so a run has the same global batch (and, up to float summation order, the same
losses) for any N. Backend: NCCL on CUDA, gloo on CPU.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: Optional[str] = None
    mode: str = "none"  # none | ddp | fsdp

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def pick_device(pref: str, local_rank: int = 0) -> torch.device:
    if pref == "cpu" or (pref == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch.cuda.is_available() is False")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def init(mode: str, device_pref: str = "auto") -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_pref, local_rank)
    if world <= 1:
        return DistInfo(device=device, mode="none")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if mode == "fsdp" and device.type != "cuda":
        raise RuntimeError("--dist fsdp needs CUDA devices; use --dist ddp on CPU")
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=30))
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, device=device, backend=backend, mode=mode)


def wrap(module: torch.nn.Module, info: DistInfo, layer_cls=None, mixed_dtype: Optional[torch.dtype] = None):
    """Wrap the loss module for data parallelism. FSDP shards every ``layer_cls`` block
    (the decoder layers) and the rest at the root; the model must already be on its device."""
    if info.mode == "none" or not info.enabled:
        return module
    if info.mode == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP
        ids = [info.local_rank] if info.device.type == "cuda" else None
        return DDP(module, device_ids=ids)
    if info.mode == "fsdp":
        try:
            import functools
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, ShardingStrategy
            from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
        except Exception as e:  # Debian's torch 1.13 on Python 3.11 fails to import FSDP
            raise RuntimeError(f"FSDP is not usable with this torch ({torch.__version__}): {e}; use --dist ddp or torch>=2.2") from e
        policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={layer_cls}) if layer_cls else None
        return FSDP(module, sharding_strategy=ShardingStrategy.FULL_SHARD, auto_wrap_policy=policy,
                    device_id=info.device, use_orig_params=True, limit_all_gathers=True)
    raise ValueError(f"unknown --dist {info.mode!r}")


def all_reduce_sum(x: float, info: DistInfo) -> float:
    if not info.enabled:
        return float(x)
    t = torch.tensor([float(x)], dtype=torch.float64, device=info.device if info.backend == "nccl" else "cpu")
    dist.all_reduce(t)
    return float(t.item())


def any_true(flag: bool, info: DistInfo) -> bool:
    """True on every rank when it is true on any (keeps ranks in step when a signal arrives)."""
    return all_reduce_sum(1.0 if flag else 0.0, info) > 0


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()

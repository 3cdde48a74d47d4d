#!/usr/bin/env python3
"""One-call GPU check: the paper recipe's training step on a Qwen2.5-1.5B-shaped model, timed.

    python3 python-backend/tools/gpu_check.py                       # one CUDA GPU, 1.5B shape, ~1-3 min on H100/H200
    python3 python-backend/tools/gpu_check.py --device cpu --shape tiny --steps 3 --max-len 256   # the same code, tiny

Needs only torch and transformers, and no network: the model is ``Qwen2ForCausalLM`` built from the
bundled ``qwen2.5-1.5b-config.json`` (the real architecture) with random weights. Each optimizer step
is one micro-batch of one sequence (micro-batch 1), gradient checkpointing on, the backend's chunked
cross-entropy (``dcd_backend/loss.py``; Liger's fused one where installed, on CUDA), fp32 master
weights updated by AdamW with bf16 autocast compute. Sequence lengths follow a seeded synthetic
distribution shaped like DCD traces (mean about 11k tokens, the longest exactly ``--max-len``);
token ids are random.

Prints ONE JSON line. FLOPs are model FLOPs (the recomputation of gradient checkpointing is not
counted, as MFU is usually stated):

    flops = 6 * N * tokens  +  6 * L * d_attn * sum(T_i^2)

N = parameter count (the tied embedding counted once: it is the LM head's matmul), L = layers,
d_attn = heads x head_dim, T_i = each timed sequence's length. The attention term is QK^T and PV
(2 x 2*T^2*d_attn forward), halved for the causal mask, x3 for forward + backward.
achieved TFLOP/s = flops / timed seconds; MFU = that / the GPU's dense bf16 peak (null when unknown
or on CPU). The first ``--warmup`` steps (CUDA init, kernel selection) are run but not timed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CONFIG_FILE = HERE / "qwen2.5-1.5b-config.json"

# Dense bf16 peak TFLOP/s (no sparsity) by device name; the first matching entry wins, so the PCIe
# H100 (a lower clock and TDP) comes before the SXM part's "H100".
PEAK_BF16_TFLOPS = [
    ("H100 PCIe", 756.0),
    ("H100", 989.0),
    ("H200", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("RTX 4090", 165.0),
]

# The tiny shape keeps every architectural feature of the real one (GQA, tied embeddings, SwiGLU,
# RoPE) at a size a CPU runs in seconds.
TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "intermediate_size": 192, "vocab_size": 1024, "max_position_embeddings": 4096}

DCD_MEAN_LEN = 11_000
DCD_MAX_LEN = 32_768


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="DCD Studio GPU check (see the module docstring)")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    p.add_argument("--shape", choices=["1.5b", "tiny"], default="1.5b")
    p.add_argument("--steps", type=int, default=24, help="timed optimizer steps (after the warm-up)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--max-len", type=int, default=DCD_MAX_LEN, help="the longest sequence (one step always has it)")
    p.add_argument("--mean-len", type=int, default=None,
                   help=f"mean sequence length (default {DCD_MEAN_LEN} scaled by max-len/{DCD_MAX_LEN})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss", choices=["auto", "chunked", "liger"], default="auto")
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--time-budget-s", type=float, default=300.0,
                   help="stop timing new steps once the run has taken this long (the result says so)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    a = p.parse_args(argv)
    if a.steps < 1 or a.warmup < 0 or a.max_len < 8:
        p.error("--steps >= 1, --warmup >= 0 and --max-len >= 8 are needed")
    return a


def sequence_lengths(n: int, mean: float, max_len: int, seed: int) -> list:
    """n lengths, gamma-distributed (shape 2: a long right tail, as reasoning traces have) with mean
    `mean`, clipped to [max(8, max_len/64), max_len]; the longest is set to max_len, so that the
    peak memory is that of the longest sequence the recipe allows."""
    import numpy as np
    rng = np.random.default_rng(seed)
    lo = max(8, max_len // 64)
    raw = rng.gamma(2.0, mean / 2.0, size=n)
    top = int(np.argmax(raw))
    others = np.delete(raw, top)
    if len(others):
        # A few dozen draws stray ~15% from the mean: rescale the rest so the run's mean is the target.
        others = others * max(0.0, mean * n - max_len) / max(others.sum(), 1e-9)
    lengths = np.insert(np.clip(others, lo, max_len), top, max_len).astype(int)
    return [int(x) for x in lengths]


def peak_tflops(name: str):
    for key, tf in PEAK_BF16_TFLOPS:
        if key.lower() in name.lower():
            return tf
    return None


def build_model(shape: str, device, seed: int):
    import torch
    import transformers
    cfg = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    if shape == "tiny":
        cfg.update(TINY)
        cfg["sliding_window"] = TINY["max_position_embeddings"]
        cfg["bos_token_id"] = cfg["eos_token_id"] = TINY["vocab_size"] - 1
    cfg.pop("architectures", None)
    cfg.pop("torch_dtype", None)
    config = transformers.Qwen2Config(**{k: v for k, v in cfg.items() if k != "model_type"})
    config.use_cache = False
    torch.manual_seed(seed)
    # fp32 master weights, made directly on the device (a 1.5B model made on the CPU first takes minutes).
    with torch.device(device):
        model = transformers.Qwen2ForCausalLM(config).to(torch.float32)
    model.config.use_cache = False
    # transformers 5 renamed the method (the old name warns); 4.x has only the old one.
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()  # transformers checkpoints layers only in training mode
    return model, config


def main(argv=None) -> int:
    a = parse_args(argv)
    import torch
    from dcd_backend.loss import LossFn

    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"ok": False, "error": "--device cuda, but torch sees no CUDA device"}))
        return 2
    cuda = device.type == "cuda"
    t_begin = time.time()
    model, config = build_model(a.shape, device, a.seed)
    t_built = time.time()
    n_params = sum(p.numel() for p in model.parameters())
    layers, d_attn = config.num_hidden_layers, config.num_attention_heads * (config.hidden_size // config.num_attention_heads)
    loss_fn = LossFn(a.loss, device=device)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=cuda)
    mean = a.mean_len if a.mean_len else DCD_MEAN_LEN * a.max_len / DCD_MAX_LEN
    timed_lengths = sequence_lengths(a.steps, mean, a.max_len, a.seed)
    # The warm-up runs short sequences: it pays for CUDA init and kernel selection, not for memory.
    lengths = [min(a.max_len, max(8, int(mean)))] * a.warmup + timed_lengths
    gen = torch.Generator(device="cpu").manual_seed(a.seed)
    embed = model.get_output_embeddings().weight

    def step(T: int) -> float:
        ids = torch.randint(0, config.vocab_size, (1, T), generator=gen).to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            hidden = model.model(input_ids=ids, use_cache=False).last_hidden_state
            loss = loss_fn(hidden[0], embed, ids[0])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def sync():
        if cuda:
            torch.cuda.synchronize()

    loss = float("nan")
    for T in lengths[:a.warmup]:
        loss = step(T)
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    done, tokens, sq = 0, 0, 0
    stopped_early = False
    t0 = time.time()
    # The longest sequence first: if it does not fit, the run fails at once rather than after minutes.
    longest = timed_lengths.index(max(timed_lengths))
    order = [longest] + [i for i in range(len(timed_lengths)) if i != longest]
    for i in order:
        if time.time() - t_begin > a.time_budget_s and done > 0:
            stopped_early = True
            break
        T = timed_lengths[i]
        loss = step(T)
        done += 1
        tokens += T
        sq += T * T
    sync()
    seconds = time.time() - t0
    flops = 6.0 * n_params * tokens + 6.0 * layers * d_attn * sq
    tflops = flops / seconds / 1e12
    name = torch.cuda.get_device_name(device) if cuda else (platform.processor() or platform.machine() or "cpu")
    peak = peak_tflops(name) if cuda else None
    out = {
        "ok": math.isfinite(loss),
        "device": name,
        "device_type": device.type,
        "shape": a.shape,
        "params": n_params,
        "layers": layers, "hidden": config.hidden_size, "heads": config.num_attention_heads,
        "kv_heads": config.num_key_value_heads, "intermediate": config.intermediate_size, "vocab": config.vocab_size,
        "steps": done, "warmup_steps": a.warmup, "stopped_early": stopped_early,
        "micro_batch": 1, "grad_ckpt": bool(getattr(model.model, "gradient_checkpointing", False)), "precision": "fp32 master weights, bf16 autocast",
        "loss_impl": loss_fn.impl, "attn": getattr(config, "_attn_implementation", None),
        "max_len": a.max_len, "mean_len_target": round(mean, 1),
        "mean_len": round(tokens / max(done, 1), 1), "longest": max(timed_lengths),
        "tokens": tokens, "seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 2),
        "tflops": round(tflops, 3),
        "flops_formula": "6*N*tokens + 6*L*d_attn*sum(T^2)  (model FLOPs; causal attention; no recompute)",
        "peak_bf16_tflops": peak,
        "mfu": round(tflops / peak, 4) if peak else None,
        "peak_memory_bytes": torch.cuda.max_memory_allocated(device) if cuda else None,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "final_loss": loss,
        "build_s": round(t_built - t_begin, 3),
        "total_s": round(time.time() - t_begin, 3),
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "seed": a.seed,
    }
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sys.exit(main())

"""``builtin:tiny``: a small Qwen2-shaped causal LM in pure PyTorch (RMSNorm, RoPE, GQA, SwiGLU).

Parameter names and the saved ``config.json`` follow Hugging Face's ``Qwen2ForCausalLM``
(``model.embed_tokens``, ``model.layers.N.self_attn.q_proj`` with bias, ..., ``lm_head``), so
the final folder loads with ``transformers.AutoModelForCausalLM`` on a host that has it.
Works on torch 1.13 (no SDPA: explicit masked softmax) and uses SDPA on torch 2.x.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint as _checkpoint


@dataclass
class TinyConfig:
    vocab_size: int = 256
    hidden_size: int = 64
    intermediate_size: int = 192
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 32768
    rope_theta: float = 1000000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True
    initializer_range: float = 0.02

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_hf(self, dtype: torch.dtype) -> dict:
        """A ``config.json`` that transformers reads as a Qwen2 model."""
        d = asdict(self)
        d.update({
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
            "attention_dropout": 0.0, "use_cache": True, "use_sliding_window": False,
            "sliding_window": None, "max_window_layers": self.num_hidden_layers,
            "rope_scaling": None, "bos_token_id": None, "eos_token_id": None,
            "torch_dtype": str(dtype).replace("torch.", ""),
        })
        return d

    @classmethod
    def from_hf(cls, d: dict) -> "TinyConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# Spec parameters accepted as builtin:tiny?key=value&...
SPEC_KEYS = {"hidden": "hidden_size", "layers": "num_hidden_layers", "heads": "num_attention_heads",
             "kv": "num_key_value_heads", "ffn": "intermediate_size", "tie": "tie_word_embeddings"}


def parse_tiny_spec(spec: str, vocab_size: int) -> TinyConfig:
    """``builtin:tiny`` or ``builtin:tiny?hidden=128&layers=4&heads=4&kv=2&ffn=384&tie=0``."""
    base, _, query = spec.partition("?")
    if base != "builtin:tiny":
        raise ValueError(f"unknown builtin model {base!r} (known: builtin:tiny)")
    cfg = TinyConfig(vocab_size=vocab_size)
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        if k not in SPEC_KEYS:
            raise ValueError(f"unknown builtin:tiny parameter {k!r} (known: {', '.join(SPEC_KEYS)})")
        setattr(cfg, SPEC_KEYS[k], bool(int(v)) if k == "tie" else int(v))
    if cfg.hidden_size % cfg.num_attention_heads or cfg.num_attention_heads % cfg.num_key_value_heads:
        raise ValueError("builtin:tiny needs hidden % heads == 0 and heads % kv == 0")
    return cfg


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * h.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float, dtype: torch.dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class Attention(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.num_attention_heads * hd, bias=True)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * hd, bias=True)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * hd, bias=True)
        self.o_proj = nn.Linear(cfg.num_attention_heads * hd, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        c = self.cfg
        hd = c.head_dim
        q = self.q_proj(x).view(b, t, c.num_attention_heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, c.num_key_value_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, c.num_key_value_heads, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = c.num_attention_heads // c.num_key_value_heads
        if groups > 1:  # grouped-query attention: each KV head serves `groups` query heads
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.x
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, torch.finfo(scores.dtype).min)
            out = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class TinyModel(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.gradient_checkpointing = False

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed_tokens(input_ids)
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        cos, sin = rope_cos_sin(pos, self.cfg.head_dim, self.cfg.rope_theta, x.dtype)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                x = _checkpoint(layer, x, cos, sin, use_reentrant=False)
            else:
                x = layer(x, cos, sin)
        return self.norm(x)


class TinyForCausalLM(nn.Module):
    """``forward`` returns full logits (tests, small inputs); training uses ``model(ids)`` for
    the last hidden state and ``lm_head.weight`` with the chunked loss."""

    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.config = cfg
        self.model = TinyModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.apply(self._init)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def _init(self, m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=self.config.initializer_range)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def gradient_checkpointing_enable(self) -> None:
        self.model.gradient_checkpointing = True

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.model(input_ids)).float()

    # --- Hugging Face layout -------------------------------------------------------------
    def hf_state_dict(self) -> Dict[str, torch.Tensor]:
        sd = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        if self.config.tie_word_embeddings:
            sd.pop("lm_head.weight", None)  # tied: transformers re-ties it from embed_tokens
        return sd

    def save_pretrained(self, out, dtype: Optional[torch.dtype] = None) -> Path:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        dtype = dtype or next(self.parameters()).dtype
        sd = {k: v.to(dtype) for k, v in self.hf_state_dict().items()}
        (out / "config.json").write_text(json.dumps(self.config.to_hf(dtype), indent=2) + "\n", encoding="utf-8")
        try:
            from safetensors.torch import save_file
        except ImportError:
            torch.save(sd, out / "pytorch_model.bin")
        else:
            save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
        return out

    @classmethod
    def from_pretrained(cls, folder) -> "TinyForCausalLM":
        folder = Path(folder)
        cfg = TinyConfig.from_hf(json.loads((folder / "config.json").read_text(encoding="utf-8")))
        model = cls(cfg)
        if (folder / "model.safetensors").is_file():
            from safetensors.torch import load_file
            sd = load_file(str(folder / "model.safetensors"))
        else:
            from .checkpoint import torch_load
            sd = torch_load(folder / "pytorch_model.bin")
        missing, unexpected = model.load_state_dict(sd, strict=False)
        missing = [k for k in missing if not (cfg.tie_word_embeddings and k == "lm_head.weight")]
        if missing or unexpected:
            raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
        return model

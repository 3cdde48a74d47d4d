"""Model loading: ``builtin:tiny`` (pure torch) or a Hugging Face path/id through transformers.

Optional packages are imported here, lazily, and a missing one raises ``MissingPackage`` with
the package name and the pip command that installs it for this interpreter.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn as nn

from .model_tiny import DecoderLayer, TinyForCausalLM, parse_tiny_spec


class MissingPackage(ImportError):
    pass


def require(module: str, pip_name: Optional[str] = None, why: str = ""):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pip_name = pip_name or module
        raise MissingPackage(
            f"the Python package '{pip_name}' is needed{(' ' + why) if why else ''} but is not installed for "
            f"{sys.executable} ({e}). Install it with: {sys.executable} -m pip install {pip_name} "
            f"(or: pip install -r python-backend/requirements.txt)") from e


def has_package(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class LoadedModel:
    lm: nn.Module                      # the causal LM (HF module or TinyForCausalLM)
    kind: str                          # "tiny" | "hf"
    hidden: Callable                   # (lm, input_ids [1, T]) -> last hidden state [1, T, H]
    layer_cls: Optional[type]          # decoder block class (FSDP wrapping unit)
    tokenizer_dir: Optional[Path]      # folder whose tokenizer files go with the final model
    vocab_size: int
    attn: str
    notes: list


def _tiny_hidden(lm, ids):
    return lm.model(ids)


def _hf_hidden(lm, ids):
    base = lm.get_decoder() if hasattr(lm, "get_decoder") else lm.model
    return base(input_ids=ids, use_cache=False).last_hidden_state


def _version_tuple(v: str):
    out = []
    for part in v.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def resolve_tokenizer_dir(spec: str, explicit: Optional[str], export_dir: Optional[Path] = None) -> Optional[Path]:
    """The tokenizer folder checked against the export and saved with final/: ``--tokenizer``, else the
    model's own (a folder, or a cached Hub id). A builtin model has none: it takes the export's copy
    (``EXPORT/tokenizer/``, written by ``dcd pack``), so its final/ loads with transformers."""
    if explicit:
        return Path(explicit)
    if spec.startswith("builtin:"):
        own = export_dir / "tokenizer" if export_dir is not None else None
        return own if own is not None and (own / "tokenizer.json").is_file() else None
    p = Path(spec).expanduser()
    if p.is_dir():
        return p
    try:  # a Hub id: the tokenizer file from the local Hugging Face cache, if it is there
        from huggingface_hub import hf_hub_download
        return Path(hf_hub_download(spec, "tokenizer.json")).parent
    except Exception:
        return None


def load_model(spec: str, vocab_size: int, device: torch.device, dtype: torch.dtype,
               grad_ckpt: Optional[bool], tokenizer_dir: Optional[Path], seed: int,
               compute_dtype: Optional[torch.dtype] = None) -> LoadedModel:
    """``dtype``: the weights' (and so the optimizer states'); ``compute_dtype``: what the forward
    pass runs in (bf16 under autocast for fp32 weights with ``--precision mixed``)."""
    notes = []
    compute_dtype = compute_dtype or dtype
    if spec.startswith("builtin:"):
        cfg = parse_tiny_spec(spec, vocab_size)
        torch.manual_seed(seed)
        lm = TinyForCausalLM(cfg).to(device=device, dtype=dtype)
        if grad_ckpt:  # off by default for the tiny model
            lm.gradient_checkpointing_enable()
        attn = "sdpa" if hasattr(torch.nn.functional, "scaled_dot_product_attention") else "eager"
        return LoadedModel(lm, "tiny", _tiny_hidden, DecoderLayer, tokenizer_dir, cfg.vocab_size, attn, notes)

    transformers = require("transformers", why=f"to load the model {spec!r}")
    if device.type == "cuda" and compute_dtype in (torch.bfloat16, torch.float16) and has_package("flash_attn"):
        attn = "flash_attention_2"
    elif hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        attn = "sdpa"
    else:
        attn = "eager"
    dtype_kw = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
    lm = transformers.AutoModelForCausalLM.from_pretrained(spec, **{dtype_kw: dtype}, attn_implementation=attn)
    lm.to(device)
    # from_pretrained returns the model in eval mode, and transformers checkpoints layers only while
    # `self.training` is true: without this, gradient checkpointing is silently off.
    lm.train()
    if has_package("liger_kernel") and device.type == "cuda":
        try:
            import liger_kernel.transformers as liger
            fn = getattr(liger, f"apply_liger_kernel_to_{lm.config.model_type}", None)
            if fn is not None:
                fn(rope=True, rms_norm=True, swiglu=True, cross_entropy=False, fused_linear_cross_entropy=False, model=lm)
                notes.append(f"liger kernels applied to {lm.config.model_type} (rope, rms_norm, swiglu)")
        except Exception as e:  # an old liger or an unsupported model: train without it
            notes.append(f"liger kernels not applied: {e}")
    if grad_ckpt is None or grad_ckpt:  # on by default for real models
        try:
            lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        except TypeError:
            lm.gradient_checkpointing_enable()
        lm.config.use_cache = False
    layer_cls = None
    decoder = lm.get_decoder() if hasattr(lm, "get_decoder") else getattr(lm, "model", None)
    layers = getattr(decoder, "layers", None)
    if layers is not None and len(layers):
        layer_cls = type(layers[0])
    vocab = lm.get_input_embeddings().num_embeddings
    return LoadedModel(lm, "hf", _hf_hidden, layer_cls, tokenizer_dir, vocab, attn, notes)


class CausalLMLoss(nn.Module):
    """What DDP/FSDP wrap: ids + labels -> the summed loss over the micro-batch's trained tokens
    divided by ``denominator`` (default: their count, i.e. their mean)."""

    def __init__(self, loaded: LoadedModel, loss_fn):
        super().__init__()
        self.lm = loaded.lm
        self._hidden = loaded.hidden
        self.loss_fn = loss_fn

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, denominator: Optional[float] = None) -> torch.Tensor:
        hidden = self._hidden(self.lm, input_ids)
        return self.loss_fn(hidden[0], self.lm.get_output_embeddings().weight, labels[0], denominator)


def save_final(loaded: LoadedModel, out: Path, state_dict=None, spec: str = "",
               dtype: Optional[torch.dtype] = None) -> list:
    """Save the trained model in Hugging Face format, in ``dtype`` (default: the weights' own), with
    the tokenizer files and a chat template. Returns notes. Training is over: the live model may
    be cast."""
    out.mkdir(parents=True, exist_ok=True)
    notes = []
    if loaded.kind == "tiny":
        lm = loaded.lm
        if state_dict is not None:
            lm.load_state_dict(state_dict)
        lm.save_pretrained(out, dtype=dtype)
    else:
        if dtype is not None and state_dict is not None:
            state_dict = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state_dict.items()}
        elif dtype is not None:
            loaded.lm.to(dtype)
        loaded.lm.save_pretrained(out, state_dict=state_dict, safe_serialization=True)
    return notes + complete_tokenizer(out, loaded.tokenizer_dir, spec if loaded.kind == "hf" else "")


def has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        import json
        return bool(json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("chat_template"))
    except (OSError, ValueError, AttributeError):
        return False


def complete_tokenizer(out: Path, tokenizer_dir: Optional[Path], spec: str = "") -> list:
    """Put the tokenizer files beside the model in OUT: copied from ``tokenizer_dir``, then whatever
    is still missing (tokenizer_config.json, the chat template) from ``AutoTokenizer`` of that folder
    or of the model ``spec`` (a Hub id's cached files). Evaluation applies the chat template
    (lm-eval --apply_chat_template), so a folder without one is reported in the notes. The
    tokenizer.json already copied is never replaced: the export was checked against it."""
    import shutil
    import tempfile
    from .checkpoint import copy_tokenizer_files
    notes = []
    copied = copy_tokenizer_files(tokenizer_dir, out)
    if copied:
        notes.append("tokenizer files copied: " + ", ".join(copied))
    if has_chat_template(out) and (out / "tokenizer.json").exists():
        return notes
    sources = [str(s) for s in (tokenizer_dir, spec) if s]
    if not sources or not has_package("transformers"):
        notes.append("no chat template in final/: no tokenizer folder or Hugging Face tokenizer to take it from")
        return notes
    import transformers
    for src in sources:
        try:
            tok = transformers.AutoTokenizer.from_pretrained(src)
        except Exception as e:  # an offline Hub id that is not cached, a folder without tokenizer files
            notes.append(f"AutoTokenizer({src}) failed: {e}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tok.save_pretrained(tmp)
            added = [f.name for f in sorted(Path(tmp).iterdir()) if f.is_file() and not (out / f.name).exists()]
            for name in added:
                shutil.copy2(Path(tmp) / name, out / name)
        if added:
            notes.append(f"tokenizer files written with AutoTokenizer({src}): " + ", ".join(added))
        if has_chat_template(out):
            return notes
    notes.append("no chat template in final/: none of " + ", ".join(sources) + " has one")
    return notes

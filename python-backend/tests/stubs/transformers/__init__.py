"""A stand-in for the `transformers` API surface train.py uses, for the CPU machine that has no
transformers. It records every call (JSON lines in $STUB_TRANSFORMERS_LOG) and loads a Qwen2
folder written by TinyForCausalLM.save_pretrained into the same pure-torch model, wrapped the
way a Hugging Face causal LM is (get_decoder / get_*_embeddings / save_pretrained ...).
Only tests put it on PYTHONPATH."""
import json
import os
from pathlib import Path
from types import SimpleNamespace

import torch.nn as nn

from dcd_backend.model_tiny import TinyForCausalLM

__version__ = "4.57.0"


def _log(call, **kw):
    path = os.environ.get("STUB_TRANSFORMERS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"call": call, **{k: str(v) for k, v in kw.items()}}) + "\n")


class _Decoder(nn.Module):
    def __init__(self, base):
        super().__init__()
        self.base = base
        self.layers = base.layers

    def forward(self, input_ids=None, use_cache=None):
        return SimpleNamespace(last_hidden_state=self.base(input_ids))


class _CausalLM(nn.Module):
    def __init__(self, tiny: TinyForCausalLM):
        super().__init__()
        self.tiny = tiny
        self.decoder = _Decoder(tiny.model)
        self.config = SimpleNamespace(model_type="qwen2", use_cache=True)

    def get_decoder(self):
        return self.decoder

    def get_input_embeddings(self):
        return self.tiny.model.embed_tokens

    def get_output_embeddings(self):
        return self.tiny.lm_head

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        _log("gradient_checkpointing_enable", kwargs=gradient_checkpointing_kwargs)
        self.tiny.gradient_checkpointing_enable()

    def save_pretrained(self, out, state_dict=None, safe_serialization=True):
        _log("save_pretrained", state_dict=state_dict is not None, safe_serialization=safe_serialization)
        self.tiny.save_pretrained(Path(out))


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(path, **kwargs):
        _log("from_pretrained", path=path, **kwargs)
        return _CausalLM(TinyForCausalLM.from_pretrained(path))


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path, **kwargs):
        raise OSError("the stub has no tokenizers")

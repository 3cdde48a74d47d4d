"""Write a small synthetic export in the docs/FORMATS.md §1 layout (tests, bench, demo).

Each sample is an arithmetic progression of token ids modulo the vocabulary (random start, step
from 1..7), so a small model can learn it and the loss visibly falls; ``pattern=False`` gives
uniform random ids instead. The first ``prompt_frac`` of each sample is masked (-100), like
the system and user turns of a real DCD trace. Not real data: for exercising the trainer only.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .export import EXPORT_FILES, IGNORE_INDEX, sha256_file
from .schedule import manifest_plan


def write_export(out, samples: int = 32, min_len: int = 16, max_len: int = 48, vocab_size: int = 256,
                 seed: int = 0, prompt_frac: float = 0.3, lengths: Optional[Sequence[int]] = None,
                 tokenizer_sha256: str = "0" * 64, grad_accum: int = 16, epochs: int = 5,
                 pattern: bool = True, plan_preset: Optional[str] = "paper", max_steps: Optional[int] = None,
                 lr: float = 1e-5) -> Path:
    """``plan_preset`` names the manifest's plan (None: no plan, like an export from before plans
    were recorded); its numbers come from ``schedule.manifest_plan`` with ``grad_accum``/``epochs``/
    ``lr`` (by default the paper's), capped at ``max_steps``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if lengths is None:
        lengths = rng.integers(min_len, max_len + 1, size=samples).tolist()
    lengths = [int(n) for n in lengths]
    ids_parts, label_parts = [], []
    for n in lengths:
        if pattern:
            start, stride = rng.integers(0, vocab_size), rng.integers(1, 8)
            ids = ((start + stride * np.arange(n)) % vocab_size).astype("<i4")
        else:
            ids = rng.integers(0, vocab_size, size=n).astype("<i4")
        labels = ids.copy()
        labels[: int(n * prompt_frac)] = IGNORE_INDEX
        ids_parts.append(ids)
        label_parts.append(labels)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, "<i4")
    labels = np.concatenate(label_parts) if label_parts else np.zeros(0, "<i4")
    offsets = np.zeros(len(lengths) + 1, dtype="<i8")
    offsets[1:] = np.cumsum(lengths)
    np.save(out / "ids.npy", ids.astype("<i4"))
    np.save(out / "labels.npy", labels.astype("<i4"))
    np.save(out / "offsets.npy", offsets)
    trained = int(np.count_nonzero(labels != IGNORE_INDEX))
    manifest = {
        "format": "dcd-export", "version": 1, "created_by": "dcd_backend.synth",
        "corpus": {"path": "synthetic", "sha256": hashlib.sha256(b"synthetic").hexdigest()},
        "tokenizer": {"name": "synthetic", "sha256": tokenizer_sha256, "vocab_size": vocab_size},
        "policy": "paper", "max_length": max(lengths) if lengths else 0,
        "samples": len(lengths), "tokens": int(len(ids)), "trained_tokens": trained,
        "sample_ids": [f"synthetic-{i:05d}" for i in range(len(lengths))],
        "files": {name: sha256_file(out / name) for name in EXPORT_FILES},
        "flags": {"truncated": 0, "verdict_cut": 0, "answer_cut": 0, "zero_trained": 0},
    }
    if plan_preset is not None:
        manifest["plan"] = manifest_plan(len(lengths), plan_preset, epochs=epochs, grad_accum=grad_accum, lr=lr,
                                         max_steps=max_steps, tokens=int(len(ids)), trained_tokens=trained)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out

"""Resumable checkpoints and the final Hugging Face-format model.

``RUN_DIR/checkpoints/step-NNNNNN/`` holds ``state.pt`` (model, optimizer, scheduler, step,
data position, config, the main rank's RNG states), ``rng_rankR.pt`` per rank and
``meta.json`` (step, reason, time; readable without torch). A checkpoint is written to
``step-NNNNNN.tmp`` and renamed when complete; ``checkpoints/latest`` names the newest one.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch

from .distributed import DistInfo, barrier
from .events import utc_now

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                   "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                   "generation_config.json")


def torch_load(path, map_location="cpu"):
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except TypeError:  # torch without the weights_only argument
        return torch.load(path, map_location=map_location)


def capture_rng() -> Dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def latest_checkpoint(run_dir: Path) -> Optional[Path]:
    root = checkpoint_dir(run_dir)
    pointer = root / "latest"
    if pointer.is_file():
        p = root / pointer.read_text(encoding="utf-8").strip()
        if (p / "state.pt").is_file():
            return p
    done = sorted(p for p in root.glob("step-*") if not p.name.endswith(".tmp") and (p / "state.pt").is_file())
    return done[-1] if done else None


def _model_optim_state(model, wrapped, optimizer, info: DistInfo):
    if info.mode == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict
        msd, osd = get_state_dict(wrapped, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return msd, osd
    return model.state_dict(), optimizer.state_dict()


def save_checkpoint(run_dir: Path, step: int, reason: str, model, wrapped, optimizer, scheduler,
                    config: dict, data_position: dict, rng: Dict[str, Any], info: DistInfo,
                    keep: int = 2) -> Path:
    """Collective: every rank calls it. ``rng`` is this rank's RNG state at the step boundary."""
    root = checkpoint_dir(run_dir)
    name = f"step-{step:06d}"
    final, tmp = root / name, root / (name + ".tmp")
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier(info)
    torch.save(rng, tmp / f"rng_rank{info.rank}.pt")
    msd, osd = _model_optim_state(model, wrapped, optimizer, info)
    if info.is_main:
        torch.save({"step": step, "model": msd, "optimizer": osd, "scheduler": scheduler.state_dict(),
                    "config": config, "data": data_position, "rng": rng, "world_size": info.world_size,
                    "torch_version": torch.__version__}, tmp / "state.pt")
        (tmp / "meta.json").write_text(json.dumps({"step": step, "reason": reason, "time": utc_now(),
                                                   "data": data_position}, indent=2) + "\n", encoding="utf-8")
    barrier(info)
    if info.is_main:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        pointer_tmp = root / "latest.tmp"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(pointer_tmp, root / "latest")
        if keep > 0:
            for old in sorted(p for p in root.glob("step-*") if p.is_dir() and not p.name.endswith(".tmp"))[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    barrier(info)
    return final


def load_checkpoint(path: Path, info: DistInfo) -> Dict[str, Any]:
    state = torch_load(Path(path) / "state.pt")
    rank_rng = Path(path) / f"rng_rank{info.rank}.pt"
    state["rank_rng"] = torch_load(rank_rng) if rank_rng.is_file() else state["rng"]
    return state


def apply_model_optim_state(state, model, wrapped, optimizer, info: DistInfo) -> None:
    """After wrapping: put the checkpoint's model and optimizer states back."""
    if info.mode == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict
        set_state_dict(wrapped, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                       options=StateDictOptions(full_state_dict=True))
        return
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])


def copy_tokenizer_files(src: Optional[Path], out: Path) -> list:
    copied = []
    if src is None or not Path(src).is_dir():
        return copied
    for name in TOKENIZER_FILES:
        f = Path(src) / name
        if f.is_file() and not (out / name).exists():
            shutil.copy2(f, out / name)
            copied.append(name)
    return copied

"""Resumable checkpoints and the final Hugging Face-format model.

``RUN_DIR/checkpoints/step-NNNNNN/`` holds ``state.pt`` + ``state.json`` (model, optimizer,
scheduler, step, data position, config, the main rank's RNG states), ``rng_rankR.pt`` +
``rng_rankR.json`` per rank and ``meta.json`` (step, reason, time; readable without torch). A checkpoint is written to
``step-NNNNNN.tmp`` and renamed when complete; ``checkpoints/latest`` names the newest one.

Nothing in a checkpoint is unpickled as code: each ``.pt`` is a flat dict of tensors loaded with
``weights_only=True``, and everything else (numbers, strings, lists, the optimizer's
hyperparameters) is JSON beside it, with ``{"$tensor": key}`` where a tensor was. (torch 1.13's
weights-only unpickler cannot even read a float, so the split is needed there, not only tidy.)
Checkpoints written before this rule have no ``.json`` and are refused, not half-trusted.
"""
from __future__ import annotations

import json
import os
import pickle
import random
import re
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


class UnsafeCheckpointError(Exception):
    """A checkpoint file that only a full (code-running) unpickler could read, or one outside the run."""


def torch_load(path, map_location="cpu"):
    """``torch.load`` that never runs code from the file: tensors, numbers, strings and containers only."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except TypeError as err:
        if "weights_only" in str(err):
            raise UnsafeCheckpointError("torch >= 1.13 is needed to load checkpoints safely (weights_only)") from err
        raise
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(f"{path}: refused, it holds more than tensors and plain data ({err})") from err


def _pack(obj: Any, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        key = str(len(tensors))
        tensors[key] = obj
        return {"$tensor": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _pack(v, tensors) for k, v in obj.items()}
        return {"$items": [[_pack(k, tensors), _pack(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_pack(x, tensors) for x in obj]}
    if isinstance(obj, list):
        return [_pack(x, tensors) for x in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"a checkpoint holds tensors and plain data only, not {type(obj).__name__}")


def _unpack(obj: Any, tensors: Dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_unpack(x, tensors) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "$tensor" in obj:
        return tensors[obj["$tensor"]]
    if "$tuple" in obj:
        return tuple(_unpack(x, tensors) for x in obj["$tuple"])
    if "$items" in obj:
        return {_unpack(k, tensors): _unpack(v, tensors) for k, v in obj["$items"]}
    return {k: _unpack(v, tensors) for k, v in obj.items()}


def save_state(obj: Any, pt: Path) -> None:
    """Writes ``obj`` as ``pt`` (its tensors) and ``pt`` with ``.json`` (the rest), for `load_state`."""
    tensors: Dict[str, torch.Tensor] = {}
    skeleton = _pack(obj, tensors)
    torch.save(tensors, pt)
    Path(pt).with_suffix(".json").write_text(json.dumps(skeleton), encoding="utf-8")


def load_state(pt: Path) -> Any:
    skeleton_file = Path(pt).with_suffix(".json")
    if not skeleton_file.is_file():
        raise UnsafeCheckpointError(f"{pt}: written by an older DCD Studio as a full pickle; it is not loaded (start afresh)")
    return _unpack(json.loads(skeleton_file.read_text(encoding="utf-8")), torch_load(pt))


def capture_rng() -> Dict[str, Any]:
    # numpy's key array goes in as a list: a safe (weights_only) load refuses ndarrays.
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(), "numpy": (name, keys.tolist(), pos, has_gauss, cached),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


_STEP_DIR = re.compile(r"step-\d+")


def _inside(root: Path, p: Path) -> bool:
    """Whether ``p`` is a checkpoint folder directly in ``root``, after every symlink is followed."""
    return bool(_STEP_DIR.fullmatch(p.name)) and p.resolve().parent == root.resolve()


def latest_checkpoint(run_dir: Path) -> Optional[Path]:
    root = checkpoint_dir(run_dir)
    pointer = root / "latest"
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        p = root / name
        # The pointer is data in the run folder; resuming must not load a file it names elsewhere.
        if not _STEP_DIR.fullmatch(name) or not _inside(root, p):
            raise UnsafeCheckpointError(f"{pointer} names {name!r}, which is not a checkpoint folder in {root}")
        if (p / "state.pt").is_file():
            return p
    done = sorted(p for p in root.glob("step-*") if _inside(root, p) and (p / "state.pt").is_file())
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
    save_state(rng, tmp / f"rng_rank{info.rank}.pt")
    msd, osd = _model_optim_state(model, wrapped, optimizer, info)
    if info.is_main:
        save_state({"step": step, "model": msd, "optimizer": osd, "scheduler": scheduler.state_dict(),
                    "config": config, "data": data_position, "rng": rng, "world_size": info.world_size,
                    "torch_version": str(torch.__version__)}, tmp / "state.pt")
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
    state = load_state(Path(path) / "state.pt")
    rank_rng = Path(path) / f"rng_rank{info.rank}.pt"
    state["rank_rng"] = load_state(rank_rng) if rank_rng.is_file() else state["rng"]
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

"""Shared helpers for the backend tests: tiny exports written in the test, trainer subprocesses."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
REPO = BACKEND.parent
TRAIN = BACKEND / "train.py"
PY = sys.executable
# A training host with torch and numpy only (Debian's python3-torch): builtin:tiny must work there.
HOST_PY = os.environ.get("DCD_HOST_PYTHON", "/usr/bin/python3")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
       "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
       "TRANSFORMERS_VERBOSITY": "error"}
MAKE_TINY_MODEL = REPO / "scripts" / "make-tiny-model"


def tmpdir(test) -> Path:
    d = tempfile.TemporaryDirectory(prefix="dcd-test-")
    test.addCleanup(d.cleanup)
    return Path(d.name)


def make_export(path: Path, **kw) -> Path:
    from dcd_backend.synth import write_export
    return write_export(path, **kw)


def train_cmd(data: Path, out: Path, *extra: str, model: str = "builtin:tiny", preset: str = "cpu-smoke") -> list:
    return [PY, str(TRAIN), "--data", str(data), "--model", model, "--preset", preset, "--out", str(out),
            "--threads", "1", *extra]


def run_train(data: Path, out: Path, *extra: str, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(train_cmd(data, out, *extra, **kw), env=ENV, capture_output=True, text=True, timeout=timeout)


def read_events(run_dir: Path) -> list:
    p = Path(run_dir) / "events.jsonl"
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def step_events(events: list) -> dict:
    """step -> the last `step` event with that number (a resumed run redoes none, but be safe)."""
    return {e["step"]: e for e in events if e["event"] == "step"}


def wait_for(pred, timeout: float = 60, period: float = 0.005):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(period)
    raise TimeoutError("condition not met in time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def final_weights(run_dir: Path) -> dict:
    """The tensors of RUN_DIR/final (model.safetensors where safetensors is installed, else pytorch_model.bin)."""
    final = Path(run_dir) / "final"
    if (final / "model.safetensors").is_file():
        from safetensors.torch import load_file
        return load_file(str(final / "model.safetensors"))
    from dcd_backend.checkpoint import torch_load
    return torch_load(final / "pytorch_model.bin")


def run_train_inproc(data: Path, out: Path, *extra: str, model: str = "builtin:tiny", preset: str = "cpu-smoke"):
    """train.main() in this process (no torch start-up cost) for runs that need no signals or
    process isolation. Returns an object with .returncode and .stderr like subprocess.run."""
    import contextlib
    import io
    import signal
    import types
    import train
    argv = train_cmd(data, out, *extra, model=model, preset=preset)[2:]
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            rc = train.main(argv)
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
        train.STOP.signum = 0
    return types.SimpleNamespace(returncode=rc, stderr=err.getvalue())


def tiny_hf_model() -> Path:
    """A random-weight Qwen2-architecture model in the Hugging Face layout with the real Qwen2.5
    tokenizer, written by transformers through scripts/make-tiny-model --format hf. Made once and
    cached outside the repository, keyed by the script, the tokenizer derivation and the
    transformers version."""
    import hashlib
    import transformers
    h = hashlib.sha256()
    for f in (MAKE_TINY_MODEL, REPO / "scripts" / "derive-tokenizer.mjs"):
        h.update(f.read_bytes())
    h.update(transformers.__version__.encode())
    cache = Path(os.environ.get("DCD_MODEL_CACHE") or Path.home() / ".cache" / "dcd-studio")
    folder = cache / f"qwen2-tiny-hf-{h.hexdigest()[:16]}"
    if not (folder / "model.safetensors").is_file():
        proc = subprocess.run([PY, str(MAKE_TINY_MODEL), str(folder), "--format", "hf", "--force"], env=ENV,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"make-tiny-model --format hf failed: {proc.stderr[-2000:]}")
    return folder

#!/usr/bin/env python3
"""Regenerate test/fixtures/formats/events.jsonl from real trainer runs (one RUN_DIR):

1. a --dry-run of 3 steps              -> plan, lr x3, done
2. a smoke run stopped by SIGTERM       -> plan, step..., checkpoint (signal)
3. the same run with --resume           -> plan, step..., checkpoint (interval), checkpoint (final), done
4. a run on the export after tampering  -> error
5. a run whose learning rate makes it diverge, in a second RUN_DIR -> plan, step... with
   "loss": "NaN", checkpoint (final), done with "final_loss": "NaN"

    /usr/bin/python3 python-backend/tools/make_events_fixture.py [--out test/fixtures/formats/events.jsonl]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))
from dcd_backend.events import validate  # noqa: E402
from dcd_backend.synth import write_export  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(BACKEND.parent / "test" / "fixtures" / "formats" / "events.jsonl"))
    a = p.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    root = Path(tempfile.mkdtemp(prefix="dcd-fixture-"))
    try:
        data = write_export(root / "export", samples=16, min_len=24, max_len=48, vocab_size=64)
        run = root / "run"
        common = [sys.executable, str(BACKEND / "train.py"), "--data", str(data), "--model", "builtin:tiny",
                  "--preset", "cpu-smoke", "--threads", "1"]
        base = common + ["--out", str(run)]
        train = base + ["--max-steps", "6", "--save-every", "2", "--grad-accum", "2"]
        subprocess.run(base + ["--dry-run", "--max-steps", "3"], env=env, check=True)
        proc = subprocess.Popen(train, env=env)
        events = run / "events.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and '"event": "step"' not in events.read_text():
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        if proc.wait(120) != 128 + signal.SIGTERM:
            raise SystemExit("the training run was not stopped by the signal")
        subprocess.run(train + ["--resume"], env=env, check=True)
        ids = (data / "ids.npy").read_bytes()
        (data / "ids.npy").write_bytes(ids[:-4] + b"\0\0\0\0")
        if subprocess.run(base, env=env).returncode != 2:
            raise SystemExit("the tampered export was not refused")
        diverged = root / "run-diverged"
        (data / "ids.npy").write_bytes(ids)
        subprocess.run(common + ["--out", str(diverged), "--max-steps", "3", "--lr", "1e30", "--max-grad-norm", "0",
                                 "--save-every", "0"], env=env, check=True)
        lines = events.read_text().splitlines() + (diverged / "events.jsonl").read_text().splitlines()
        if '"final_loss": "NaN"' not in lines[-1]:
            raise SystemExit("the diverged run did not diverge")
        for line in lines:
            errs = validate(json.loads(line))
            if errs:
                raise SystemExit(f"invalid event {line}: {errs}")
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} events -> {a.out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

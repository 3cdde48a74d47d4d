#!/usr/bin/env python3
"""Tokens/s of train.py and of TRL's SFTTrainer, one after the other in this process's machine, on
the same tiny random Qwen2 model (scripts/make-tiny-model --format hf) and the same synthetic
export, fp32 on the CPU, same order and hyper-parameters (the setting of tests/test_trl_parity.py).
Prints one JSON object. The first optimizer step of each (warm-up) is left out of the rates.

    .venv/bin/python python-backend/tools/bench_trl.py [--samples 40] [--len 256] [--grad-accum 4] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))


def rate(tokens, seconds) -> float:
    return round(sum(tokens[1:]) / sum(seconds[1:]), 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=40)
    p.add_argument("--len", type=int, default=256)
    p.add_argument("--grad-accum", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from dcd_backend.export import load_export, sha256_file
    from dcd_backend.synth import write_export
    from dcd_backend.trl_reference import run_sft
    from tests.helpers import ENV, tiny_hf_model
    import transformers
    import trl

    model = tiny_hf_model()
    steps = a.samples // a.grad_accum
    with tempfile.TemporaryDirectory(prefix="dcd-bench-trl-") as tmp:
        tmp = Path(tmp)
        data = write_export(tmp / "exp", samples=a.samples, lengths=[a.len] * a.samples, vocab_size=512,
                            tokenizer_sha256=sha256_file(model / "tokenizer.json"), grad_accum=a.grad_accum, epochs=1)
        t0 = time.time()
        proc = subprocess.run([sys.executable, str(BACKEND / "train.py"), "--data", str(data), "--model", str(model),
                               "--preset", "cpu-smoke", "--out", str(tmp / "ours"), "--max-steps", str(steps),
                               "--grad-accum", str(a.grad_accum), "--lr", "1e-3", "--precision", "fp32",
                               "--loss-norm", "token", "--no-grad-ckpt", "--save-every", "0", "--threads", str(a.threads)],
                              env={**ENV, "OMP_NUM_THREADS": str(a.threads)}, capture_output=True, text=True)
        ours_wall = time.time() - t0
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        events = [json.loads(line) for line in (tmp / "ours" / "events.jsonl").read_text().splitlines() if line.strip()]
        ours = [e for e in events if e["event"] == "step"]
        order = json.loads((tmp / "ours" / "data_order.json").read_text())["epochs"][0][:steps * a.grad_accum]
        t0 = time.time()
        ref = run_sft(model, load_export(data), order, tmp / "trl", a.grad_accum, 1e-3, warmup_steps=1)
        trl_wall = time.time() - t0
    ours_tokens = [e["tokens"] for e in ours]
    print(json.dumps({
        "ours_tokens_per_s": rate(ours_tokens, [e["tokens"] / e["tokens_per_s"] for e in ours]),
        "trl_tokens_per_s": rate(ref["step_tokens"], ref["step_s"]),
        "max_loss_difference": max(abs(e["loss"] - x) for e, x in zip(ours, ref["losses"])),
        "steps": steps, "grad_accum": a.grad_accum, "sample_len": a.len, "threads": a.threads,
        "ours_process_wall_s": round(ours_wall, 2), "trl_wall_s": round(trl_wall, 2),
        "model": "tiny random Qwen2 (hidden 32, 2 layers, vocab 151,936), fp32, CPU, no gradient checkpointing",
        "torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
    }))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())

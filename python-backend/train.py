#!/usr/bin/env python3
"""DCD Studio trainer: supervised fine-tuning on a DCD export (docs/SPEC.md §5, docs/FORMATS.md).

    python3 python-backend/train.py --data EXPORT_DIR --model SPEC --preset paper|smoke|cpu-smoke --out RUN_DIR
        [--max-steps N] [--resume] [--dry-run] [--dist ddp|fsdp] [...]

    torchrun --nproc_per_node N python-backend/train.py ...   # data parallel, same global batch

SPEC is a Hugging Face path or id (needs transformers) or ``builtin:tiny`` (pure torch).
Progress goes to RUN_DIR/events.jsonl; checkpoints to RUN_DIR/checkpoints/; the trained model,
in Hugging Face format, to RUN_DIR/final/. Exit codes: 0 done, 1 crash, 2 refused input
(export, tokenizer, missing package, bad flags), 128+signal after a signal checkpoint.

Read top to bottom: arguments -> export -> plan -> (dry run) -> model -> optimizer -> resume
-> the step loop -> the final model.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
import traceback
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dcd_backend.events import LOSS_NORMS, PRECISIONS, EventWriter, utc_now  # noqa: E402  (no torch needed)
from dcd_backend.schedule import CPU_SMOKE  # noqa: E402


class ConfigError(Exception):
    """Bad flags, or a checkpoint made with a different configuration."""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="DCD Studio trainer (docs: python-backend/README.md)")
    p.add_argument("--data", required=True, help="export directory (dcd pack), checked against its manifest")
    p.add_argument("--model", required=True, help="Hugging Face path or id, or builtin:tiny[?hidden=..&layers=..]")
    p.add_argument("--preset", choices=["paper", "smoke", CPU_SMOKE.name], default="paper",
                   help=f"paper | smoke: the export's plan (manifest.plan, from dcd pack); {CPU_SMOKE.name}: a tiny CPU recipe for tests")
    p.add_argument("--out", required=True, help="run directory (events.jsonl, checkpoints/, final/)")
    p.add_argument("--max-steps", type=int, default=None, help="optimizer steps (replaces the epoch count; the schedule spans them)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out (fresh start if none)")
    p.add_argument("--dry-run", action="store_true", help="write the plan and every step's learning rate; do not train")
    p.add_argument("--dist", choices=["ddp", "fsdp"], default="ddp", help="under torchrun: DDP (default) or FSDP full shard (CUDA)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="mixed: fp32 master weights and AdamW states, bf16 autocast compute (default, except "
                        f"{CPU_SMOKE.name}: fp32); bf16: pure bf16 weights and states (loses small updates); fp32")
    p.add_argument("--dtype", choices=["auto", "bf16", "fp32"], default=None,
                   help="older spelling: --dtype bf16 is --precision bf16, --dtype fp32 is --precision fp32, auto the default")
    p.add_argument("--loss-norm", choices=LOSS_NORMS, default="token",
                   help="token (default): each step's loss is the mean over the trained tokens of its whole global batch "
                        "(the Hugging Face Trainer's); sequence: the mean of the micro-batches' own token means")
    p.add_argument("--tokenizer", default=None, help="folder with tokenizer.json to check against the export and copy (default: the model folder)")
    p.add_argument("--allow-tokenizer-mismatch", action="store_true")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--grad-accum", type=int, default=None, help="micro-batches per optimizer step, over all ranks")
    p.add_argument("--max-length", type=int, default=None, help="cut samples to N tokens (0: no cut); shorter than the export's max_length is refused")
    p.add_argument("--max-grad-norm", type=float, default=None, help="gradient clipping (0: off; default 1.0)")
    p.add_argument("--save-every", type=int, default=None, help="checkpoint every N steps (0: only on signal)")
    p.add_argument("--keep-checkpoints", type=int, default=2)
    p.add_argument("--grad-ckpt", dest="grad_ckpt", action="store_true", default=None, help="gradient checkpointing (default: on for HF models, off for builtin:tiny)")
    p.add_argument("--no-grad-ckpt", dest="grad_ckpt", action="store_false")
    p.add_argument("--loss", choices=["auto", "chunked", "liger", "plain"], default="auto", help="auto: Liger where installed (CUDA), else chunked")
    p.add_argument("--ce-chunk", type=int, default=1024, help="tokens per chunk of the chunked cross-entropy")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return p.parse_args(argv)


# --- signals: finish the current micro-batch, checkpoint at the step boundary, exit ---------
class StopFlag:
    signum = 0

    def install(self) -> None:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, self._handler)

    def _handler(self, signum, frame) -> None:
        self.signum = self.signum or signum


STOP = StopFlag()


def main(argv=None) -> int:
    args = parse_args(argv)
    run_dir = Path(args.out).expanduser().resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    STOP.install()
    rank = int(os.environ.get("RANK", "0"))
    events = EventWriter(run_dir / "events.jsonl", enabled=(rank == 0))
    info = None
    try:
        from dcd_backend.models import require
        require("torch", why="to train")
        require("numpy", why="to read the export")
        from dcd_backend import distributed
        info = distributed.init(args.dist, args.device)
        return train(args, run_dir, info, events)
    except Exception as e:  # noqa: BLE001 -- every failure becomes an error event
        return report_error(e, run_dir, events, rank)
    finally:
        if info is not None:
            from dcd_backend import distributed
            distributed.cleanup(info)
        events.close()


def report_error(e: Exception, run_dir: Path, events: EventWriter, rank: int) -> int:
    from dcd_backend.export import ExportError
    from dcd_backend.models import MissingPackage
    stamp = utc_now().replace(":", "").replace("-", "").replace(".", "")
    tb_file = run_dir / "errors" / f"{stamp}-rank{rank}.txt"
    tb_file.parent.mkdir(parents=True, exist_ok=True)
    tb_file.write_text("".join(traceback.format_exception(type(e), e, e.__traceback__)), encoding="utf-8")
    writer = events if events.enabled else EventWriter(events.path)  # a failing non-main rank reports too
    writer.emit("error", message=f"{type(e).__name__}: {e}", traceback_file=str(tb_file), rank=rank)
    print(f"error: {e}\n(traceback: {tb_file})", file=sys.stderr)
    refused = isinstance(e, (ExportError, MissingPackage, ConfigError, ValueError))
    return 2 if refused else 1


# Flags that change the recipe itself: with one of them, --preset may differ from the export's plan.
RECIPE_FLAGS = ("epochs", "grad_accum", "lr", "max_steps")


def recipe_of(r) -> dict:
    return {"preset": r.name, "epochs": r.epochs, "micro_batch": r.micro_batch, "grad_accum": r.grad_accum, "lr": r.lr,
            "warmup_ratio": r.warmup_ratio, "warmup_steps": None, "betas": list(r.betas), "weight_decay": r.weight_decay,
            "max_grad_norm": r.max_grad_norm, "save_every": r.save_every, "max_length": r.max_length,
            "max_steps": r.max_steps, "seed": r.seed, "plan_source": "preset"}


def recipe_from_export(args, export) -> dict:
    """The export's own plan (docs/FORMATS.md section 1), written by `dcd pack` from src/core/training/plan.ts:
    what the extension showed is what runs. A --preset other than the plan's is a mistake unless
    recipe flags say what to run instead."""
    from dcd_backend.export import ExportError
    from dcd_backend.schedule import TRAINER_DEFAULTS
    plan = export.manifest.get("plan")
    if not plan:
        raise ExportError(f"the export has no training plan (manifest.plan), so --preset {args.preset} has nothing to "
                          f"follow; re-pack it with `dcd pack --plan-preset {args.preset}`, or train with --preset {CPU_SMOKE.name}")
    overrides = [f"--{k.replace('_', '-')}" for k in RECIPE_FLAGS if getattr(args, k) is not None]
    if plan.get("preset") != args.preset and not overrides:
        raise ConfigError(f"--preset {args.preset} does not match the export's plan preset {plan.get('preset')!r}; "
                          f"re-pack with `dcd pack --plan-preset {args.preset}`, pass --preset {plan.get('preset')}, or say "
                          f"what to run with {', '.join('--' + k.replace('_', '-') for k in RECIPE_FLAGS)}")
    try:
        steps, warmup = int(plan["optimizer_steps"]), int(plan["warmup_steps"])
        hp = {"preset": str(plan["preset"]), "epochs": int(plan["epochs"]), "micro_batch": int(plan.get("micro_batch", 1)),
              "grad_accum": int(plan["grad_accum"]), "lr": float(plan["lr"]),
              "warmup_ratio": float(plan.get("warmup_ratio", TRAINER_DEFAULTS["warmup_ratio"])),
              "warmup_steps": warmup, "betas": [float(plan.get("adam_beta1", TRAINER_DEFAULTS["betas"][0])),
                        float(plan.get("adam_beta2", TRAINER_DEFAULTS["betas"][1]))],
              "weight_decay": float(plan.get("weight_decay", TRAINER_DEFAULTS["weight_decay"])), "max_grad_norm": TRAINER_DEFAULTS["max_grad_norm"],
              "save_every": TRAINER_DEFAULTS["save_every"], "max_length": None, "max_steps": steps,
              "seed": TRAINER_DEFAULTS["seed"], "plan_source": "export"}
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"the export's plan is incomplete or malformed: {e!r}") from e
    possible = hp["epochs"] * (export.samples // (hp["micro_batch"] * hp["grad_accum"]))
    if plan.get("samples", export.samples) != export.samples or not 0 < steps <= possible or not 0 <= warmup <= steps:
        raise ExportError(f"the export's plan does not fit the export: {export.samples} samples allow at most "
                          f"{possible} steps, the plan has samples={plan.get('samples')}, "
                          f"optimizer_steps={steps}, warmup_steps={warmup}")
    if plan.get("preset") != args.preset:
        print(f"note: --preset {args.preset} differs from the export's plan {plan.get('preset')!r}; running that plan "
              f"with {', '.join(overrides)}", file=sys.stderr)
    return hp


def hyperparameters(args, export) -> dict:
    """The recipe: --preset cpu-smoke is this trainer's own CPU recipe; paper and smoke are the
    export's plan. Then every flag that was given replaces its value. `hp["plan_source"]` says
    which ("export" or "preset")."""
    hp = recipe_of(CPU_SMOKE) if args.preset == CPU_SMOKE.name else recipe_from_export(args, export)
    if hp["micro_batch"] != 1:
        raise ConfigError(f"micro-batch {hp['micro_batch']} is not supported (the recipe uses 1)")
    flags = {"epochs": args.epochs, "grad_accum": args.grad_accum, "lr": args.lr, "max_grad_norm": args.max_grad_norm,
             "save_every": args.save_every, "max_steps": args.max_steps, "seed": args.seed}
    if any(flags[k] is not None for k in ("epochs", "grad_accum", "max_steps")):
        hp["warmup_steps"] = None  # the step count changed: warmup = ceil(ratio x steps) again
        if hp["plan_source"] == "export" and flags["max_steps"] is None:
            hp["max_steps"] = None  # --epochs / --grad-accum: steps from the epochs again
    hp.update({k: v for k, v in flags.items() if v is not None})
    if args.max_length is not None:
        hp["max_length"] = args.max_length or None
    packed = export.manifest.get("max_length")
    if hp["max_length"] is not None and isinstance(packed, int) and hp["max_length"] < packed:
        # The packer flags every sample whose verdict or answer a cut removes; a cut made here would not be.
        raise ConfigError(f"--max-length {hp['max_length']} is shorter than the export's max_length {packed}: "
                          f"samples would be cut after packing, verdicts and answers included, without the packer's "
                          f"flags; re-pack with `dcd pack --max-length {hp['max_length']}` instead")
    return hp


def resolve_precision(args, device) -> str:
    """mixed | bf16 | fp32. Mixed keeps fp32 master weights and AdamW states and runs the forward
    pass under bf16 autocast, as s1 trains: with bf16 weights and states, an AdamW update of a
    1e-5 learning rate is mostly below half a bf16 ulp of the weight and rounds away. The CPU
    recipe keeps fp32 (exact, and bf16 autocast is slow on most CPUs). --dtype is the older flag."""
    import torch
    legacy = {"bf16": "bf16", "fp32": "fp32", "auto": None}.get(args.dtype) if args.dtype else None
    if args.precision and legacy and args.precision != legacy:
        raise ConfigError(f"--dtype {args.dtype} contradicts --precision {args.precision}; pass only --precision")
    chosen = args.precision or legacy
    bf16_ok = device.type != "cuda" or torch.cuda.is_bf16_supported()
    if chosen is None:
        chosen = "fp32" if args.preset == CPU_SMOKE.name else "mixed"
        if chosen == "mixed" and not bf16_ok:
            print("note: this GPU has no bf16 support: training in fp32 (--precision fp32)", file=sys.stderr)
            chosen = "fp32"
    elif chosen != "fp32" and not bf16_ok:
        raise ConfigError(f"--precision {chosen} needs bf16, which this GPU does not support; use --precision fp32")
    return chosen


def upgrade_config(old: dict) -> dict:
    """A checkpoint's config from before --precision and --loss-norm, in today's terms (those runs
    were pure bf16 or fp32, with the per-sequence loss), so that resuming one says what differs."""
    old = dict(old)
    if "precision" not in old:
        old["precision"] = "bf16" if old.pop("dtype", None) == "bfloat16" else "fp32"
    old.setdefault("loss_norm", "sequence")
    return old


def train(args, run_dir: Path, info, events: EventWriter) -> int:
    import numpy as np
    import torch
    from dcd_backend import distributed
    from dcd_backend.checkpoint import (apply_model_optim_state, capture_rng, latest_checkpoint, load_checkpoint,
                                        restore_rng, save_checkpoint)
    from dcd_backend.export import check_tokenizer, load_export
    from dcd_backend.loss import LossFn, trained_tokens
    from dcd_backend.models import CausalLMLoss, load_model, resolve_tokenizer_dir, save_final
    from dcd_backend.schedule import LrLambda, lr_at, make_plan

    t_start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)

    # 1. The export, checked against its manifest (hashes, shapes, counts) and the tokenizer.
    export = load_export(args.data)
    hp = hyperparameters(args, export)
    tokenizer_dir = resolve_tokenizer_dir(args.model, args.tokenizer, Path(args.data))
    tok_json = tokenizer_dir / "tokenizer.json" if tokenizer_dir else None
    tok_warning = check_tokenizer(export, tok_json, args.allow_tokenizer_mismatch)
    if tok_warning:
        print("warning: " + tok_warning, file=sys.stderr)

    # 2. The plan: steps = epochs x floor(samples / global batch), warmup = ceil(5%), cosine to 0.
    plan = make_plan(export.samples, hp["epochs"], hp["grad_accum"], hp["lr"], hp["warmup_ratio"],
                     micro_batch=hp["micro_batch"], world_size=info.world_size, max_steps=hp["max_steps"],
                     warmup_steps=hp["warmup_steps"])
    # Precision: the weights' dtype (and so the AdamW states') and the forward pass's.
    precision = resolve_precision(args, info.device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    compute_dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    config = {  # what a checkpoint must agree with to be resumed
        "export": export.fingerprint(), "model": args.model, **{k: v for k, v in hp.items() if k != "save_every"},
        "total_steps": plan.total_steps, "precision": precision, "loss_norm": args.loss_norm,
    }
    state = None
    if args.resume:
        ckpt = latest_checkpoint(run_dir)
        if ckpt is not None:
            state = load_checkpoint(ckpt, info)
            saved = upgrade_config(state["config"])
            diff = {k: (saved.get(k), v) for k, v in config.items() if saved.get(k) != v}
            if diff:
                raise ConfigError(f"cannot resume {ckpt}: it was made with a different configuration "
                                  + ", ".join(f"{k}: {a!r} != {b!r}" for k, (a, b) in diff.items()))
    start_step = state["step"] if state else 0
    events.emit("plan", total_steps=plan.total_steps, warmup_steps=plan.warmup_steps, samples=export.samples,
                tokens=export.tokens, trained_tokens=export.trained_tokens, epochs=plan.epochs,
                grad_accum=plan.grad_accum, lr=plan.lr, preset=hp["preset"], model=args.model,
                micro_batch=plan.micro_batch, world_size=info.world_size, steps_per_epoch=plan.steps_per_epoch,
                global_batch=plan.global_batch, seed=hp["seed"], max_length=hp["max_length"],
                max_grad_norm=hp["max_grad_norm"], weight_decay=hp["weight_decay"], betas=hp["betas"],
                dtype=str(dtype).replace("torch.", ""), precision=precision, loss_norm=args.loss_norm,
                device=str(info.device), dist=info.mode, resume_step=start_step,
                dry_run=bool(args.dry_run), plan_source=hp["plan_source"],
                tokenizer_warning=tok_warning)

    finished = finished_run(run_dir, config) if args.resume and not args.dry_run else None
    if finished is not None:  # --resume of a run that already completed: nothing to redo
        events.emit("done", step=plan.total_steps, final_loss=finished.get("final_loss"),
                    model_dir=str(run_dir / "final"), elapsed_s=0.0, already_done=True)
        return 0

    if args.dry_run:  # the plan and every step's learning rate (step is 1-based, like `step` events)
        for s in range(plan.total_steps):
            events.emit("lr", step=s + 1, lr=lr_at(s, plan))
        events.emit("done", step=plan.total_steps, final_loss=None, model_dir=None,
                    elapsed_s=round(time.time() - t_start, 3), dry_run=True)
        return 0

    # 3. The model, the loss and data parallelism.
    random.seed(hp["seed"])
    np.random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    loaded = load_model(args.model, export.vocab_size or export.max_id + 1, info.device, dtype, args.grad_ckpt,
                        tokenizer_dir, hp["seed"], compute_dtype=compute_dtype)
    if export.max_id >= loaded.vocab_size:
        raise ConfigError(f"the export has token id {export.max_id}, but the model's vocabulary has {loaded.vocab_size} entries")
    loss_fn = LossFn(args.loss, args.ce_chunk, info.device)
    module = CausalLMLoss(loaded, loss_fn)
    module.train()
    if not all(m.training for m in module.modules()):
        raise RuntimeError("the model is not in training mode: dropout and gradient checkpointing would be off")
    wrapped = distributed.wrap(module, info, loaded.layer_cls)

    def autocast():  # mixed: bf16 matmuls on fp32 weights; backward runs in the dtypes the forward chose
        if precision != "mixed":
            return nullcontext()
        return torch.autocast(device_type=info.device.type, dtype=torch.bfloat16)

    # 4. AdamW (0.9, 0.95), weight decay on matrices only (not biases or norms, as the HF Trainer).
    #    Its states take the parameters' dtype: fp32 under mixed precision.
    named = list((wrapped if info.mode == "fsdp" else module).named_parameters())
    no_decay = lambda n: n.endswith("bias") or "norm" in n  # noqa: E731
    groups = [{"params": [p for n, p in named if p.requires_grad and not no_decay(n)], "weight_decay": hp["weight_decay"]},
              {"params": [p for n, p in named if p.requires_grad and no_decay(n)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=plan.lr, betas=tuple(hp["betas"]), eps=1e-8)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LrLambda(plan.warmup_steps, plan.total_steps))

    # 5. Resume: weights, optimizer, scheduler, RNG, data position.
    elapsed_before = 0.0
    if state:
        apply_model_optim_state(state, module, wrapped, optimizer, info)
        scheduler.load_state_dict(state["scheduler"])
        restore_rng(state["rank_rng"])
        elapsed_before = float(state["data"].get("elapsed_s", 0.0))
    order = data_order(run_dir, plan, hp["seed"], export, info)

    # 6. The step loop. Each rank runs grad_accum / world micro-batches of the step's global batch.
    #    --loss-norm token: every micro-batch's summed loss is divided by the trained-token count of
    #    the whole global batch (all ranks), counted before the window starts, so the gradient is
    #    that of the global batch's token mean whatever the accumulation, as in the Hugging Face
    #    Trainer; a token of a short sample weighs what a token of a long one does. DDP and FSDP
    #    average gradients over ranks, hence the x world size. --loss-norm sequence: the mean of the
    #    micro-batches' own token means (each sample weighs the same, whatever its length).
    local_accum = plan.grad_accum // info.world_size
    step_loss = None
    t_loop = time.time()

    def position(step: int) -> dict:
        epoch, k = divmod(step, plan.steps_per_epoch)
        return {"step": step, "epoch": epoch, "index_in_epoch": k * plan.global_batch,
                "elapsed_s": elapsed_before + time.time() - t_loop}

    def checkpoint(step: int, reason: str, rng) -> Path:
        path = save_checkpoint(run_dir, step, reason, module, wrapped, optimizer, scheduler, config,
                               position(step), rng, info, keep=args.keep_checkpoints)
        events.emit("checkpoint", step=step, path=str(path), reason=reason)
        return path

    def stop_requested() -> bool:
        return distributed.any_true(STOP.signum != 0, info)

    for step in range(start_step, plan.total_steps):
        rng_at_boundary = capture_rng()
        t_step = time.time()
        epoch, k = divmod(step, plan.steps_per_epoch)
        batch = order[epoch][k * plan.global_batch:(k + 1) * plan.global_batch]
        mine = batch[info.rank * local_accum:(info.rank + 1) * local_accum]
        loss_sum, tokens = 0.0, 0
        window = [export.sample(i, hp["max_length"]) for i in mine]
        if args.loss_norm == "token":
            denominator = max(distributed.all_reduce_sum(sum(trained_tokens(lb) for _, lb in window), info), 1.0)
            scale = float(info.world_size)
        else:
            denominator, scale = None, 1.0 / local_accum  # DDP averages over ranks: / grad_accum in total
        for j, (ids, labels) in enumerate(window):
            x = torch.from_numpy(ids.astype(np.int64))[None].to(info.device)
            y = torch.from_numpy(labels.astype(np.int64))[None].to(info.device)
            defer_sync = info.mode == "ddp" and info.enabled and j < local_accum - 1
            with wrapped.no_sync() if defer_sync else nullcontext():
                with autocast():
                    loss = wrapped(x, y, denominator)
                (loss * scale).backward()
            loss_sum += float(loss.detach())
            tokens += len(ids)
            if stop_requested():  # mid-step: drop the partial gradients, save the state of the boundary
                optimizer.zero_grad(set_to_none=True)
                path = checkpoint(step, "signal", rng_at_boundary)
                print(f"signal {STOP.signum}: stopped inside step {step + 1} after {j + 1}/{local_accum} micro-batches; "
                      f"checkpoint of step {step} in {path}", file=sys.stderr)
                return 128 + STOP.signum
        if hp["max_grad_norm"] and hp["max_grad_norm"] > 0:
            max_norm = hp["max_grad_norm"]
        else:
            max_norm = float("inf")
        if info.mode == "fsdp":
            grad_norm = wrapped.clip_grad_norm_(max_norm)
        else:
            grad_norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], max_norm)
        lr_used = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        # token: the micro-batch losses add up to the global batch's token mean; sequence: average them.
        step_loss = distributed.all_reduce_sum(loss_sum, info) / (1 if args.loss_norm == "token" else plan.grad_accum)
        step_tokens = int(distributed.all_reduce_sum(tokens, info))
        dt = time.time() - t_step
        events.emit("step", step=step + 1, loss=step_loss, lr=lr_used, grad_norm=float(grad_norm),
                    tokens=step_tokens, tokens_per_s=round(step_tokens / max(dt, 1e-9), 3),
                    elapsed_s=round(elapsed_before + time.time() - t_loop, 3), epoch=epoch)
        done_steps = step + 1
        if stop_requested():
            path = checkpoint(done_steps, "signal", capture_rng())
            print(f"signal {STOP.signum}: stopped after step {done_steps}; checkpoint in {path}", file=sys.stderr)
            return 128 + STOP.signum
        if hp["save_every"] and done_steps % hp["save_every"] == 0 and done_steps < plan.total_steps:
            checkpoint(done_steps, "interval", capture_rng())

    # 7. The final model, in Hugging Face format with the tokenizer files and chat template. Mixed
    #    precision saves its fp32 master weights in bf16: the dtype Qwen2.5 ships in and that
    #    vLLM's dtype=auto then picks (an fp32 config would be served in fp16); checkpoints keep fp32.
    save_dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    final_dir = run_dir / "final"
    full_sd = None
    if info.mode == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
        full_sd = get_model_state_dict(wrapped, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        full_sd = {k[len("lm."):] if k.startswith("lm.") else k: v for k, v in full_sd.items()}
    if info.is_main:
        notes = save_final(loaded, final_dir, full_sd, args.model, dtype=save_dtype)
        (final_dir / "dcd_training.json").write_text(json.dumps(
            {"config": config, "plan": plan.to_dict(), "final_loss": step_loss, "loss_impl": loss_fn.impl,
             "precision": precision, "loss_norm": args.loss_norm, "weights_dtype": str(dtype).replace("torch.", ""),
             "compute_dtype": str(compute_dtype).replace("torch.", ""),
             "saved_dtype": str(save_dtype).replace("torch.", ""),
             "attn": loaded.attn, "notes": loaded.notes + notes,
             "lineage": run_lineage(args, export, config, precision)}, indent=2) + "\n", encoding="utf-8")
    distributed.barrier(info)
    events.emit("checkpoint", step=plan.total_steps, path=str(final_dir), reason="final")
    events.emit("done", step=plan.total_steps, final_loss=step_loss, model_dir=str(final_dir),
                elapsed_s=round(elapsed_before + time.time() - t_loop, 3))
    return 0


def run_lineage(args, export, config: dict, precision: str) -> dict:
    """docs/FORMATS.md §6: the export this run trained on, by path and the sha256 of its
    manifest.json (which holds every array file's hash and the corpus hash), and what ran."""
    import hashlib
    import dcd_backend
    export_dir = Path(args.data).resolve()
    return {
        "format": "dcd-lineage", "version": 1, "kind": "run",
        "parents": [{"kind": "export", "path": str(export_dir),
                     "sha256": hashlib.sha256((export_dir / "manifest.json").read_bytes()).hexdigest(),
                     "fingerprint": export.fingerprint()}],
        "recipe": {k: v for k, v in config.items() if k != "export"},
        "precision": precision, "loss_norm": args.loss_norm,
        "code_version": {"dcd_backend": dcd_backend.__version__,
                         "train_py_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()},
    }


def finished_run(run_dir: Path, config: dict):
    """The record of a completed run with this configuration in RUN_DIR/final, if there is one."""
    path = run_dir / "final" / "dcd_training.json"
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return rec if upgrade_config(rec.get("config") or {}) == json.loads(json.dumps(config)) else None


def data_order(run_dir: Path, plan, seed: int, export, info) -> list:
    """Each epoch's shuffled sample order, seeded; recorded in RUN_DIR/data_order.json and read
    back from there on resume so the order cannot drift."""
    import numpy as np
    path = run_dir / "data_order.json"
    epochs_needed = -(-plan.total_steps // plan.steps_per_epoch)
    if path.is_file():
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec.get("seed") == seed and rec.get("samples") == plan.samples and len(rec.get("epochs", [])) >= epochs_needed:
            return rec["epochs"]
    order = [np.random.default_rng([seed, e]).permutation(plan.samples).tolist() for e in range(epochs_needed)]
    if info.is_main:
        rec = {"seed": seed, "samples": plan.samples, "global_batch": plan.global_batch,
               "steps_per_epoch": plan.steps_per_epoch, "unused_per_epoch": plan.samples - plan.steps_per_epoch * plan.global_batch,
               "sample_ids": export.manifest.get("sample_ids"), "epochs": order}
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(rec) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return order


if __name__ == "__main__":
    sys.exit(main())

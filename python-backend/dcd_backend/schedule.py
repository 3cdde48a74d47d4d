"""Training plan and learning-rate schedule (docs/SPEC.md §5).

optimizer steps = epochs x floor(samples / global_batch), global_batch = micro_batch x grad_accum
(summed over all ranks); the remainder of each epoch's shuffled order is not used. This is the
paper's count (520 steps for 1,675 samples, 16 x 5 epochs), not transformers 5.x's, which takes
ceil(batches / accumulation) steps per epoch with a short last step (525): docs/SPEC.md §5.
warmup = ceil(warmup_ratio x steps); linear warmup from 0, then cosine to 0.

The schedule is Hugging Face's ``get_cosine_schedule_with_warmup``: the learning rate used by
0-based optimizer step ``s`` is ``lr * s / warmup`` while ``s < warmup``, then
``lr * 0.5 * (1 + cos(pi * (s - warmup) / (total - warmup)))``. So step 0 uses 0, step
``warmup`` uses the peak, and the last step uses a value just above 0.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Optional, Tuple


@dataclass(frozen=True)
class Recipe:
    name: str
    epochs: int
    micro_batch: int
    grad_accum: int
    lr: float
    warmup_ratio: float
    betas: tuple
    weight_decay: float
    max_grad_norm: float
    save_every: int
    max_length: Optional[int]
    max_steps: Optional[int]
    seed: int


# The paper and smoke recipes live in src/core/training/plan.ts and reach the trainer through the export's
# manifest.plan. This is the only recipe defined here: a tiny-model, high-lr run that shows a
# falling loss on a CPU within seconds (tests, the demo, the benchmark). It does not cut samples:
# the export's own max_length is the only truncation.
CPU_SMOKE = Recipe(name="cpu-smoke", epochs=1, micro_batch=1, grad_accum=2, lr=3e-3, warmup_ratio=0.05,
                   betas=(0.9, 0.95), weight_decay=1e-4, max_grad_norm=1.0, save_every=5,
                   max_length=None, max_steps=20, seed=42)

# What a manifest plan does not say. max_grad_norm 1.0 is the Hugging Face Trainer default (the
# paper is silent). The optimizer values are docs/SPEC.md §5's, for exports packed before the plan
# recorded them.
TRAINER_DEFAULTS = {"max_grad_norm": 1.0, "save_every": 100, "seed": 42,
                    "warmup_ratio": 0.05, "betas": (0.9, 0.95), "weight_decay": 1e-4}


def warmup_steps_for(total_steps: int, warmup_ratio: float) -> int:
    """ceil(ratio x steps), computed exactly (0.05 x 520 must give 26, not 27)."""
    return math.ceil(Fraction(str(warmup_ratio)) * total_steps)


def step_counts(samples: int, epochs: int, global_batch: int, warmup_ratio: float,
                cap: Optional[int] = None) -> Tuple[int, int, int]:
    """The arithmetic of src/core/training/plan.ts, and its only Python copy: (steps per epoch, optimizer
    steps, warmup steps) with steps per epoch = floor(samples / global batch), optimizer steps =
    epochs x that, at most ``cap``, and warmup = ceil(warmup_ratio x optimizer steps)."""
    per_epoch = samples // global_batch
    steps = epochs * per_epoch
    if cap is not None:
        steps = min(steps, cap)
    return per_epoch, steps, warmup_steps_for(steps, warmup_ratio)


def manifest_plan(samples: int, preset: str, epochs: int, grad_accum: int, lr: float,
                  warmup_ratio: float = 0.05, max_steps: Optional[int] = None, micro_batch: int = 1,
                  tokens: Optional[int] = None, trained_tokens: Optional[int] = None,
                  model: str = "builtin:tiny") -> dict:
    """A manifest ``plan`` section (docs/FORMATS.md section 1), shaped like core/training/plan.ts's
    TrainingPlan, for exports written on the Python side (synthetic test data)."""
    per_epoch, steps, warmup = step_counts(samples, epochs, micro_batch * grad_accum, warmup_ratio, cap=max_steps)
    return {"preset": preset, "model": model, "samples": samples, "epochs": epochs, "micro_batch": micro_batch,
            "grad_accum": grad_accum, "steps_per_epoch": per_epoch, "optimizer_steps": steps,
            "warmup_steps": warmup, "warmup_ratio": warmup_ratio, "lr": lr, "schedule": "cosine",
            "adam_beta1": 0.9, "adam_beta2": 0.95, "weight_decay": 1e-4,
            "tokens": tokens, "trained_tokens": trained_tokens}


@dataclass(frozen=True)
class Plan:
    samples: int
    epochs: int
    micro_batch: int
    grad_accum: int
    world_size: int
    global_batch: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    lr: float

    def to_dict(self) -> dict:
        return asdict(self)


def make_plan(samples: int, epochs: int, grad_accum: int, lr: float, warmup_ratio: float,
              micro_batch: int = 1, world_size: int = 1, max_steps: Optional[int] = None,
              warmup_steps: Optional[int] = None) -> Plan:
    """The optimizer-step plan. ``grad_accum`` is the global number of micro-batches per
    optimizer step (split over ``world_size`` ranks), so the global batch does not depend on
    the number of processes. ``max_steps`` replaces the epoch-derived count (as in the Hugging
    Face Trainer); the schedule is then computed over ``max_steps``. ``warmup_steps``, when
    given (an export's plan), replaces ceil(warmup_ratio x steps)."""
    if grad_accum % world_size != 0:
        raise ValueError(f"grad_accum {grad_accum} is not divisible by the world size {world_size}")
    global_batch = micro_batch * grad_accum
    if samples // global_batch == 0:
        raise ValueError(f"{samples} samples are fewer than one global batch of {global_batch}: no optimizer step")
    if max_steps:
        epochs = math.ceil(int(max_steps) / (samples // global_batch))
    per_epoch, total, warmup = step_counts(samples, epochs, global_batch, warmup_ratio,
                                           cap=int(max_steps) if max_steps else None)
    return Plan(samples=samples, epochs=epochs, micro_batch=micro_batch, grad_accum=grad_accum,
                world_size=world_size, global_batch=global_batch, steps_per_epoch=per_epoch, total_steps=total,
                warmup_steps=warmup if warmup_steps is None else int(warmup_steps), lr=lr)


def lr_multiplier(step: int, warmup_steps: int, total_steps: int) -> float:
    """Factor of the peak lr used by 0-based optimizer step ``step`` (HF cosine with warmup)."""
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def lr_at(step: int, plan: Plan) -> float:
    return plan.lr * lr_multiplier(step, plan.warmup_steps, plan.total_steps)


class LrLambda:
    """Picklable multiplier for ``torch.optim.lr_scheduler.LambdaLR``."""

    def __init__(self, warmup_steps: int, total_steps: int):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step: int) -> float:
        return lr_multiplier(step, self.warmup_steps, self.total_steps)

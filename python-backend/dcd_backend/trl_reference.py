"""TRL's SFTTrainer on a DCD export: the reference train.py is checked against (tests/test_trl_parity.py)
and measured beside (bench/trainer-trl.ts). Needs transformers, trl and datasets; imported lazily.

The export's labels are given to TRL as they are, so it trains exactly the tokens train.py trains
(the completion-only mask) and skips its own dataset preparation; the samples come in the given
order (sequential sampler), one per micro-batch, in fp32 on the CPU.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence


def run_sft(model_dir: Path, export, order: Sequence[int], out_dir: Path, grad_accum: int, lr: float,
            warmup_steps: int, weight_decay: float = 1e-4, betas=(0.9, 0.95), max_grad_norm: float = 1.0) -> dict:
    """One epoch over ``order``. Returns per-step ``losses`` (the global batch's token mean),
    ``grad_norms``, ``step_s`` and ``step_tokens`` (every input token), and the final ``state_dict``."""
    import torch
    import transformers
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    rows = {"input_ids": [], "labels": []}
    for i in order:
        ids, labels = export.sample(i)
        rows["input_ids"].append(ids.tolist())
        rows["labels"].append(labels.tolist())
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    args = SFTConfig(
        output_dir=str(out_dir), per_device_train_batch_size=1, gradient_accumulation_steps=grad_accum,
        num_train_epochs=1, learning_rate=lr, lr_scheduler_type="cosine", warmup_steps=warmup_steps,
        adam_beta1=betas[0], adam_beta2=betas[1], adam_epsilon=1e-8, weight_decay=weight_decay,
        max_grad_norm=max_grad_norm, optim="adamw_torch", bf16=False, fp16=False, use_cpu=True,
        gradient_checkpointing=False, train_sampling_strategy="sequential", packing=False, padding_free=False,
        max_length=None, dataset_kwargs={"skip_prepare_dataset": True}, report_to=[], logging_steps=1,
        save_strategy="no", dataloader_num_workers=0, seed=42, use_liger_kernel=False, disable_tqdm=True)
    micro_losses, step_s = [], []

    class Timing(transformers.TrainerCallback):
        def on_step_begin(self, *a, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, *a, **kw):
            step_s.append(time.perf_counter() - self.t0)

    class Recording(SFTTrainer):
        # training_step returns each micro-batch's loss as it was backpropagated: its summed loss
        # divided by the window's trained tokens, so a window's values add up to the step's loss.
        def training_step(self, *a, **kw):
            loss = super().training_step(*a, **kw)
            micro_losses.append(float(loss))
            return loss

    trainer = Recording(model=model, args=args, train_dataset=Dataset.from_dict(rows), processing_class=tok,
                        callbacks=[Timing()])
    trainer.remove_callback(transformers.PrinterCallback)  # its log lines would interleave with the caller's output
    trainer.train()
    n = len(micro_losses) // grad_accum
    return {
        "losses": [sum(micro_losses[k * grad_accum:(k + 1) * grad_accum]) for k in range(n)],
        "grad_norms": [h["grad_norm"] for h in trainer.state.log_history if "grad_norm" in h],
        "step_s": step_s,
        "step_tokens": [sum(len(rows["input_ids"][j]) for j in range(k * grad_accum, (k + 1) * grad_accum)) for k in range(n)],
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }

"""train.py's Hugging Face path against the real transformers, on a tiny random-weight
Qwen2-architecture model folder made by transformers itself (scripts/make-tiny-model --format hf)."""
import json
import subprocess
import unittest

import torch
from safetensors.torch import load_file

from dcd_backend.export import sha256_file

from .helpers import ENV, make_export, read_events, run_train_inproc, step_events, tiny_hf_model, tmpdir, train_cmd


def tensors_saved_in_forward(run) -> int:
    """How many tensors the model's forward passes kept for backward during RUN(). Gradient
    checkpointing keeps only each layer's inputs and recomputes the rest in the backward pass,
    so it saves far fewer."""
    saved, in_forward = 0, False

    def pack(t):
        nonlocal saved
        saved += in_forward
        return t

    def enter(module, args):
        nonlocal in_forward
        if type(module).__name__ == "CausalLMLoss":
            in_forward = True

    def leave(module, args, output):
        nonlocal in_forward
        if type(module).__name__ == "CausalLMLoss":
            in_forward = False

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(enter),
             torch.nn.modules.module.register_module_forward_hook(leave)]
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            run()
    finally:
        for h in hooks:
            h.remove()
    return saved


class HuggingFacePath(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = tiny_hf_model()

    def export(self, root, **kw):
        return make_export(root / "exp", vocab_size=512, tokenizer_sha256=sha256_file(self.model / "tokenizer.json"), **kw)

    def test_trains_and_saves_a_complete_model_folder(self):
        import transformers
        print(f"transformers {transformers.__version__}, torch {torch.__version__}")
        root = tmpdir(self)
        data = self.export(root, samples=16)
        proc = subprocess.run(train_cmd(data, root / "run", "--max-steps", "3", model=str(self.model)), env=ENV,
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        steps = step_events(read_events(root / "run"))
        self.assertEqual(sorted(steps), [1, 2, 3])
        for s in steps.values():
            self.assertTrue(torch.isfinite(torch.tensor(s["loss"])), s)

        final = root / "run" / "final"
        info = json.loads((final / "dcd_training.json").read_text())
        self.assertEqual(info["loss_impl"], "chunked")
        # final/ is a complete Hugging Face model folder: it loads, and its chat template works.
        lm = transformers.AutoModelForCausalLM.from_pretrained(final)
        tok = transformers.AutoTokenizer.from_pretrained(final)
        prompt = tok.apply_chat_template([{"role": "user", "content": "What is 2+2?"}], tokenize=False,
                                         add_generation_prompt=True)
        self.assertTrue(prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>assistant\n"), prompt)
        self.assertEqual((final / "tokenizer.json").read_bytes(), (self.model / "tokenizer.json").read_bytes())
        # Training changed the weights it loaded.
        before, after = load_file(str(self.model / "model.safetensors")), lm.state_dict()
        name = "model.layers.0.mlp.down_proj.weight"
        self.assertFalse(torch.equal(before[name], after[name]))

    def test_gradient_checkpointing_runs_when_requested(self):
        root = tmpdir(self)
        data = self.export(root, samples=16, grad_accum=4)

        def train(name, *extra):
            def run():
                proc = run_train_inproc(data, root / name, "--max-steps", "1", *extra, model=str(self.model))
                self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
            return run

        on = tensors_saved_in_forward(train("on", "--grad-ckpt"))
        off = tensors_saved_in_forward(train("off", "--no-grad-ckpt"))
        self.assertGreater(on, 0)
        self.assertLess(2 * on, off, "with checkpointing the forward pass must keep far fewer activations")

    def test_final_folder_has_a_chat_template_when_the_tokenizer_folder_lacks_one(self):
        # A Hub id resolves its tokenizer to the cache folder holding tokenizer.json, which need not
        # hold tokenizer_config.json; evaluation with --apply_chat_template needs the template.
        import shutil
        import transformers
        root = tmpdir(self)
        bare = root / "tokenizer-only"
        bare.mkdir()
        shutil.copy2(self.model / "tokenizer.json", bare / "tokenizer.json")
        data = self.export(root, samples=8, grad_accum=2)
        for name, model in (("hf", str(self.model)), ("tiny", "builtin:tiny")):
            with self.subTest(model=name):
                tokenizer = bare if name == "hf" else self.model
                proc = run_train_inproc(data, root / name, "--max-steps", "1", "--tokenizer", str(tokenizer),
                                        "--no-grad-ckpt", model=model)
                self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
                final = root / name / "final"
                self.assertTrue((final / "tokenizer_config.json").is_file(), sorted(p.name for p in final.iterdir()))
                transformers.AutoModelForCausalLM.from_pretrained(final)
                tok = transformers.AutoTokenizer.from_pretrained(final)
                prompt = tok.apply_chat_template([{"role": "user", "content": "2+2?"}], tokenize=False,
                                                 add_generation_prompt=True)
                self.assertTrue(prompt.endswith("<|im_start|>assistant\n"), prompt)
                self.assertEqual((final / "tokenizer.json").read_bytes(), (self.model / "tokenizer.json").read_bytes())

    def test_tokenizer_mismatch_is_refused_before_loading(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=16, vocab_size=64)  # another tokenizer's fingerprint
        proc = run_train_inproc(data, root / "run", "--dry-run", model=str(self.model))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("tokenizer fingerprint mismatch", read_events(root / "run")[-1]["message"])


if __name__ == "__main__":
    unittest.main()

import unittest

import torch
import torch.nn.functional as F

from dcd_backend.loss import LossFn, chunked_linear_cross_entropy, plain_cross_entropy
from dcd_backend.model_tiny import TinyConfig, TinyForCausalLM


def grads(fn, h, w, y):
    h = h.detach().clone().requires_grad_(True)
    w = w.detach().clone().requires_grad_(True)
    loss = fn(h, w, y)
    loss.backward()
    return loss.detach(), h.grad, w.grad


class ChunkedCrossEntropy(unittest.TestCase):
    def setUp(self):
        g = torch.Generator().manual_seed(0)
        self.N, self.H, self.V = 301, 24, 1000
        self.h = torch.randn(self.N, self.H, generator=g)
        self.w = torch.randn(self.V, self.H, generator=g) * 0.5
        self.y = torch.randint(0, self.V, (self.N,), generator=g)
        self.y[:40] = -100          # a masked prompt
        self.y[150:170] = -100      # a masked span in the middle

    def test_equals_plain_cross_entropy(self):
        ref_loss, ref_gh, ref_gw = grads(plain_cross_entropy, self.h, self.w, self.y)
        # F.cross_entropy on full logits is the reference
        self.assertAlmostEqual(float(ref_loss), float(F.cross_entropy(self.h @ self.w.t(), self.y, ignore_index=-100)), places=5)
        for chunk in (1, 7, 32, 64, 300, 301, 1024):
            loss, gh, gw = grads(lambda h, w, y: chunked_linear_cross_entropy(h, w, y, chunk), self.h, self.w, self.y)
            with self.subTest(chunk=chunk):
                torch.testing.assert_close(loss, ref_loss, rtol=1e-6, atol=1e-6)
                torch.testing.assert_close(gh, ref_gh, rtol=1e-5, atol=1e-7)
                torch.testing.assert_close(gw, ref_gw, rtol=1e-5, atol=1e-7)

    def test_upstream_gradient_scales(self):
        _, gh, gw = grads(lambda h, w, y: chunked_linear_cross_entropy(h, w, y, 64) / 16, self.h, self.w, self.y)
        _, rh, rw = grads(lambda h, w, y: plain_cross_entropy(h, w, y) / 16, self.h, self.w, self.y)
        torch.testing.assert_close(gh, rh, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(gw, rw, rtol=1e-5, atol=1e-8)

    def test_all_masked_gives_zero_loss_and_zero_grads(self):
        y = torch.full((self.N,), -100)
        loss, gh, gw = grads(lambda h, w, y: chunked_linear_cross_entropy(h, w, y, 64), self.h, self.w, y)
        self.assertEqual(float(loss), 0.0)
        self.assertEqual(float(gh.abs().sum()), 0.0)
        self.assertEqual(float(gw.abs().sum()), 0.0)

    def test_bf16_close_to_fp32(self):
        ref = plain_cross_entropy(self.h, self.w, self.y)
        loss = chunked_linear_cross_entropy(self.h.bfloat16(), self.w.bfloat16(), self.y, 64)
        self.assertEqual(loss.dtype, torch.float32)
        self.assertLess(abs(float(loss) - float(ref)) / float(ref), 2e-2)

    def test_never_allocates_full_vocabulary_logits(self):
        from torch.profiler import ProfilerActivity, profile
        N, V, H, chunk = 2048, 4096, 16, 256
        h = torch.randn(N, H, requires_grad=True)
        w = torch.randn(V, H, requires_grad=True)
        y = torch.randint(0, V, (N,))
        full = N * V * 4

        def peak(fn):
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                fn(h, w, y).backward()
            return max(e.self_cpu_memory_usage for e in prof.events())

        self.assertGreaterEqual(peak(plain_cross_entropy), full)  # the profiler sees the full logits
        self.assertLessEqual(peak(lambda h, w, y: chunked_linear_cross_entropy(h, w, y, chunk)), chunk * V * 4 * 1.01)


class MaskedPositionsIgnored(unittest.TestCase):
    """Loss = mean over trained tokens (labels != -100), through the model and the causal shift."""

    def setUp(self):
        torch.manual_seed(0)
        self.model = TinyForCausalLM(TinyConfig(vocab_size=97, hidden_size=32, intermediate_size=64))
        self.model.eval()
        self.loss = LossFn("chunked", chunk_size=8)
        g = torch.Generator().manual_seed(1)
        self.ids = torch.randint(0, 97, (1, 30), generator=g)
        self.labels = self.ids.clone()
        self.labels[0, :10] = -100    # prompt
        self.labels[0, 25:] = -100    # masked tail (e.g. a cut region)

    def compute(self, ids, labels):
        with torch.no_grad():
            return float(self.loss(self.model.model(ids), self.model.lm_head.weight, labels))

    def test_matches_manual_mean_over_trained_tokens(self):
        with torch.no_grad():
            logp = torch.log_softmax(self.model(self.ids)[0].double(), -1)
        terms = [-float(logp[t - 1, self.ids[0, t]]) for t in range(30) if self.labels[0, t] != -100]
        self.assertEqual(len(terms), 15)
        self.assertAlmostEqual(self.compute(self.ids, self.labels), sum(terms) / len(terms), places=5)

    def test_changing_masked_tail_tokens_leaves_loss_unchanged(self):
        base = self.compute(self.ids, self.labels)
        ids2 = self.ids.clone()
        ids2[0, 25:] = (ids2[0, 25:] + 13) % 97     # other ids in the masked tail (labels stay -100)
        self.assertEqual(self.compute(ids2, self.labels), base)
        ids3 = self.ids.clone()
        ids3[0, 24] = (ids3[0, 24] + 13) % 97       # control: a trained token changes the loss
        labels3 = self.labels.clone()
        labels3[0, 24] = ids3[0, 24]
        self.assertNotEqual(self.compute(ids3, labels3), base)

    def test_first_label_is_never_a_target(self):
        base = self.compute(self.ids, self.labels)
        labels2 = self.labels.clone()
        labels2[0, 0] = self.ids[0, 0]             # position 0 has nothing before it to predict it
        self.assertEqual(self.compute(self.ids, labels2), base)

    def test_masking_a_token_removes_exactly_its_term(self):
        with torch.no_grad():
            logp = torch.log_softmax(self.model(self.ids)[0].double(), -1)
        labels2 = self.labels.clone()
        labels2[0, 12] = -100
        terms = [-float(logp[t - 1, self.ids[0, t]]) for t in range(30) if labels2[0, t] != -100]
        self.assertAlmostEqual(self.compute(self.ids, labels2), sum(terms) / len(terms), places=5)
        self.assertNotAlmostEqual(self.compute(self.ids, labels2), self.compute(self.ids, self.labels), places=6)


if __name__ == "__main__":
    unittest.main()

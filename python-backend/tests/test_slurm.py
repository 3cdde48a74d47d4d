import os
import re
import shlex
import shutil
import signal
import subprocess
import unittest

from .helpers import BACKEND, ENV, PY, make_export, read_events, step_events, tmpdir, wait_for

TEMPLATE = BACKEND / "slurm" / "dcd-train.sbatch"
PLACEHOLDERS = {"job_name", "partition", "account", "gpus", "cpus_per_task", "mem", "time", "job_dir",
                "signal_lead_s", "job_dir_q", "python_q", "torchrun_args", "backend_dir_q", "export_dir_q",
                "model_q", "preset", "dist", "train_args"}


def render(values: dict) -> str:
    """The rendering rules of python-backend/README.md: `{{name}}` -> value verbatim (the *_q values
    already shell-quoted by the caller); an `#SBATCH` line whose value is empty is dropped."""
    text = TEMPLATE.read_text()
    unknown = set(re.findall(r"\{\{(\w+)\}\}", text)) - set(values)
    if unknown:
        raise KeyError(f"no value for {sorted(unknown)}")
    lines = []
    for line in text.splitlines():
        names = re.findall(r"\{\{(\w+)\}\}", line)
        if line.startswith("#SBATCH") and any(values[n] == "" for n in names):
            continue
        lines.append(re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), line))
    return "\n".join(lines) + "\n"


def values(job_dir, export_dir, **over):
    v = {"job_name": "dcd-train-42", "partition": "gpu", "account": "proj123", "gpus": "2",
         "cpus_per_task": "16", "mem": "64G", "time": "02:00:00", "job_dir": str(job_dir),
         "signal_lead_s": "120", "job_dir_q": shlex.quote(str(job_dir)), "python_q": shlex.quote(PY),
         "torchrun_args": "", "backend_dir_q": shlex.quote(str(BACKEND)), "export_dir_q": shlex.quote(str(export_dir)),
         "model_q": shlex.quote("Qwen/Qwen2.5-1.5B-Instruct"), "preset": "paper", "dist": "fsdp",
         "train_args": "--max-steps 10"}
    v.update(over)
    return v


def torchrun_workaround() -> str:
    """Debian's torch 1.13 + Python 3.11 needs non-zero --redirects/--tee (see test_distributed)."""
    from torch.distributed.elastic.multiprocessing.api import Std
    return "" if Std.from_str("0") is not None else "--redirects 1 --tee 2"


class SbatchTemplate(unittest.TestCase):
    def test_placeholders_are_the_documented_ones(self):
        found = set(re.findall(r"\{\{(\w+)\}\}", TEMPLATE.read_text()))
        self.assertEqual(found, PLACEHOLDERS)
        readme = (BACKEND / "README.md").read_text()
        for name in PLACEHOLDERS:
            self.assertIn("`{{" + name + "}}`", readme, name)

    def test_rendered_script(self):
        job = "/home/u/.dcd/jobs/job 42"   # a space: the *_q values carry their quoting
        text = render(values(job, "/data/my export"))
        self.assertNotIn("{{", text)
        self.assertTrue(text.startswith("#!/bin/bash\n"))
        sb = dict(re.findall(r"^#SBATCH --([\w-]+)=(.*)$", text, re.M))
        self.assertEqual(sb["partition"], "gpu")
        self.assertEqual(sb["account"], "proj123")
        self.assertEqual(sb["gpus-per-node"], "2")
        self.assertEqual(sb["time"], "02:00:00")
        self.assertEqual(sb["nodes"], "1")
        self.assertEqual(sb["signal"], "B:TERM@120")
        self.assertEqual(sb["output"], job + "/log.txt")
        # all #SBATCH lines come before the first command (sbatch stops reading at it)
        first_cmd = next(i for i, l in enumerate(text.splitlines()) if l and not l.startswith("#"))
        self.assertFalse(any(l.startswith("#SBATCH") for l in text.splitlines()[first_cmd:]))
        res = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        # the torchrun command, as bash will split it
        cmd = text[text.index(shlex.quote(PY) + " -m torch.distributed.run"):]
        cmd = cmd[:cmd.index("&\n")].replace("\\\n", " ")
        words = shlex.split(cmd.replace('"$JOB_DIR/run"', "RUN"))
        self.assertEqual(words[:3], [PY, "-m", "torch.distributed.run"])
        self.assertIn("--standalone", words)
        self.assertIn("--nproc_per_node=2", words)
        self.assertIn(str(BACKEND / "train.py"), words)
        after = words[words.index(str(BACKEND / "train.py")) + 1:]
        self.assertEqual(after, ["--data", "/data/my export", "--model", "Qwen/Qwen2.5-1.5B-Instruct", "--preset", "paper",
                                 "--out", "RUN", "--dist", "fsdp", "--resume", "--max-steps", "10"])

    def test_empty_optional_values_drop_their_lines(self):
        text = render(values("/j", "/e", account="", mem=""))
        self.assertNotIn("--account", text)
        self.assertNotIn("--mem", text)
        self.assertEqual(subprocess.run(["bash", "-n"], input=text, text=True).returncode, 0)

    def test_slurm_tools_present_or_not(self):
        # Record, not require: sbatch may be missing, and where slurm-wlm is installed it refuses to run at
        # all without a cluster's configuration (SLURM_CONF, or /etc/slurm/slurm.conf).
        if not shutil.which("sbatch"):
            self.assertIsNone(shutil.which("slurmctld"))
            return
        res = subprocess.run(["sbatch", "--test-only", "--help"], capture_output=True, text=True)
        if os.environ.get("SLURM_CONF") or os.path.exists("/etc/slurm/slurm.conf"):
            self.assertEqual(res.returncode, 0, res.stderr)
        else:
            self.assertNotEqual(res.returncode, 0)
            self.assertIn("config", res.stderr)


class SbatchScriptRunsWithoutSlurm(unittest.TestCase):
    """The rendered script is plain bash: run it directly (1 process, CPU, builtin:tiny) to check the
    job-directory protocol: status, events.jsonl link, signal forwarding through torchrun."""

    def setUp(self):
        self.root = tmpdir(self)
        self.data = make_export(self.root / "exp", samples=64, min_len=40, max_len=80, vocab_size=96)
        self.job = self.root / "job"
        self.job.mkdir()

    def script(self, steps: int):
        v = values(self.job, self.data, gpus="1", model_q="builtin:tiny", preset="cpu-smoke", dist="ddp",
                   torchrun_args=torchrun_workaround() + " --monitor_interval 0.2",
                   train_args=f"--threads 1 --device cpu --max-steps {steps} --grad-accum 4")
        path = self.root / "job.sbatch"
        path.write_text(render(v))
        return path

    def test_success(self):
        res = subprocess.run(["bash", str(self.script(3))], env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr[-3000:])
        self.assertEqual((self.job / "status").read_text().strip(), "succeeded")
        self.assertEqual((self.job / "exit_code").read_text().strip(), "0")
        events = read_events(self.job)  # through the events.jsonl link
        self.assertEqual(events[-1]["event"], "done")
        self.assertTrue((self.job / "run" / "final" / "config.json").is_file())

    def test_sigterm_is_forwarded_and_checkpointed(self):
        proc = subprocess.Popen(["bash", str(self.script(40))], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: 2 in step_events(read_events(self.job / "run")) or proc.poll() is not None, timeout=240)
            proc.send_signal(signal.SIGTERM)   # what Slurm sends the batch shell (--signal=B:TERM, scancel)
            proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual((self.job / "status").read_text().strip(), "cancelled")
        last = read_events(self.job / "run")[-1]
        self.assertEqual((last["event"], last["reason"]), ("checkpoint", "signal"))
        self.assertTrue((self.job / "run" / "checkpoints" / "latest").is_file())


if __name__ == "__main__":
    unittest.main()

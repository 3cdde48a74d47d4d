#!/usr/bin/env python3
"""Print ONE JSON object describing this host for DCD Studio's remote-hosts feature (over SSH).

    python3 python-backend/host_check.py

Fields: os, python {version, executable}, torch {version, cuda_available, cuda_version,
bf16_supported} (null when torch is missing), gpus [{name, memory_total}] from nvidia-smi,
disk {path, free_bytes, total_bytes} of the home directory, packages {name: {present, version}}
for the backend's packages, missing [names]. Never fails: problems go into "errors".
Standard library only, so it runs on any Python 3.8+.
"""
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys

PACKAGES = {  # import name -> distribution name
    "torch": "torch", "transformers": "transformers", "numpy": "numpy", "liger_kernel": "liger-kernel",
    "flash_attn": "flash-attn", "lm_eval": "lm-eval", "vllm": "vllm",
}


def os_info():
    info = {"system": platform.system(), "release": platform.release(), "machine": platform.machine()}
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            rel = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        info["pretty_name"] = rel.get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    return info


def package_info():
    out = {}
    for mod, dist in PACKAGES.items():
        try:
            present = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            present = False
        version = None
        if present:
            for name in (dist, mod):
                try:
                    version = importlib.metadata.version(name)
                    break
                except importlib.metadata.PackageNotFoundError:
                    continue
        out[mod] = {"present": present, "version": version}
    return out


def torch_info(errors):
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        errors.append(f"torch: {e}")
        return None
    cuda = bool(torch.cuda.is_available())
    info = {"version": torch.__version__, "cuda_available": cuda, "cuda_version": torch.version.cuda,
            "device_count": torch.cuda.device_count() if cuda else 0, "bf16_supported": False}
    if cuda:
        try:
            info["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
        except Exception as e:  # noqa: BLE001
            errors.append(f"bf16 check: {e}")
    return info


def gpu_info(errors):
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        res = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        errors.append(f"nvidia-smi: {e}")
        return []
    if res.returncode != 0:
        errors.append(f"nvidia-smi exited {res.returncode}: {res.stderr.strip()[:200]}")
        return []
    gpus = []
    for line in res.stdout.splitlines():
        if line.strip():
            name, _, mem = line.rpartition(",")
            gpus.append({"name": name.strip(), "memory_total": mem.strip()})
    return gpus


def main():
    errors = []
    home = os.path.expanduser("~")
    try:
        du = shutil.disk_usage(home)
        disk = {"path": home, "free_bytes": du.free, "total_bytes": du.total}
    except OSError as e:
        errors.append(f"disk: {e}")
        disk = {"path": home, "free_bytes": None, "total_bytes": None}
    packages = package_info()
    result = {
        "os": os_info(),
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "torch": torch_info(errors) if packages["torch"]["present"] else None,
        "gpus": gpu_info(errors),
        "disk": disk,
        "packages": packages,
        "missing": [m for m, p in packages.items() if not p["present"]],
        "slurm": {"sbatch": shutil.which("sbatch")},
        "errors": errors,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

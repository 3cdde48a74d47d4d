"""DCD Studio training backend: export reader, schedule, tiny model, loss, events, checkpoints.

Everything here runs on torch 1.13 (CPU) through 2.x (CUDA). Optional packages
(transformers, liger-kernel, flash-attn, safetensors) are imported lazily.
"""

__version__ = "0.1.0"

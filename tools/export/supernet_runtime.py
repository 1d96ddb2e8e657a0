"""Run the supernet in onnxruntime-node from Python, through tools/export/run_supernet.mjs.

The counterpart of node_runtime.py for a graph with a second input: the architecture encodings
go to Node as raw float32 next to the images, and one session evaluates them all.
"""

import tempfile
from pathlib import Path

import numpy as np
import torch

import nas_space
from node_runtime import run_runner

RUNNER = Path(__file__).with_name("run_supernet.mjs")


def run_supernet(
    model: Path, x: torch.Tensor, encodings: list, batch: int
) -> tuple[np.ndarray, dict]:
    """onnxruntime-node logits [candidates, rows, 10] of every encoding, via run_supernet.mjs."""
    archs = torch.stack([nas_space.one_hot(e) for e in encodings]).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        files = {name: Path(tmp) / f"{name}.f32" for name in ("input", "arch", "logits")}
        files["input"].write_bytes(x.numpy().astype("<f4").tobytes())
        files["arch"].write_bytes(archs.astype("<f4").tobytes())
        manifest = {
            "model": str(model),
            "input": {"name": "input", "dims": list(x.shape), "file": str(files["input"])},
            "arch": {"name": "arch", "dims": list(archs.shape), "file": str(files["arch"])},
            "output": {"name": "logits", "file": str(files["logits"])},
            "batchSize": batch,
        }
        report = run_runner(RUNNER, manifest, tmp, f"onnxruntime-node failed on {model}")
        logits = np.frombuffer(files["logits"].read_bytes(), dtype="<f4").reshape(report["dims"])
    return logits.copy(), report

"""Run a text encoder in onnxruntime-node from Python, through tools/export/run_encoder.mjs.

The sibling of node_runtime.py for models fed int64 token ids rather than one float32 tensor,
and read back through several outputs (logits and every layer's hidden states).
"""

import tempfile
from pathlib import Path

import numpy as np

from node_runtime import run_runner

RUNNER = Path(__file__).with_name("run_encoder.mjs")


def run_encoder(
    model: Path,
    input_ids: np.ndarray,
    attention_mask: np.ndarray,
    outputs: list[str],
    threads: int = 1,
) -> tuple[dict, dict]:
    """The named float32 outputs for one batch of ids and mask ([batch, tokens] each), and the
    runner's report (each output's dims, `seconds` in session.run, `ort` versions)."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {}
        for name, values in (("input_ids", input_ids), ("attention_mask", attention_mask)):
            path = Path(tmp) / f"{name}.i64"
            path.write_bytes(np.ascontiguousarray(values, dtype="<i8").tobytes())
            inputs[name] = {"dims": list(values.shape), "file": str(path)}
        manifest = {
            "model": str(model),
            "inputs": inputs,
            "outputs": outputs,
            "outDir": tmp,
            "threads": threads,
        }
        report = run_runner(RUNNER, manifest, tmp, f"onnxruntime-node failed on {model}")
        values = {
            name: np.frombuffer((Path(tmp) / f"{name}.f32").read_bytes(), dtype="<f4")
            .reshape(report["dims"][name])
            .copy()
            for name in outputs
        }
    return values, report

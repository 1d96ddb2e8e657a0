"""Run an ONNX model in onnxruntime-node from Python, through tools/export/run_model.mjs, or
check it against stored outputs through tools/export/check_parity.mjs.

Debian ships no Python package for ONNX Runtime, and measurements of the committed models must
come from the runtime ortlab itself uses, so the Python scripts hand the input to Node as raw
float32 and read the output back the same way.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

RUNNER = Path(__file__).with_name("run_model.mjs")
PARITY = Path(__file__).with_name("check_parity.mjs")


def run_runner(script: Path, manifest: dict, tmp: str | Path, failure: str) -> dict:
    """Write `manifest` into the folder `tmp` and run the Node `script` on it.

    Returns the last line the script printed, parsed as JSON; raises RuntimeError starting with
    `failure`, followed by the script's output, when it exits other than 0.
    """
    path = Path(tmp) / "manifest.json"
    path.write_text(json.dumps(manifest))
    run = subprocess.run(["node", str(script), str(path)], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{failure}:\n{run.stdout}{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def run_onnx(
    model: Path, x: np.ndarray, input_name: str = "input", output_name: str = "logits"
) -> tuple[np.ndarray, dict]:
    """Return the float32 output `output_name` for input `x`, and the runner's report.

    The report holds the output dims and `ort`, the ONNX Runtime versions that produced it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        inputs, outputs = Path(tmp) / "input.f32", Path(tmp) / "output.f32"
        inputs.write_bytes(np.ascontiguousarray(x, dtype="<f4").tobytes())
        manifest = {
            "model": str(model),
            "input": {"name": input_name, "dims": list(x.shape), "file": str(inputs)},
            "output": {"name": output_name, "file": str(outputs)},
            "batchSize": 500,
        }
        report = run_runner(RUNNER, manifest, tmp, f"onnxruntime-node failed on {model}")
        values = np.frombuffer(outputs.read_bytes(), dtype="<f4").reshape(report["dims"])
    return values.copy(), report


def check_parity(
    model: Path, x: np.ndarray, logits: np.ndarray, batch_size: int, tolerance: float
) -> dict:
    """Run check_parity.mjs on `x` in slices of `batch_size` rows against the expected `logits`.

    Returns its report (largest absolute difference, argmax agreement, ONNX Runtime versions);
    raises when a difference is above `tolerance` or a value is NaN.
    """
    with tempfile.TemporaryDirectory() as tmp:
        inputs, outputs = Path(tmp) / "input.f32", Path(tmp) / "logits.f32"
        inputs.write_bytes(np.ascontiguousarray(x, dtype="<f4").tobytes())
        outputs.write_bytes(np.ascontiguousarray(logits, dtype="<f4").tobytes())
        manifest = {
            "model": str(model),
            "input": {"name": "input", "dims": list(x.shape), "file": str(inputs)},
            "output": {"name": "logits", "dims": list(logits.shape), "file": str(outputs)},
            "batchSize": batch_size,
            "tolerance": tolerance,
        }
        return run_runner(PARITY, manifest, tmp, "ONNX Runtime parity check failed")

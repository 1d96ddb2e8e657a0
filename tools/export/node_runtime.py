"""Run an ONNX model in onnxruntime-node from Python, through tools/export/run_model.mjs.

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
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest))
        run = subprocess.run(
            ["node", str(RUNNER), str(Path(tmp) / "manifest.json")], capture_output=True, text=True
        )
        if run.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {model}:\n{run.stdout}{run.stderr}")
        report = json.loads(run.stdout.strip().splitlines()[-1])
        values = np.frombuffer(outputs.read_bytes(), dtype="<f4").reshape(report["dims"])
    return values.copy(), report

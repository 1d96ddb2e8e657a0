"""Export torchvision's ResNet-18 with seeded random weights as ONNX, for benchmarks.

No pretrained ImageNet weights can be had offline, and a benchmark only needs the real
architecture and size: 11.7 M parameters, 1000 classes, input float32 [batch, 3, 224, 224]. The
weights come from torchvision's own initialisation after `torch.manual_seed(seed)`, so the same
seed and packages give the same model (tools/bench/torch_eval.py rebuilds it the same way).

One run, on CPU:

1. builds resnet18(num_classes=1000) in eval mode from the seed,
2. exports it (opset 17, input `input`, output `logits`, dynamic axis `batch`),
3. runs onnx.checker with full_check,
4. checks ONNX Runtime parity (tools/export/check_parity.mjs, onnxruntime-node) on seeded random
   inputs and fails above the tolerance.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import hashlib
import json
from pathlib import Path

import onnx
import torch
import torchvision

import node_runtime

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SEED = 20240601
DEFAULT_OUT = Path("bench/assets/resnet18.onnx")
PARITY_IMAGES = 8
PARITY_TOLERANCE = 1e-4


def build_resnet18(seed: int = DEFAULT_SEED) -> torch.nn.Module:
    """torchvision's ResNet-18 (1000 classes) with the weights its initialiser draws after `seed`."""
    torch.manual_seed(seed)
    return torchvision.models.resnet18(weights=None, num_classes=1000).eval()


def check_parity(model_path: Path, x: torch.Tensor, logits: torch.Tensor) -> dict:
    """Run check_parity.mjs on `x` in batches of 4; return its report or raise when it fails."""
    return node_runtime.check_parity(model_path, x.numpy(), logits.numpy(), 4, PARITY_TOLERANCE)


def export_resnet18(out: Path, seed: int = DEFAULT_SEED) -> dict:
    """Build, export, check and parity-check the model; return what was written."""
    model = build_resnet18(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            torch.zeros(1, 3, 224, 224),
            str(out),
            opset_version=17,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    onnx.checker.check_model(str(out), full_check=True)

    x = torch.randn(PARITY_IMAGES, 3, 224, 224, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        logits = model(x)
    parity = check_parity(out, x, logits)
    return {
        "model": str(out),
        "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "parity": {"images": PARITY_IMAGES, "maxAbsDiff": parity["maxAbsDiff"]},
        "tolerance": PARITY_TOLERANCE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="ONNX output (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="weight seed (default: %(default)s)"
    )
    args = parser.parse_args()
    report = export_resnet18(REPO / args.out, args.seed)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

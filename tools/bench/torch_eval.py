"""A PyTorch evaluation loop over an image folder, the baseline of bench/eval.ts.

What a PyTorch user would run to evaluate an ImageNet classifier: torchvision's ImageFolder,
the standard evaluation transform (Resize 256 bilinear, CenterCrop 224, ToTensor, Normalize with
ImageNet mean and std), a DataLoader with worker processes, and the model in eval mode under
torch.no_grad(). The model is the same ResNet-18 that tools/export/export_resnet18.py exports
(same seed, same initialisation), so both sides run the same architecture and weights.

Prints one JSON line: images, top-1, seconds in the loop, images per second, threads, and the
peak resident set size of the main process and of the largest DataLoader worker (the workers are
separate processes; their pages are partly shared with the main one, so the two are not added).
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))
from export_resnet18 import DEFAULT_SEED, build_resnet18  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def evaluate(folder: Path, batch_size: int, workers: int, seed: int, threads: int) -> dict:
    """Run the evaluation loop once over `folder`; return what was measured."""
    if threads > 0:
        torch.set_num_threads(threads)
    model = build_resnet18(seed)
    transform = transforms.Compose(
        [
            transforms.Resize(256, interpolation=transforms.InterpolationMode.BILINEAR),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ]
    )
    dataset = datasets.ImageFolder(str(folder), transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, shuffle=False)

    started = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    seconds = time.perf_counter() - started

    kib = 1024
    return {
        "images": len(dataset),
        "top1": correct / len(dataset),
        "seconds": seconds,
        "imagesPerSecond": len(dataset) / seconds,
        "threads": torch.get_num_threads(),
        "batchSize": batch_size,
        "workers": workers,
        "torch": torch.__version__,
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib,
        "workerPeakRssMb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="image folder, one sub-folder per class")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, default=2, help="DataLoader worker processes (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="model weight seed (default: %(default)s)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads, as onnxruntime's intra-op threads; 0 keeps torch's own default "
        "(default: %(default)s)",
    )
    args = parser.parse_args()
    print(json.dumps(evaluate(args.data, args.batch, args.workers, args.seed, args.threads)))


if __name__ == "__main__":
    main()

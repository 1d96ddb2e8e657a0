"""ONNX export and checks of the emoji retrieval encoders (tools/export/train_retrieval.py).

- Image encoder: input `image` float32 [batch, 3, 64, 64]; outputs `embedding` float32
  [batch, D] and `attention` float32 [batch, r, 64].
- Text encoder: inputs `input_ids` and `attention_mask` int64 [batch, tokens]; outputs
  `embedding` float32 [batch, D] and `attention` float32 [batch, r, tokens].

Opset 17, `batch` (and `tokens`) dynamic, onnx.checker with full_check. Parity: the outputs of
onnxruntime-node (tools/export/node_runtime.py, encoder_runtime.py) against PyTorch's on a whole
committed split. Padding: the text encoder in ONNX Runtime on the split's captions padded to the
longest caption, padded to maxTokens and in reverse order, and a few captions alone, must give
each caption the same embedding; in PyTorch every caption alone is compared with the batch.
"""

import hashlib
from pathlib import Path

import numpy as np
import onnx
import torch

from encoder_runtime import run_encoder
from node_runtime import run_onnx
from retrieval_data import EvalSplit, pad, preprocess
from retrieval_training import encode_images, encode_texts

OPSET = 17


def fix_output_dims(path: Path, dims: dict) -> None:
    """Write the output shapes the exporter left symbolic (e.g. 'Divembedding_dim_1') as numbers
    or the given names, then run the full checker."""
    model = onnx.load(str(path))
    for output in model.graph.output:
        shape = output.type.tensor_type.shape
        for axis, value in enumerate(dims[output.name]):
            dim = shape.dim[axis]
            if isinstance(value, str):
                dim.dim_param = value
            else:
                dim.dim_value = value
    onnx.save(model, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def export_image(model, path: Path) -> None:
    torch.onnx.export(
        model,
        torch.zeros(2, 3, 64, 64),
        str(path),
        opset_version=OPSET,
        input_names=["image"],
        output_names=["embedding", "attention"],
        dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}, "attention": {0: "batch"}},
        do_constant_folding=True,
    )
    heads, positions = model.attention.w2.out_features, 64
    dims = {"embedding": ["batch", model.fc.out_features], "attention": ["batch", heads, positions]}
    fix_output_dims(path, dims)


def export_text(model, path: Path) -> None:
    ids = torch.tensor([[2, 10, 11, 3, 0], [2, 12, 13, 14, 3]])
    mask = (ids != 0).long()
    tokens = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        opset_version=OPSET,
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding", "attention"],
        dynamic_axes={
            "input_ids": tokens,
            "attention_mask": tokens,
            "embedding": {0: "batch"},
            "attention": {0: "batch", 2: "tokens"},
        },
        do_constant_folding=True,
    )
    heads = model.attention.w2.out_features
    dims = {"embedding": ["batch", model.fc.out_features], "attention": ["batch", heads, "tokens"]}
    fix_output_dims(path, dims)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise RuntimeError(f"shape {a.shape} differs from {b.shape}")
    return float(np.abs(a.astype(np.float64) - b).max())


def image_parity(model, path: Path, split: EvalSplit, stats) -> dict:
    """Largest |ONNX Runtime - PyTorch| per output and style on the whole split."""
    out = {}
    for style, images in split.images.items():
        expected = encode_images(model, images, stats)
        x = preprocess(images, *stats)
        for name, want in zip(("embedding", "attention"), expected):
            got, report = run_onnx(path, x, input_name="image", output_name=name)
            out[f"{style}.{name}"] = max_diff(got, want)
    out["ort"] = report["ort"]
    return out


def text_parity(model, path: Path, split: EvalSplit, max_tokens: int) -> dict:
    """Parity on the split's captions, and the padding and batch checks."""
    names = ["embedding", "attention"]
    emb, att = encode_texts(model, split.ids, split.mask)
    got, report = run_encoder(path, split.ids, split.mask, names)
    out = {
        "embedding": max_diff(got["embedding"], emb),
        "attention": max_diff(got["attention"], att),
    }

    # The same captions padded to maxTokens, and in reverse order: embeddings must not move.
    rows = [list(r[m == 1]) for r, m in zip(split.ids, split.mask)]
    wide_ids = np.zeros((len(rows), max_tokens), dtype=np.int64)
    wide_ids[:, : split.ids.shape[1]] = split.ids
    wide_mask = (np.arange(max_tokens)[None, :] < split.mask.sum(1)[:, None]).astype(np.int64)
    wide, _ = run_encoder(path, wide_ids, wide_mask, names)
    padding = max_diff(wide["embedding"], got["embedding"])
    outside = float(np.abs(wide["attention"][:, :, split.ids.shape[1] :]).max())
    reverse_ids, reverse_mask = pad(rows[::-1])
    reverse, _ = run_encoder(path, reverse_ids, reverse_mask, names)
    order = max_diff(reverse["embedding"][::-1], got["embedding"])
    masked = float(np.abs(got["attention"] * (1 - split.mask[:, None, :])).max())
    alone = 0.0
    picks = np.linspace(0, len(rows) - 1, 8).round().astype(int)
    for i in picks:
        one = np.array([rows[i]], dtype=np.int64)
        single, _ = run_encoder(path, one, np.ones_like(one), names)
        alone = max(alone, max_diff(single["embedding"][0], got["embedding"][i]))
    torch_alone = max(
        max_diff(encode_texts(model, np.array([r]), np.ones((1, len(r)), np.int64))[0][0], emb[i])
        for i, r in enumerate(rows)
    )
    out.update(
        {
            "paddedToMaxTokens": padding,
            "reversedBatch": order,
            "aloneOrt": alone,
            "aloneOrtCaptions": len(picks),
            "alonePytorch": torch_alone,
            "paddingAttention": max(masked, outside),
            "ort": report["ort"],
        }
    )
    return out


def reference_outputs(image_model, text_model, split: EvalSplit, stats, count: int) -> dict:
    """PyTorch outputs for the first `count` test emoji (both styles) and their captions, as
    plain lists, for test/fixtures/retrieval/emoji-encoders.json."""
    captions = [j for j in range(len(split.captions)) if split.text_to_image[j] < count]
    ids, mask = pad([list(split.ids[j][split.mask[j] == 1]) for j in captions])
    text_emb, text_att = encode_texts(text_model, ids, mask)
    out = {
        "captions": [split.captions[j] for j in captions],
        "inputIds": ids.tolist(),
        "attentionMask": mask.tolist(),
        "text": {"embedding": floats(text_emb), "attention": floats(text_att)},
    }
    for style, images in split.images.items():
        emb, att = encode_images(image_model, images[:count], stats)
        out[style] = {"embedding": floats(emb), "attention": floats(att)}
    return out


def floats(values: np.ndarray) -> dict:
    """{dims, data}: float32 values written as float64 JSON numbers (exact)."""
    return {"dims": list(values.shape), "data": [float(v) for v in values.ravel()]}

"""models/retrieval/manifest.json: the model card of the emoji retrieval encoders."""

from dataclasses import fields
from pathlib import Path

from retrieval_export import sha256
from script_support import package_version, to_json

STYLES = ("google", "twitter")

DESCRIPTION = (
    "MHSAN-style image-text dual encoders for emoji: a CNN over 64x64 RGB emoji (an 8x8 grid of "
    "features) and a bidirectional GRU over WordPiece tokens, each pooled by r-head "
    "self-attention, the heads concatenated, projected and L2-normalized. Trained on the Google "
    "(Noto) art style only; r1 and r4 share seed, batches, schedule and widths."
)

LICENCE = (
    "weights and manifest: Apache-2.0 (ortlab); trained on Google Noto emoji images "
    "(Apache-2.0) with captions from emojibase-data (MIT) and CLDR annotations (Unicode License "
    "v3); data/emoji/LICENSE.md lists the sources of the evaluation data"
)

TOKENIZATION = (
    "models/retrieval/tokenizer: lowercase WordPiece; ids = [CLS] caption pieces [SEP], truncated "
    "to maxTokens (special tokens included), padded on the right with [PAD] (id 0) and "
    "attention_mask 0"
)

DEFINITIONS = {
    "imageInput": "RGB / 255, then (x - mean) / std per channel (preset), NCHW; the committed "
    "PNGs are already 64x64 RGB, so no resize happens",
    "attention": "softmax over positions of W2 ReLU(W1 H^T), one row per head, each row sums to "
    "1; image positions are the 8x8 grid row-major (8 * row + column); padded tokens get "
    "exactly 0",
    "embedding": "L2-normalized; similarity = dot product",
    "diversityPenalty": "mean over the test split of ||A A^T - I||_F^2, A = the item's [heads, "
    "positions] attention",
    "protocol": "VSE++ on the whole test split (324 emoji): cosine similarity of every image with "
    "every caption; i2t rank = best 0-based rank among the image's captions, t2i rank = 0-based "
    "rank of the caption's image; r1/r5/r10 = percent of queries with rank < K; medr = "
    "floor(median(rank)) + 1; meanr = mean(rank) + 1; rsum = the six recalls. No similarity "
    "ties (no two test images of a style and no two test captions are identical)",
    "imageBorderMass": "per head, the mean over the test split of the image attention on the "
    "outer ring of the 8x8 grid (28 of 64 positions; uniform attention gives 0.4375)",
    "comparison": "rsum of r4 minus rsum of r1 per test style, with a paired bootstrap over the "
    "query emoji (the gallery stays the whole split; each round resamples the 324 test emoji "
    "with replacement and takes their i2t ranks and their captions' t2i ranks for both models): "
    "ci95 = 2.5 and 97.5 percentiles of the resampled differences, shareAhead = share of rounds "
    "in which r4 is ahead",
    "parity": "largest |onnxruntime-node - PyTorch| over the whole test split, per output; text "
    "checks: the captions padded to maxTokens (paddedToMaxTokens), in reverse batch order "
    "(reversedBatch) and alone (aloneOrt: 8 captions; alonePytorch: all), each against the batch "
    "padded to the longest caption; paddingAttention = largest attention on a padded position",
}


def round_metrics(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: round_metrics(v) for k, v in value.items()}
    return value


def model_entry(config, heads: int, stats, summary: dict, metrics: dict, parity, files) -> dict:
    """One entry of `models`: the contract fields, then what was measured."""
    name = f"r{heads}"
    return {
        "name": name,
        "heads": heads,
        "dim": config.embed,
        "grid": [8, 8],
        "image": files["image"].name,
        "text": files["text"].name,
        "tokenizer": "tokenizer",
        "maxTokens": config.max_tokens,
        "preset": {
            "name": f"emoji-{name}",
            "size": 64,
            "cropFraction": 1,
            "mean": stats[0],
            "std": stats[1],
            "channels": "rgb",
            "layout": "NCHW",
            "range": 1,
            "interpolation": "bilinear",
        },
        "diversityWeight": summary["diversityWeight"],
        "parameters": summary["parameters"],
        "training": {"seconds": summary["seconds"], "history": summary["history"]},
        "metrics": {
            s: round_metrics({k: metrics[s][k] for k in ("i2t", "t2i", "rsum")}) for s in STYLES
        },
        "diversityPenalty": {
            "image": {s: metrics[s]["imagePenalty"] for s in STYLES},
            "text": metrics["textPenalty"],
        },
        "imageBorderMass": {s: metrics[s]["borderMass"] for s in STYLES},
        "parity": parity,
        "sha256": {k: sha256(v) for k, v in files.items()},
    }


def write_manifest(
    config, entries, out: Path, emoji_set, tolerance: float, ort, comparison: dict
) -> Path:
    """Write out/manifest.json and return its path."""
    splits = ("train", "val", "test")
    manifest = {
        "description": DESCRIPTION,
        "dataset": {
            "folder": "data/emoji",
            "file": "dataset_emoji.json",
            "split": "test",
            "styles": {"google": "google/", "twitter": "twitter/"},
            "trainStyle": "google",
            "emoji": {s: sum(i.split == s for i in emoji_set.items) for s in splits},
            "captions": {
                s: sum(len(i.captions) for i in emoji_set.items if i.split == s) for s in splits
            },
            "sources": emoji_set.versions,
        },
        "licence": LICENCE,
        "inputs": {
            "image": {"image": ["batch", 3, 64, 64]},
            "text": {"input_ids": ["batch", "tokens"], "attention_mask": ["batch", "tokens"]},
        },
        "inputTypes": {"image": "float32", "input_ids": "int64", "attention_mask": "int64"},
        "outputs": {
            "image": {"embedding": ["batch", "dim"], "attention": ["batch", "heads", 64]},
            "text": {"embedding": ["batch", "dim"], "attention": ["batch", "heads", "tokens"]},
        },
        "opset": 17,
        "tokenization": TOKENIZATION,
        "tokenizerSha256": {
            name: sha256(out / "tokenizer" / name)
            for name in ("tokenizer.json", "tokenizer_config.json")
        },
        "definitions": DEFINITIONS,
        "parityTolerance": tolerance,
        "measuredWith": {
            "torch": package_version("torch"),
            "onnx": package_version("onnx"),
            "onnxruntime": ort,
            "threads": config.threads,
        },
        "trainingConfig": {f.name: getattr(config, f.name) for f in fields(config)},
        "models": entries,
        "comparison": comparison,
    }
    path = out / "manifest.json"
    path.write_text(to_json(manifest) + "\n")
    return path


def results_table(entries: list) -> str:
    """The measured recalls as a Markdown table, one row per model and style."""
    lines = [
        "| model | test style | i2t R@1 | i2t R@5 | i2t R@10 | t2i R@1 | t2i R@5 | t2i R@10 "
        "| rsum |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in entries:
        for style in STYLES:
            m = entry["metrics"][style]
            cells = [m[d][k] for d in ("i2t", "t2i") for k in ("r1", "r5", "r10")] + [m["rsum"]]
            values = " | ".join(f"{v:.1f}" for v in cells)
            lines.append(f"| {entry['name']} | {style} | {values} |")
    return "\n".join(lines)

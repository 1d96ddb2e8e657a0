"""Data of the emoji retrieval models: the regenerated train split, the committed eval splits,
token ids, the image preprocessing, and the VSE++ protocol on embeddings.

The protocol is tools/fixtures/retrieval_reference.py's (the independent numpy implementation
ortlab's own scoring is checked against): cosine similarity in float64, image-to-text rank =
best 0-based rank among the image's captions, text-to-image rank = 0-based rank of its image,
Recall@K in percent, medr = floor(median(r)) + 1, meanr = mean(r) + 1, rsum = the six recalls.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from emoji_source import load_emoji_set, load_images
from wordpiece import encode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from retrieval_reference import rank_metrics, rsum, similarity, vsepp_ranks  # noqa: E402


@dataclass
class TrainSplit:
    images: np.ndarray  # uint8 [n, 64, 64, 3], google style
    captions: list[list[list[int]]]  # per emoji, its captions' token ids
    texts: list[list[str]]


@dataclass
class EvalSplit:
    names: list[str]  # image file names
    images: dict  # style -> uint8 [n, 64, 64, 3]
    captions: list[str]
    ids: np.ndarray  # int64 [m, tokens]
    mask: np.ndarray  # int64 [m, tokens]
    text_to_image: np.ndarray  # int64 [m]


def read_vocab(tokenizer: Path) -> dict:
    return json.loads((tokenizer / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]


def pad(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids (pad id 0) and the attention mask, int64 [len(rows), longest]."""
    longest = max(map(len, rows))
    ids = np.zeros((len(rows), longest), dtype=np.int64)
    mask = np.zeros((len(rows), longest), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def train_split(modules: Path, seed: int, vocab: dict, max_tokens: int) -> TrainSplit:
    items = [i for i in load_emoji_set(modules, seed).items if i.split == "train"]
    captions = [[encode(c, vocab, max_tokens) for c in item.captions] for item in items]
    return TrainSplit(load_images(modules, "google", items), captions, [i.captions for i in items])


def eval_split(data: Path, split: str, styles: tuple, vocab: dict, max_tokens: int) -> EvalSplit:
    """A committed split of data/emoji (dataset_emoji.json and the style folders' PNGs)."""
    document = json.loads((data / "dataset_emoji.json").read_text(encoding="utf-8"))
    entries = [e for e in document["images"] if e["split"] == split]
    names = [e["filename"] for e in entries]
    images = {}
    for style in styles:
        stack = []
        for name in names:
            with Image.open(data / style / name) as image:
                if image.mode != "RGB" or image.size != (64, 64):
                    raise ValueError(f"{data / style / name}: expected a 64x64 RGB PNG")
                stack.append(np.asarray(image))
        images[style] = np.stack(stack)
    captions = [s["raw"] for e in entries for s in e["sentences"]]
    owner = np.array([k for k, e in enumerate(entries) for _ in e["sentences"]], dtype=np.int64)
    ids, mask = pad([encode(c, vocab, max_tokens) for c in captions])
    return EvalSplit(names, images, captions, ids, mask, owner)


def preprocess(images: np.ndarray, mean: list, std: list) -> np.ndarray:
    """uint8 [n, 64, 64, 3] -> float32 [n, 3, 64, 64]: (rgb / 255 - mean) / std per channel."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(255)
    m = np.asarray(mean, dtype=np.float32)[None, :, None, None]
    s = np.asarray(std, dtype=np.float32)[None, :, None, None]
    return ((x - m) / s).astype(np.float32)


def channel_stats(images: np.ndarray) -> tuple[list, list]:
    """Per-channel mean and standard deviation of rgb / 255, rounded to 4 decimals."""
    x = images.astype(np.float64) / 255
    mean = x.mean(axis=(0, 1, 2))
    std = x.std(axis=(0, 1, 2))
    return [round(float(v), 4) for v in mean], [round(float(v), 4) for v in std]


def protocol(images: np.ndarray, texts: np.ndarray, text_to_image: np.ndarray) -> dict:
    """{i2t: {r1, r5, r10, medr, meanr}, t2i: {...}, rsum} of float32 embeddings."""
    ranks_i2t, ranks_t2i, _ = vsepp_ranks(similarity(images, texts), text_to_image)
    i2t, t2i = rank_metrics(ranks_i2t), rank_metrics(ranks_t2i)
    return {"i2t": i2t, "t2i": t2i, "rsum": rsum(i2t, t2i), "ranks": (ranks_i2t, ranks_t2i)}


def rsum_of(ranks_i2t: np.ndarray, ranks_t2i: np.ndarray) -> float:
    return float(sum(100 * np.mean(r < k) for r in (ranks_i2t, ranks_t2i) for k in (1, 5, 10)))


def paired_bootstrap(ranks_a, ranks_b, text_to_image: np.ndarray, rounds: int, seed: int) -> dict:
    """rsum(b) - rsum(a) on the test split, and its spread when the query emoji are resampled.

    The gallery stays the whole split; each round draws the split's emoji with replacement
    (default_rng(seed)), and takes their i2t ranks and the t2i ranks of their captions, the same
    draw for both models. Returns the difference, the 2.5 and 97.5 percentiles of the resampled
    differences and the share of rounds in which b is ahead."""
    captions = [np.flatnonzero(text_to_image == i) for i in range(len(ranks_a[0]))]
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        emoji = rng.integers(0, len(captions), len(captions))
        texts = np.concatenate([captions[i] for i in emoji])
        a = rsum_of(ranks_a[0][emoji], ranks_a[1][texts])
        b = rsum_of(ranks_b[0][emoji], ranks_b[1][texts])
        differences.append(b - a)
    low, high = np.percentile(differences, [2.5, 97.5])
    return {
        "difference": round(rsum_of(*ranks_b) - rsum_of(*ranks_a), 4),
        "ci95": [round(float(low), 4), round(float(high), 4)],
        "shareAhead": round(float(np.mean(np.array(differences) > 0)), 4),
        "rounds": rounds,
        "seed": seed,
    }

"""Train, export and measure ortlab's emoji retrieval encoders (MHSAN-style, r = 1 and r = 4).

One seeded CPU run:

1. regenerates the train split of the emoji set from the npm packages (tools/export/
   emoji_source.py; Google style only) and tokenizes its captions with the committed tokenizer
   (models/retrieval/tokenizer, [CLS] pieces [SEP], at most --max-tokens ids);
2. for r = 1 and r = 4, with the same seed, batches, schedule and widths, trains a dual encoder
   (tools/export/retrieval_model.py): a CNN over 64x64 RGB giving an 8x8 grid of features, and
   token embeddings with a bidirectional GRU, each followed by r-head self-attention pooling, a
   linear layer and L2 normalization. Loss: the VSE++ hinge (margin 0.2) with the hardest
   negative of the batch in both directions, averaged over the batch, plus the diversity
   weight times the mean over the batch of ||A A^T - I||_F^2 of the image attention plus that
   of the text attention. The first --warmup-epochs use the hinge summed over all negatives
   instead (from scratch, the hardest negative alone drives every embedding onto one point),
   at --lr; the hardest-negative epochs start at --lr x --hard-lr and decay to 0 on a cosine.
   With r = 1 the diversity weight is 0: one head's penalty, (sum of squared weights - 1)^2,
   would only push its attention onto a single position. Batches hold distinct emoji with one
   caption each, drawn at random; images get a random scale and shift (white border); AdamW;
3. measures both models in PyTorch on the committed test split (data/emoji, Google and Twitter
   styles) under the VSE++ protocol (tools/export/retrieval_data.py), with each encoder's mean
   diversity penalty and where its image heads look, and compares r4 with r1 by a paired
   bootstrap over the test emoji;
4. exports the four encoders (tools/export/retrieval_export.py: opset 17, dynamic batch, full
   onnx.checker), checks ONNX Runtime parity (onnxruntime-node) on the whole test split and that
   a caption's embedding depends neither on its padding nor on the rest of the batch, and fails
   above --tolerance;
5. writes models/retrieval/manifest.json (tools/export/retrieval_card.py) and
   test/fixtures/retrieval/emoji-encoders.json: both models' PyTorch outputs for the first
   three test emoji in both styles and their captions, a reference for ortlab's own encoding.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
from dataclasses import fields
from pathlib import Path

import torch

from emoji_source import load_emoji_set
from retrieval_card import STYLES, model_entry, results_table, write_manifest
from retrieval_data import channel_stats, eval_split, paired_bootstrap, read_vocab, train_split
from retrieval_export import (
    export_image,
    export_text,
    image_parity,
    reference_outputs,
    text_parity,
)
from retrieval_training import HELP, TrainConfig, measure, train_pair
from script_support import to_json

REPO = Path(__file__).resolve().parents[2]
HEADS = (1, 4)
FIXTURE = 3
BOOTSTRAP = 2000
FIXTURE_PATH = "test/fixtures/retrieval/emoji-encoders.json"


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def report(heads: int, metrics: dict, summary: dict, worst: float) -> None:
    for style in STYLES:
        m = metrics[style]
        i2t, t2i = m["i2t"], m["t2i"]
        print(
            f"  r={heads} {style}: i2t R@1/5/10 {i2t['r1']:.1f}/{i2t['r5']:.1f}/{i2t['r10']:.1f}"
            f", t2i {t2i['r1']:.1f}/{t2i['r5']:.1f}/{t2i['r10']:.1f}, rsum {m['rsum']:.1f}"
        )
    print(f"  r={heads}: {summary['seconds']} s training, ONNX Runtime within {worst:.2e}")


def write_fixture(path: Path, test, references: dict) -> None:
    fixture = {
        "generator": "tools/export/train_retrieval.py",
        "description": (
            f"PyTorch outputs of the shipped emoji encoders (models/retrieval) for the first "
            f"{FIXTURE} test emoji of data/emoji, in both styles, and their captions (ids padded "
            "on the right to the longest); arrays are {dims, data}, row major"
        ),
        "images": test.names[:FIXTURE],
        "models": references,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(fixture) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def explore(config: TrainConfig, modules: Path, data: Path, out: Path, heads: list) -> None:
    """Train the given head counts and print the val split's rsum every epoch; writes nothing."""
    torch.set_num_threads(config.threads)
    vocab = read_vocab(out / "tokenizer")
    train = train_split(modules, config.seed, vocab, config.max_tokens)
    stats = channel_stats(train.images)
    val = eval_split(data, "val", STYLES, vocab, config.max_tokens)

    def monitor(epoch, image_model, text_model):
        m = measure(image_model, text_model, val, stats)
        return {"val": {s: round(m[s]["rsum"], 1) for s in STYLES}}

    for r in heads:
        _, _, summary = train_pair(config, r, train, len(vocab), stats, monitor)
        for entry in summary["all"]:
            epoch, hinge, val = entry["epoch"], entry["hinge"], entry["val"]
            print(f"  r={r} epoch {epoch}: hinge {hinge}, val rsum {val}")


def run(
    config: TrainConfig, modules: Path, data: Path, out: Path, fixture: Path, tolerance: float
) -> None:
    torch.set_num_threads(config.threads)
    vocab = read_vocab(out / "tokenizer")
    train = train_split(modules, config.seed, vocab, config.max_tokens)
    stats = channel_stats(train.images)
    test = eval_split(data, "test", STYLES, vocab, config.max_tokens)
    captions = sum(map(len, train.captions))
    print(f"train: {len(train.images)} emoji, {captions} captions; test: {len(test.names)} emoji")
    print(f"  and {len(test.captions)} captions; image mean {stats[0]} std {stats[1]}")
    entries, ort, references, ranks = [], None, {}, {}
    for heads in HEADS:
        image_model, text_model, summary = train_pair(config, heads, train, len(vocab), stats)
        summary["parameters"] = {
            "image": parameter_count(image_model),
            "text": parameter_count(text_model),
        }
        metrics = measure(image_model, text_model, test, stats)
        ranks[heads] = {style: metrics[style].pop("ranks") for style in STYLES}
        files = {"image": out / f"image-r{heads}.onnx", "text": out / f"text-r{heads}.onnx"}
        export_image(image_model, files["image"])
        export_text(text_model, files["text"])
        parity = {
            "image": image_parity(image_model, files["image"], test, stats),
            "text": text_parity(text_model, files["text"], test, config.max_tokens),
        }
        ort = parity["image"].pop("ort")
        parity["text"].pop("ort")
        worst = max(v for part in parity.values() for v in part.values() if isinstance(v, float))
        if worst > tolerance:
            raise RuntimeError(f"r={heads}: ONNX Runtime differs by {worst:.2e}: {parity}")
        entries.append(model_entry(config, heads, stats, summary, metrics, parity, files))
        references[f"r{heads}"] = reference_outputs(image_model, text_model, test, stats, FIXTURE)
        report(heads, metrics, summary, worst)
    comparison = {
        style: paired_bootstrap(
            ranks[1][style], ranks[4][style], test.text_to_image, BOOTSTRAP, config.seed
        )
        for style in STYLES
    }
    print(f"  rsum r4 - r1: {comparison}")
    emoji_set = load_emoji_set(modules, config.seed)
    path = write_manifest(config, entries, out, emoji_set, tolerance, ort, comparison)
    print(f"wrote {path}")
    write_fixture(fixture, test, references)
    print(results_table(entries))


def tuple_of(kind):
    """An argparse type for comma-separated values."""
    return lambda text: tuple(kind(v) for v in text.split(","))


def main() -> None:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--modules", Path("/tmp/emoji-src/node_modules"), "node_modules with the emoji packages"),
        ("--data", Path("data/emoji"), "folder written by build_emoji.py"),
        ("--out", Path("models/retrieval"), "output folder, holding tokenizer/"),
        ("--fixture", Path(FIXTURE_PATH), "PyTorch reference outputs for ortlab's tests"),
    ]
    for flag, default, text in options:
        parser.add_argument(flag, type=Path, default=default, help=f"{text} (default: %(default)s)")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="largest ONNX Runtime difference allowed (default: %(default)s)",
    )
    parser.add_argument(
        "--explore",
        type=tuple_of(int),
        default=(),
        help="train only these head counts (e.g. 4 or 1,4), print the val split's rsum after "
        "every epoch, write nothing (default: off)",
    )
    for f in fields(TrainConfig):
        value = getattr(defaults, f.name)
        kind = tuple_of(type(value[0])) if isinstance(value, tuple) else type(value)
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
        parser.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=kind,
            default=value,
            help=f"{HELP[f.name]} (default: {shown})",
        )
    args = parser.parse_args()
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    if args.explore:
        explore(config, REPO / args.modules, REPO / args.data, REPO / args.out, args.explore)
        return
    paths = (REPO / args.modules, REPO / args.data, REPO / args.out, REPO / args.fixture)
    run(config, *paths, args.tolerance)


if __name__ == "__main__":
    main()

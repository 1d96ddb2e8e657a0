"""Build models/retrieval/tokenizer: a lowercase WordPiece tokenizer for the emoji captions.

The vocabulary is learned from the captions of the emoji set's train split only (regenerated
from the npm packages by tools/export/emoji_source.py), so no val or test caption shapes it: a
test word the training captions never used is cut into the pieces they taught. The alphabet also
holds every printable ASCII character. Training is tools/export/wordpiece.py's merge loop;
[PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, and a caption is encoded [CLS] pieces [SEP],
truncated to --max-length tokens in all (no caption is that long).

The two files are the ones tools/export/build_wordpiece.py writes (tokenizer.json with
BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing [CLS] $A [SEP];
tokenizer_config.json with model_max_length = --max-length). The folder is then loaded with
ortlab's own loadTokenizer (through tools/export/check_tokenizer.ts and `npx tsx`) with network
access disabled, and the script fails unless its ids equal this script's for every caption of
every split.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import string
from pathlib import Path

from build_wordpiece import check_in_node, tokenizer_documents
from emoji_source import SPLITS, load_emoji_set
from wordpiece import encode, train_vocab

REPO = Path(__file__).resolve().parents[2]
ASCII = string.ascii_lowercase + string.digits + string.punctuation
DEFAULT_MODULES = Path("/tmp/emoji-src/node_modules")


def build(
    modules: Path, out: Path, seed: int, vocab_size: int, min_frequency: int, max_length: int
) -> None:
    emoji_set = load_emoji_set(modules, seed)
    captions = {s: [c for i in emoji_set.items if i.split == s for c in i.captions] for s in SPLITS}
    tokens = train_vocab(captions["train"], vocab_size, min_frequency, ASCII)
    tokenizer, config = tokenizer_documents(tokens, max_length)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(
        json.dumps(tokenizer, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(
        f"vocabulary: {len(tokens)} tokens from the {len(captions['train'])} train captions "
        f"(limit {vocab_size}, min pair count {min_frequency})"
    )

    vocab = tokenizer["model"]["vocab"]
    texts = [c for s in SPLITS for c in captions[s]]
    expected = [encode(text, vocab, max_length) for text in texts]
    result = check_in_node(out, texts, expected, max_length)
    print(
        f"loadTokenizer (offline, {result['fetches']} fetches) gives the same ids for all "
        f"{len(texts)} captions at maxLength {max_length}; vocabSize {result['vocabSize']}, "
        f"padId {result['padId']}, batch rows agree: {result['batchAgrees']}"
    )
    for split in SPLITS:
        ids = [encode(c, vocab, 10_000) for c in captions[split]]
        unk = sum(row.count(vocab["[UNK]"]) for row in ids)
        whole = sum(len(row) - 2 for row in ids)
        print(
            f"  {split}: {len(ids)} captions, longest {max(map(len, ids))} tokens, "
            f"{sum(len(r) > max_length for r in ids)} cut, [UNK] {unk} of {whole} pieces"
        )
    for text in captions["test"][:3]:
        print(f"  {text!r} -> {[tokens[i] for i in encode(text, vocab, max_length)]}")
    for path in (out / "tokenizer.json", out / "tokenizer_config.json"):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--modules", Path, DEFAULT_MODULES, "node_modules folder holding the emoji packages"),
        ("--out", Path, Path("models/retrieval/tokenizer"), "output folder"),
        ("--seed", int, 20240713, "seed of the emoji set (as build_emoji.py)"),
        ("--vocab-size", int, 2000, "largest vocabulary, special tokens included"),
        ("--min-frequency", int, 2, "fewest occurrences of a pair for a merge"),
        ("--max-length", int, 32, "model_max_length: tokens per caption, [CLS] and [SEP] included"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    build(
        REPO / args.modules,
        REPO / args.out,
        args.seed,
        args.vocab_size,
        args.min_frequency,
        args.max_length,
    )


if __name__ == "__main__":
    main()

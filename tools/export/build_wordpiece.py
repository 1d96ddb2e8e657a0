"""Build models/distill/tokenizer: a lowercase BERT-style WordPiece tokenizer for the reviews.

The vocabulary is learned from the training domain's train split of data/sentiment only (the
split named in splits.json), so neither the validation and test sentences nor the held-out
domains leak into it: words of other domains are cut into the pieces the training text taught,
which is part of the domain shift. The alphabet also holds every printable ASCII character
(lowercased), so that a held-out sentence only meets [UNK] for characters outside ASCII that
the train split never used. Training is tools/export/wordpiece.py's byte-pair merge loop, as
Hugging Face's WordPieceTrainer runs it; [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4.

It writes tokenizer.json (Hugging Face tokenizers format: BertNormalizer lowercase,
BertPreTokenizer, WordPiece with '##', TemplateProcessing [CLS] $A [SEP], no padding or
truncation) and tokenizer_config.json (model_max_length = --max-length), then loads the folder
with ortlab's own loadTokenizer (src/runtime/tokenizer.ts, through tools/export/check_tokenizer.ts
and `npx tsx`) with network access disabled, and fails unless its ids equal this script's for
every sentence of every domain at --max-length tokens.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import string
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from sentiment_data import DOMAINS, read_domain, read_splits
from wordpiece import SPECIAL_TOKENS, encode, train_vocab

REPO = Path(__file__).resolve().parents[2]
CHECKER = Path(__file__).with_name("check_tokenizer.ts")
ASCII = string.ascii_lowercase + string.digits + string.punctuation


def tokenizer_documents(tokens: list[str], max_length: int) -> tuple[dict, dict]:
    """tokenizer.json and tokenizer_config.json for a vocabulary given as tokens in id order."""
    vocab = {token: i for i, token in enumerate(tokens)}
    special = [
        {
            "id": vocab[t],
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for t in SPECIAL_TOKENS
    ]
    piece = lambda name, type_id: {"SpecialToken": {"id": name, "type_id": type_id}}  # noqa: E731
    sequence = lambda name, type_id: {"Sequence": {"id": name, "type_id": type_id}}  # noqa: E731
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": None,
            "lowercase": True,
        },
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [piece("[CLS]", 0), sequence("A", 0), piece("[SEP]", 0)],
            "pair": [
                piece("[CLS]", 0),
                sequence("A", 0),
                piece("[SEP]", 0),
                sequence("B", 1),
                piece("[SEP]", 1),
            ],
            "special_tokens": {
                t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": vocab,
        },
    }
    config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "mask_token": "[MASK]",
    }
    return tokenizer, config


def check_in_node(
    folder: Path, texts: list[str], expected: list[list[int]], max_length: int
) -> dict:
    """Tokenize `texts` with ortlab's loadTokenizer; raise unless every text gets `expected`."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = {
            "tokenizer": str(folder),
            "texts": texts,
            "maxLength": max_length,
            "out": str(Path(tmp) / "ids.json"),
        }
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest))
        run = subprocess.run(
            ["npx", "tsx", str(CHECKER), str(Path(tmp) / "manifest.json")],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if run.returncode != 0:
            raise RuntimeError(f"loadTokenizer check failed:\n{run.stdout}{run.stderr}")
        result = json.loads((Path(tmp) / "ids.json").read_text())
    wrong = [i for i, (a, b) in enumerate(zip(result["ids"], expected)) if a != b]
    if wrong:
        i = wrong[0]
        raise RuntimeError(
            f"{len(wrong)} texts differ; first {texts[i]!r}: node "
            f"{result['ids'][i]} python {expected[i]}"
        )
    return result


def build(
    data: Path, out: Path, vocab_size: int, min_frequency: int, max_length: int, show: int
) -> None:
    """Train the vocabulary, write the two files, check them in Node, print a summary."""
    splits, parts = read_splits(data)
    tokens = train_vocab([e["text"] for e in parts["train"]], vocab_size, min_frequency, ASCII)
    tokenizer, config = tokenizer_documents(tokens, max_length)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(
        json.dumps(tokenizer, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(
        f"vocabulary: {len(tokens)} tokens from the {len(parts['train'])} sentences of "
        f"{splits['trainingDomain']} train (limit {vocab_size}, min pair count {min_frequency})"
    )

    vocab = tokenizer["model"]["vocab"]
    texts = [e["text"] for name in DOMAINS for e in read_domain(data, name)]
    expected = [encode(text, vocab, max_length) for text in texts]
    result = check_in_node(out, texts, expected, max_length)
    print(
        f"loadTokenizer (offline, {result['fetches']} fetches) gives the same ids for all "
        f"{len(texts)} sentences at maxLength {max_length}; vocabSize {result['vocabSize']}, "
        f"padId {result['padId']}, batch rows agree: {result['batchAgrees']}"
    )

    for name in DOMAINS:
        ids = [encode(e["text"], vocab, 10_000) for e in read_domain(data, name)]
        pieces = Counter(i for row in ids for i in row[1:-1])
        unk = pieces[vocab["[UNK]"]] / sum(pieces.values())
        cut = sum(len(row) > max_length for row in ids)
        lengths = sorted(len(row) for row in ids)
        print(
            f"  {name}: tokens per sentence median {lengths[len(lengths) // 2]}, max "
            f"{lengths[-1]}; {cut} longer than {max_length}; [UNK] share {unk:.4f}"
        )
    for text, row in list(zip(texts, expected))[:show]:
        print(f"  {text.strip()[:60]!r} -> {[tokens[i] for i in row][:14]}")
    for path in (out / "tokenizer.json", out / "tokenizer_config.json"):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--data", Path, Path("data/sentiment"), "folder built by build_sentiment.py"),
        ("--out", Path, Path("models/distill/tokenizer"), "output folder"),
        ("--vocab-size", int, 3000, "largest vocabulary, special tokens included"),
        ("--min-frequency", int, 2, "fewest occurrences of a pair for a merge"),
        ("--max-length", int, 64, "model_max_length, and the length the Node check truncates to"),
        ("--show", int, 3, "sentences whose tokens are printed"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    build(
        REPO / args.data,
        REPO / args.out,
        args.vocab_size,
        args.min_frequency,
        args.max_length,
        args.show,
    )


if __name__ == "__main__":
    main()

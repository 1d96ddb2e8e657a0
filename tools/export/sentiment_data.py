"""Read data/sentiment/ back: the domain files and the splits named in splits.json."""

import json
from pathlib import Path

DOMAINS = ["amazon", "imdb", "yelp"]
LABELS = ["negative", "positive"]


def read_domain(folder: Path, domain: str) -> list[dict]:
    """The {"text", "label"} entries of <domain>.jsonl, in file order."""
    path = folder / f"{domain}.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run tools/export/build_sentiment.py first")
    lines = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line]


def read_splits(folder: Path) -> tuple[dict, dict]:
    """splits.json, and the entries of every split and held-out domain by name.

    Names are the training domain's 'train', 'validation' and 'test', and each held-out
    domain's own name.
    """
    splits = json.loads((folder / "splits.json").read_text(encoding="utf-8"))
    parts = {}
    for name, spec in {**splits["splits"], **splits["heldOut"]}.items():
        entries = read_domain(folder, spec["domain"])[spec["start"] : spec["end"]]
        if len(entries) != spec["count"]:
            raise ValueError(
                f"{folder}: split {name} has {len(entries)} entries, expected {spec['count']}"
            )
        parts[name] = entries
    return splits, parts

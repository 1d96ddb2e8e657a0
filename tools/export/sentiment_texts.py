"""The words of data/sentiment: LICENSE.md and README.md; every number comes from the build."""

LICENSE = """\
# Licence of data/sentiment

The sentences and their labels are the "Sentiment Labelled Sentences" data set of the UCI
Machine Learning Repository:

> D. Kotzias, M. Denil, N. de Freitas and P. Smyth, "From Group to Individual Labels using Deep
> Features", KDD 2015. https://doi.org/10.24432/C57604

licensed under the Creative Commons Attribution 4.0 International licence (CC BY 4.0,
https://creativecommons.org/licenses/by/4.0/). The sentences come from reviews on amazon.com,
imdb.com and yelp.com.

They were taken from the copy in the npm package `sentiment` 5.0 (test/fixtures/amazon.json,
imdb.json and yelp.json; the package's code is MIT, Andrew Sliwinski). Changes made here: the one
empty entry of each file whose class is null was dropped, the entries were shuffled (seeded) and
rewritten as JSON lines with the field `label` in place of `class`. Texts are unchanged.
"""


def render_readme(splits: dict, facts: dict) -> str:
    """README.md of data/sentiment from splits.json and the build's counts."""
    domain = splits["trainingDomain"]
    held = list(splits["heldOut"])
    rows = []
    for name, spec in {**splits["splits"], **splits["heldOut"]}.items():
        per = spec["perLabel"]
        rows.append(
            f"| {name} | {spec['domain']}.jsonl | {spec['start']}..{spec['end'] - 1} | "
            f"{spec['count']} | {per['negative']} / {per['positive']} | "
            f"{spec['textsAlsoInTrain']} |"
        )
    counts = ", ".join(f"{n} {c}" for n, c in facts["counts"].items())
    duplicates = ", ".join(f"{n} {c}" for n, c in facts["duplicates"].items())
    s = splits["splits"]
    return f"""\
# Sentiment labelled sentences: three review domains

Short English review sentences labelled negative (0) or positive (1), from three sites: amazon
(products, mostly phones and accessories), imdb (films) and yelp (restaurants). Source and
licence: [LICENSE.md](LICENSE.md) (UCI "Sentiment Labelled Sentences", Kotzias et al. 2015,
CC BY 4.0, via the npm package `sentiment`).

## Files

- `amazon.jsonl`, `imdb.jsonl`, `yelp.jsonl`: one JSON object `{{"text": ..., "label": 0 | 1}}`
  per line, UTF-8, in a shuffled order (seed {splits['seed']}). Entries: {counts}; each is
  balanced, 500 per label. The text is as the source has it, trailing spaces (imdb),
  windows-1252 leftovers such as U+0085 and U+0096 (imdb) and repeated sentences included
  (texts seen more than once: {duplicates}). Characters that `str.splitlines()` would break at
  are written as `\\u` escapes, so splitting the file at `\\n` and at line ends agree.
- `splits.json`: the splits below as index ranges over the lines of a file, with their label
  counts.
- `LICENSE.md`.

## Splits

{domain} trains; {held[0]} and {held[1]} are held out whole as domain shifts (other vocabulary,
other topics, the same labels). Index ranges are 0-based and inclusive here, `[start, end)` in
`splits.json`; "also in train" counts texts that occur verbatim in the train split.

| split | file | lines | count | negative / positive | also in train |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

The tokenizer (`models/distill/tokenizer`) is built from the train split only, the models in
`models/distill` train on it ({s['train']['count']} sentences), choose their checkpoint on the
validation split ({s['validation']['count']}), and report accuracy on the test split
({s['test']['count']}) and on each held-out domain.

Rebuild (byte-identical with the same seed):

```sh
mkdir -p /tmp/sent && (cd /tmp/sent && npm init -y && npm install sentiment)
/usr/bin/python3 tools/export/build_sentiment.py
```
"""

"""Build data/emoji/: an image-text retrieval set of real emoji in two art styles.

Which emoji, their captions, the split and the alpha rule are described in
tools/export/emoji_source.py, which reads the npm packages this script is pointed at with
--modules (install them outside the repository, see tools/README.md).

Written (the val and test splits only; the training split is regenerated in memory from the
packages by train_retrieval.py and never committed):

- google/<image>.png and twitter/<image>.png: each val and test emoji as a plain 64x64 RGB PNG
  (alpha composited onto white), Google's Noto style and Twemoji style, same file name.
- dataset_emoji.json: Karpathy's split format (the layout of dataset_coco.json), one entry per
  val and test emoji: filename, filepath "" (the reader picks the style folder, google/ or
  twitter/, as the image root), split, imgid, sentids and sentences [{raw, tokens, imgid,
  sentid}], plus unified (code points), emoji, label and category.
- README.md (the recipe and the counts) and LICENSE.md (sources and licences).

PNGs are written by Pillow at compress_level 9 without optimization, the JSON one image per
line in a fixed order: a rebuild with the same packages, Pillow and zlib writes identical bytes.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
import shutil
from collections import Counter
from pathlib import Path

from PIL import Image

from emoji_source import SPLITS, STYLES, EmojiSet, load_emoji_set, load_images
from wordpiece import normalize, pre_tokenize

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODULES = Path("/tmp/emoji-src/node_modules")
WRITTEN_SPLITS = ("val", "test")

LICENSE = """# Sources and licences of data/emoji

The images and captions come from four npm packages; ortlab composited the images onto white
(see `README.md`) and joined the captions from the labels and keywords. `dataset_emoji.json`
and `README.md` are arranged by ortlab (Apache-2.0) from that material.

| part | package | licence |
| --- | --- | --- |
| `google/*.png` | `emoji-datasource-google` {google} | images: Google Noto Emoji, Apache License 2.0 (https://github.com/googlefonts/noto-emoji/blob/main/LICENSE) |
| `twitter/*.png` | `emoji-datasource-twitter` {twitter} | images: Twemoji graphics, Copyright Twitter, Inc. and other contributors, Creative Commons Attribution 4.0 International (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/; https://github.com/jdecked/twemoji/blob/main/LICENSE-GRAPHICS) |
| emoji list, file names | both `emoji-datasource-*` packages | MIT, Copyright (c) 2013 Cal Henderson |
| labels, tags | `emojibase-data` {emojibase} | MIT, Copyright (c) 2017-2019 Miles Johnson |
| keywords, names | `cldr-annotations-full` {cldr} | Unicode License v3, Copyright (c) 2004-2026 Unicode, Inc. |

The image licences are the ones the README of `emoji-datasource-google` and
`emoji-datasource-twitter` states ("Android/Google/Noto images, are available under the Apache
License 2.0"; "Twitter images are available under the Creative Commons Attribution 4.0
license"); each package's own `LICENSE` file is the MIT licence of the package's code and data.
Twemoji images are changed here (alpha composited onto white, re-encoded as RGB PNG).

Unicode License v3 notice, as `cldr-annotations-full` ships it:

Permission is hereby granted, free of charge, to any person obtaining a copy of data files and
any associated documentation (the "Data Files") or software and any associated documentation
(the "Software") to deal in the Data Files or Software without restriction, including without
limitation the rights to use, copy, modify, merge, publish, distribute, and/or sell copies of
the Data Files or Software, and to permit persons to whom the Data Files or Software are
furnished to do so, provided that either (a) this copyright and permission notice appear with
all copies of the Data Files or Software, or (b) this copyright and permission notice appear in
associated Documentation.

THE DATA FILES AND SOFTWARE ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT OF THIRD PARTY RIGHTS. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
HOLDERS INCLUDED IN THIS NOTICE BE LIABLE FOR ANY CLAIM, OR ANY SPECIAL INDIRECT OR
CONSEQUENTIAL DAMAGES, OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS,
WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN
CONNECTION WITH THE USE OR PERFORMANCE OF THE DATA FILES OR SOFTWARE.

Except as contained in this notice, the name of a copyright holder shall not be used in
advertising or otherwise to promote the sale, use or other dealings in these Data Files or
Software without prior written authorization of the copyright holder.
"""


def caption_tokens(raw: str) -> list[str]:
    """Karpathy-style tokens: the BERT pre-tokenizer's words that hold a letter or digit."""
    return [w for w in pre_tokenize(normalize(raw)) if any(c.isalnum() for c in w)]


def karpathy_document(emoji_set: EmojiSet) -> dict:
    """dataset_emoji.json for the val and test emoji, in sort order."""
    images, sentid = [], 0
    for item in (i for i in emoji_set.items if i.split in WRITTEN_SPLITS):
        imgid = len(images)
        sentences = []
        for raw in item.captions:
            tokens = caption_tokens(raw)
            sentences.append({"raw": raw, "tokens": tokens, "imgid": imgid, "sentid": sentid})
            sentid += 1
        images.append(
            {
                "filepath": "",
                "filename": item.image,
                "split": item.split,
                "imgid": imgid,
                "sentids": [s["sentid"] for s in sentences],
                "sentences": sentences,
                "unified": item.unified,
                "emoji": "".join(chr(int(p, 16)) for p in item.unified.split("-")),
                "label": item.label,
                "category": item.category,
            }
        )
    return {"dataset": "emoji", "styles": list(STYLES), "images": images}


def karpathy_text(document: dict) -> str:
    """The document as JSON text with one image entry per line."""
    head = {k: v for k, v in document.items() if k != "images"}
    lines = [json.dumps(image, ensure_ascii=False) for image in document["images"]]
    fields = "".join(f"{json.dumps(k)}: {json.dumps(v)}, " for k, v in head.items())
    return "{" + fields + '"images": [\n' + ",\n".join(lines) + "\n]}\n"


def readme(emoji_set: EmojiSet, seed: int) -> str:
    """README.md of the folder, with the counts of the set as built."""
    items = emoji_set.items
    rows = []
    for split in SPLITS:
        part = [i for i in items if i.split == split]
        captions = sum(len(i.captions) for i in part)
        sizes = Counter(len(i.captions) for i in part)
        spread = ", ".join(f"{n}: {sizes[n]}" for n in sorted(sizes))
        written = "yes" if split in WRITTEN_SPLITS else "no (regenerated)"
        rows.append(f"| {split} | {len(part)} | {captions} | {spread} | {written} |")
    categories = list(dict.fromkeys(i.category for i in items))
    by_category = [
        f"| {c} | "
        + " | ".join(str(sum(i.category == c and i.split == s for i in items)) for s in SPLITS)
        + " |"
        for c in categories
    ]
    skipped = ", ".join(f"{k} {v}" for k, v in emoji_set.skipped.items())
    versions = ", ".join(f"`{k}` {v}" for k, v in emoji_set.versions.items())
    example = next(i for i in items if i.split == "test")
    return f"""# data/emoji

Real emoji as an image-text retrieval benchmark: each emoji is an image (64x64 RGB PNG) with
2 to 6 English captions. `google/` holds Google's Noto emoji (the art style the shipped
encoders were trained on), `twitter/` the same emoji drawn as Twemoji (a domain shift); the two
folders hold the same file names. `dataset_emoji.json` is in Karpathy's split format (as
`dataset_coco.json`); its `filepath` is empty: pass `google/` or `twitter/` as the image root.

Built by `tools/export/build_emoji.py` (seed {seed}) from {versions}; a
rebuild writes the same bytes. The recipe (in `tools/export/emoji_source.py`):

- Emoji: every emoji of `emoji-datasource` with an image in both styles except components
  (skin tones, hair) and country and subdivision flags (their captions are only a country name
  and code), and except an emoji whose image in either style is identical to an earlier one's
  (Twemoji draws several families alike). Skin-tone variants are not separate entries. Left
  out: {skipped}.
- Captions, lowercase, never twice within a split: the emojibase label, the CLDR name when it
  differs, up to two single keywords and a phrase of up to four keywords (emojibase tags and
  CLDR keywords without the label's own words, in a seeded order); "<label> emoji" when fewer
  than two remain. Example ({example.image}): {" / ".join(example.captions)}.
- Split by emoji, stratified by category: 70 % train, 10 % val, 20 % test.
- Images: alpha composited onto white in integers, per channel
  `out = (c * a + 255 * (255 - a) + 127) // 255`; stored as RGB PNG without alpha.

| split | emoji | captions | emoji by caption count | committed |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}

| category | {" | ".join(SPLITS)} |
| --- | --- | --- | --- |
{chr(10).join(by_category)}

Sources and licences: `LICENSE.md`.
"""


def build(modules: Path, out: Path, seed: int) -> None:
    emoji_set = load_emoji_set(modules, seed)
    written = [i for i in emoji_set.items if i.split in WRITTEN_SPLITS]
    for style in STYLES:
        folder = out / style
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for item, pixels in zip(written, load_images(modules, style, written)):
            Image.fromarray(pixels, "RGB").save(folder / item.image, format="PNG", compress_level=9)
    document = karpathy_document(emoji_set)
    (out / "dataset_emoji.json").write_text(karpathy_text(document), encoding="utf-8")
    (out / "README.md").write_text(readme(emoji_set, seed), encoding="utf-8")
    versions = emoji_set.versions
    (out / "LICENSE.md").write_text(
        LICENSE.format(
            google=versions["emoji-datasource-google"],
            twitter=versions["emoji-datasource-twitter"],
            emojibase=versions["emojibase-data"],
            cldr=versions["cldr-annotations-full"],
        ),
        encoding="utf-8",
    )
    counts = Counter(i.split for i in emoji_set.items)
    sentences = sum(len(i["sentences"]) for i in document["images"])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"emoji: {dict(counts)}; skipped {emoji_set.skipped}")
    print(f"wrote {out}: {len(written)} emoji x {len(STYLES)} styles, {sentences} captions")
    print(f"  {size} bytes in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--modules", Path, DEFAULT_MODULES, "node_modules folder holding the emoji packages"),
        ("--out", Path, Path("data/emoji"), "output folder"),
        ("--seed", int, 20240713, "seed of the captions' keyword order and of the split"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    build(REPO / args.modules, REPO / args.out, args.seed)


if __name__ == "__main__":
    main()

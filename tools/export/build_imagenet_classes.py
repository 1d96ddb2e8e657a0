"""Build data/imagenet/classes.tsv, the ImageNet-1k class table: index, WordNet id, short name.

ImageNet classifiers number their 1000 outputs by the sorted list of the ILSVRC-2012 WordNet
ids (wnids), and the ImageNet variants (A, O, R, V2) name their classes by wnid, so ortlab needs
both the wnid and a readable name for each output index. Neither the images nor the official
devkit can be downloaded here; two Debian packages hold the pieces:

- the wnids: the package `darknet` ships `data/imagenet.labels.list`, all ImageNet-22k wnids with
  the 1000 ILSVRC-2012 classes on its first 1000 lines (not in sorted order);
- the names: torchvision's ImageNet category list (the `categories` of every IMAGENET1K weights
  enum), which is indexed by the same sorted-wnid order.

The script sorts the first 1000 wnids, pairs position i with torchvision's name i and writes one
line per class, `index<TAB>wnid<TAB>name`, without a header, plus a LICENSE.md. Nothing is random.
Relative paths given on the command line are taken from the repository root.
"""

import argparse
import re
import subprocess
from pathlib import Path

from script_support import package_version

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LABELS = Path("/usr/share/darknet/data/imagenet.labels.list")
DEFAULT_OUT = Path("data/imagenet")
CLASS_COUNT = 1000
WNID = re.compile(r"^n\d{8}$")

# Well-known rows of the table; a wrong input file or a reordered name list breaks at least one.
ANCHORS = [
    (0, "n01440764", "tench"),
    (409, "n02708093", "analog clock"),
    (999, "n15075141", "toilet tissue"),
]

LICENSE = """# ImageNet-1k class table

`classes.tsv` lists the 1000 ILSVRC-2012 (ImageNet-1k) classes, one per line:
`index<TAB>wnid<TAB>name`, no header. The index is the class's position in the sorted list of
WordNet ids, the output order of ImageNet classifiers.

- WordNet ids: the first 1000 lines of `data/imagenet.labels.list` from the Debian package
  `darknet` (upstream https://github.com/pjreddie/darknet, Copyright 2018 Joseph Redmon),
  licensed GPL-3.0-or-later or MIT or WTFPL at the user's choice; ortlab uses it under the MIT
  licence. The ids themselves are the WordNet synset offsets that ImageNet uses
  (https://image-net.org). Debian package version: {darknet}.
- Names: torchvision's ImageNet category list, `ResNet50_Weights.IMAGENET1K_V1.meta["categories"]`
  (one list shared by all of torchvision's ImageNet-1k weights), from the Debian package
  `python3-torchvision`, BSD-3-Clause, Copyright Soumith Chintala 2016 and Facebook, Inc. and its
  affiliates. Version: {torchvision}.
- Built by `tools/export/build_imagenet_classes.py`.

MIT licence text (darknet):

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

BSD-3-Clause (torchvision): redistribution and use in source and binary forms, with or without
modification, are permitted provided that the copyright notice, this list of conditions and the
following disclaimer are retained; neither the name of the copyright holder nor the names of its
contributors may be used to endorse or promote products derived from this software without
specific prior written permission. The full text is in torchvision's LICENSE file
(`/usr/share/doc/python3-torchvision/copyright` on Debian).
"""


def read_wnids(labels: Path) -> list[str]:
    """The first CLASS_COUNT lines of darknet's imagenet.labels.list, checked and sorted."""
    lines = labels.read_text(encoding="ascii").splitlines()[:CLASS_COUNT]
    bad = [line for line in lines if not WNID.match(line)]
    if len(lines) != CLASS_COUNT or bad:
        raise ValueError(
            f"{labels}: expected {CLASS_COUNT} wnids first, got {len(lines)} lines, "
            f"malformed: {bad[:3]}"
        )
    if len(set(lines)) != CLASS_COUNT:
        raise ValueError(f"{labels}: the first {CLASS_COUNT} wnids contain duplicates")
    return sorted(lines)


def read_names() -> list[str]:
    """torchvision's ImageNet-1k category names, in sorted-wnid order."""
    from torchvision.models import ResNet50_Weights

    names = list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])
    if len(names) != CLASS_COUNT or any(not n or "\t" in n or "\n" in n for n in names):
        raise ValueError(
            f"torchvision lists {len(names)} ImageNet categories, or a name is blank "
            "or holds a tab or newline"
        )
    return names


def debian_version(package: str) -> str:
    """Installed version of a Debian package, or 'unknown' where dpkg does not know it."""
    query = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
    )
    return query.stdout if query.returncode == 0 and query.stdout else "unknown"


def build_imagenet_classes(labels: Path, out: Path) -> None:
    """Write classes.tsv and LICENSE.md under `out`."""
    wnids = read_wnids(labels)
    names = read_names()
    for index, wnid, name in ANCHORS:
        if (wnids[index], names[index]) != (wnid, name):
            raise ValueError(
                f"class {index}: expected {wnid} {name!r}, " f"got {wnids[index]} {names[index]!r}"
            )

    out.mkdir(parents=True, exist_ok=True)
    rows = [f"{i}\t{wnid}\t{name}\n" for i, (wnid, name) in enumerate(zip(wnids, names))]
    (out / "classes.tsv").write_text("".join(rows), encoding="utf-8")
    versions = {"darknet": debian_version("darknet"), "torchvision": package_version("torchvision")}
    (out / "LICENSE.md").write_text(LICENSE.format(**versions))
    for path in (out / "classes.tsv", out / "LICENSE.md"):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = [
        ("--labels", DEFAULT_LABELS, "darknet's imagenet.labels.list"),
        ("--out", DEFAULT_OUT, "output folder"),
    ]
    for flag, default, text in options:
        parser.add_argument(flag, type=Path, default=default, help=f"{text} (default: %(default)s)")
    args = parser.parse_args()
    build_imagenet_classes(REPO / args.labels, REPO / args.out)


if __name__ == "__main__":
    main()

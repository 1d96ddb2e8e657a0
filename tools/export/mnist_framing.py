"""Bring a digit image of any size into MNIST's 28x28 format with MNIST's own normalization.

LeCun, Cortes and Burges describe how MNIST was made from NIST's bilevel scans: each digit was
size-normalized to fit a 20x20 box with its aspect ratio preserved (the anti-aliasing of that
step produced the grey levels), then placed in a 28x28 field so that its centre of mass lies at
the centre of the field. A digit from another collection only looks like MNIST to an MNIST
model after the same two steps; stretching a whole image to 28x28 instead leaves no margin and
the wrong stroke scale, and MNIST models then do little better than chance on it.

`frame_digit` applies the two steps to one image of ink coverage in [0, 1]:

1. crop to the bounding box of the non-zero pixels;
2. resize with Pillow's Lanczos filter (the filter Pillow called ANTIALIAS) so that the longer
   side is 20 pixels and the shorter one keeps the aspect ratio (rounded, at least 1 pixel),
   then clip to [0, 1];
3. place it in a 28x28 frame shifted by the rounded offset between its centre of mass and the
   point (14, 14), in (row, column) pixel-index coordinates. (14, 14) is where MNIST's own test
   images have their mean centre of mass (13.99, 14.01) in the same coordinates.
"""

import numpy as np
from PIL import Image

FRAME = 28
BOX = 20
CENTRE = 14.0
FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,
    "nearest": Image.Resampling.NEAREST,
}
DEFAULT_FILTER = "lanczos"


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, column) of a 2-D image with some ink."""
    rows, cols = np.indices(image.shape)
    mass = float(image.sum())
    if mass <= 0:
        raise ValueError("centre of mass of an image without ink")
    return float((image * rows).sum()) / mass, float((image * cols).sum()) / mass


def frame_digit(coverage: np.ndarray, resample: str = DEFAULT_FILTER) -> np.ndarray:
    """Return the uint8 [28, 28] MNIST-style image of one coverage image in [0, 1]."""
    if coverage.ndim != 2 or coverage.min() < 0 or coverage.max() > 1:
        raise ValueError(f"expected a 2-D coverage image in [0, 1], got {coverage.shape}")
    rows = np.flatnonzero(coverage.any(axis=1))
    cols = np.flatnonzero(coverage.any(axis=0))
    if rows.size == 0:
        raise ValueError("cannot frame an image without ink")
    crop = coverage[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)

    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scaled = Image.fromarray(crop, mode="F").resize(size, FILTERS[resample])
    digit = np.clip(np.asarray(scaled, dtype=np.float32), 0, 1)

    row, col = centre_of_mass(digit)
    top, left = round(CENTRE - row), round(CENTRE - col)
    if top < 0 or left < 0 or top + digit.shape[0] > FRAME or left + digit.shape[1] > FRAME:
        raise ValueError(f"digit of size {digit.shape} at offset ({top}, {left}) leaves the frame")
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    frame[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return np.round(frame * 255).astype(np.uint8)

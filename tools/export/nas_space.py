"""The NAS-Bench-201-style cell space that train_nas.py and train_supernet.py share.

A cell is a small directed acyclic graph of 4 nodes. Node 0 is the cell's input; every later
node i is the sum of one operation applied to each earlier node j (edge j -> i), and node 3 is
the cell's output. The six edges, in the order used by every encoding here, are
(1,0), (2,0), (2,1), (3,0), (3,1), (3,2) as (to, from). Each edge holds one of five operations:

- none        the edge is absent (contributes zero)
- skip        identity
- conv1x1     ReLU, 1x1 convolution, batch norm (NAS-Bench-201's ReLUConvBN)
- conv3x3     ReLU, 3x3 convolution, batch norm
- avgpool3x3  3x3 average pooling, stride 1, padding 1, padding not counted

A genotype is written in NAS-Bench-201's string form `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`
(one group per node 1..3, `op~j` naming the operation on the edge from node j) and encoded as
six operation indices into OPS, one per edge in EDGES order.

The macro network around the cell is the same for a stand-alone model and for the supernet:
stem (3x3 conv 1 -> C, stride STEM_STRIDE, batch norm), cell at C channels, reduction (a
NAS-Bench-201 residual block: ReLU-conv3x3 stride 2 to 2C, ReLU-conv3x3, plus a 2x2 average
pool and 1x1 conv shortcut), cell at 2C channels, then batch norm, ReLU, global average pooling
and one linear layer to the 10 classes. A cell module is called as `cell(x, arch)`; stand-alone
cells ignore `arch`, supernet cells take it from the network's second input.
"""

import torch
from torch import nn

OPS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NODES = 4
CHANNELS = 16
# The stem halves 28x28 to 14x14: the cells then run at 14x14 and 7x7, a quarter of the
# compute at full resolution, which is what lets a 30-model family train in minutes on 2 cores.
STEM_STRIDE = 2
CLASSES = 10


def genotype_string(encoding: list[int]) -> str:
    """NAS-Bench-201 string of a six-index encoding, e.g. `|conv3x3~0|+|none~0|skip~1|+|...|`."""
    check_encoding(encoding)
    groups = []
    for node in range(1, NODES):
        ops = [f"{OPS[encoding[e]]}~{j}" for e, (i, j) in enumerate(EDGES) if i == node]
        groups.append("|" + "|".join(ops) + "|")
    return "+".join(groups)


def parse_genotype(text: str) -> list[int]:
    """Six-index encoding of a NAS-Bench-201 genotype string (inverse of genotype_string)."""
    groups = text.split("+")
    if len(groups) != NODES - 1:
        raise ValueError(f"genotype '{text}' has {len(groups)} node groups, expected {NODES - 1}")
    encoding = []
    for node, group in enumerate(groups, start=1):
        items = [item for item in group.split("|") if item]
        for j, item in enumerate(items):
            name, _, source = item.partition("~")
            if name not in OPS or source != str(j) or len(items) != node:
                raise ValueError(f"genotype '{text}': bad item '{item}' in node {node}")
            encoding.append(OPS.index(name))
    return encoding


def check_encoding(encoding: list[int]) -> None:
    """Raise unless `encoding` is six integers in 0..len(OPS)-1."""
    if len(encoding) != len(EDGES) or any(not 0 <= int(v) < len(OPS) for v in encoding):
        raise ValueError(f"encoding {list(encoding)}: expected {len(EDGES)} indices in 0..4")


def is_connected(encoding: list[int]) -> bool:
    """Whether some path of non-'none' edges leads from node 0 to node 3.

    Without one the cell's output does not depend on its input, so the network's logits are the
    same for every image and it cannot beat chance.
    """
    reached = {0}
    for (i, j), op in zip(EDGES, encoding):
        if OPS[op] != "none" and j in reached:
            reached.add(i)
    return NODES - 1 in reached


def canonical(encoding: list[int]) -> list[int]:
    """`encoding` with every edge that cannot carry the image to node 3 set to 'none'.

    An edge counts when its source is reached from node 0 and its target leads on to node 3.
    Two encodings with the same canonical form compute the same function of the image (up to a
    constant that a convolution on an all-zero node adds through its batch-norm shift), so the
    family is kept distinct in this form: NAS-Bench-201's 15,625 cells hold many such twins.
    """
    live = [OPS[op] != "none" for op in encoding]
    reached, leads = {0}, {NODES - 1}
    for (i, j), on in zip(EDGES, live):
        if on and j in reached:
            reached.add(i)
    for (i, j), on in reversed(list(zip(EDGES, live))):
        if on and i in leads:
            leads.add(j)
    keep = [on and j in reached and i in leads for (i, j), on in zip(EDGES, live)]
    return [op if k else 0 for op, k in zip(encoding, keep)]


def one_hot(encoding: list[int]) -> torch.Tensor:
    """The supernet's `arch` input: float32 [6, 5], row e one-hot at encoding[e]."""
    check_encoding(encoding)
    arch = torch.zeros(len(EDGES), len(OPS))
    arch[torch.arange(len(EDGES)), torch.tensor(encoding)] = 1.0
    return arch


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, batch norm: NAS-Bench-201's convolution operation."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
        )


def make_op(name: str, channels: int) -> nn.Module:
    """The module for one non-'none' operation at `channels` channels, stride 1."""
    if name == "skip":
        return nn.Identity()
    if name == "conv1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "conv3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avgpool3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"no module for operation '{name}'; operations are {OPS}")


class Cell(nn.Module):
    """A stand-alone cell: one fixed operation per edge, 'none' edges left out."""

    def __init__(self, encoding: list[int], channels: int):
        super().__init__()
        check_encoding(encoding)
        self.encoding = list(encoding)
        self.edges = nn.ModuleDict()
        for (i, j), op in zip(EDGES, encoding):
            if OPS[op] != "none":
                self.edges[f"{i}_{j}"] = make_op(OPS[op], channels)

    def forward(self, x: torch.Tensor, arch: torch.Tensor | None = None) -> torch.Tensor:
        nodes = [x]
        for i in range(1, NODES):
            terms = [self.edges[f"{i}_{j}"](nodes[j]) for j in range(i) if f"{i}_{j}" in self.edges]
            nodes.append(sum(terms[1:], terms[0]) if terms else torch.zeros_like(x))
        return nodes[-1]


class Reduction(nn.Module):
    """NAS-Bench-201's residual reduction block: halves the size, doubles the channels."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, stride=2)
        self.conv_b = ReLUConvBN(cout, cout, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class MacroNetwork(nn.Module):
    """Stem, cell, reduction, cell, BN-ReLU, global average pooling, linear; see the module doc.

    `make_cell(channels)` builds each of the two cells, so the same skeleton holds stand-alone
    cells and supernet cells. `forward(input, arch)` passes `arch` to both cells.
    """

    def __init__(self, make_cell, channels: int = CHANNELS):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, channels, 3, STEM_STRIDE, 1, bias=False), nn.BatchNorm2d(channels)
        )
        self.cell1 = make_cell(channels)
        self.reduction = Reduction(channels, 2 * channels)
        self.cell2 = make_cell(2 * channels)
        self.head = nn.Sequential(nn.BatchNorm2d(2 * channels), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(2 * channels, CLASSES)

    def forward(self, x: torch.Tensor, arch: torch.Tensor | None = None) -> torch.Tensor:
        x = self.cell1(self.stem(x), arch)
        x = self.cell2(self.reduction(x), arch)
        return self.classifier(self.pool(self.head(x)).flatten(1))


def build_network(encoding: list[int], channels: int = CHANNELS) -> MacroNetwork:
    """A stand-alone network for one genotype."""
    return MacroNetwork(lambda c: Cell(encoding, c), channels)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable values (batch-norm running statistics not counted)."""
    return sum(p.numel() for p in model.parameters())


def describe_space() -> dict:
    """The space as recorded in models/nas/manifest.json and models/nas/supernet.json."""
    return {
        "name": "NAS-Bench-201-style cell space",
        "nodes": NODES,
        "ops": list(OPS),
        "edges": [list(edge) for edge in EDGES],
        "edgeForm": "[to, from]: node `to` sums one operation applied to node `from`",
        "encoding": "six op indices into `ops`, one per edge in `edges` order",
        "genotype": "NAS-Bench-201 string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
        "(groups for nodes 1, 2, 3; op~j is the edge from node j)",
        "opDefinitions": {
            "none": "zero (edge absent)",
            "skip": "identity",
            "conv1x1": "ReLU, 1x1 conv (no bias), batch norm",
            "conv3x3": "ReLU, 3x3 conv (no bias, padding 1), batch norm",
            "avgpool3x3": "3x3 average pool, stride 1, padding 1, padding not counted",
        },
        "macro": f"stem conv3x3 1->{CHANNELS} stride {STEM_STRIDE} + BN (28x28 -> 14x14); "
        f"cell at {CHANNELS} channels; reduction: ReLU-conv3x3 stride 2 to {2 * CHANNELS}-BN, "
        f"ReLU-conv3x3-BN, plus shortcut avgpool 2x2 + conv1x1 (14x14 -> 7x7); cell at "
        f"{2 * CHANNELS} channels; BN, ReLU, global average pooling, linear {2 * CHANNELS}->10",
        "channels": CHANNELS,
    }

"""The weight-sharing supernet over the cell space of nas_space.py, and its two BN treatments.

Every edge of a supernet cell holds all four non-'none' operations. The cells take the
architecture in one of two forms:

- a list of six op indices (training and the torch reference): only the chosen operation of
  each edge runs, as in single-path one-shot NAS (SPOS, Guo et al. 2020);
- a float tensor `arch` [6, 5] (the exported graph): edge output = sum over ops of
  arch[e, op] * op(x), 'none' contributing zero. With a one-hot `arch` this is the same network
  as the list form, so one ONNX graph evaluates any candidate fed as a second input.

Batch normalization is the part a shared network cannot share honestly: the statistics a
BatchNorm layer has accumulated while random paths were trained mix all of them, and the inputs
one candidate sends through a layer have other statistics. `with_batch_statistics` swaps every
BatchNorm2d for BatchStatNorm, which normalizes each batch by its own mean and variance
(training-mode semantics, written as plain ReduceMean arithmetic so that it exports to ONNX
unchanged), so that each candidate gets its own statistics at inference.
"""

import copy

import torch
from torch import nn

import nas_space


class SuperCell(nn.Module):
    """A cell whose every edge holds skip, conv1x1, conv3x3 and avgpool3x3."""

    def __init__(self, channels: int):
        super().__init__()
        names = nas_space.OPS[1:]
        self.edges = nn.ModuleList(
            nn.ModuleDict({name: nas_space.make_op(name, channels) for name in names})
            for _ in nas_space.EDGES
        )

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        nodes = [x]
        for i in range(1, nas_space.NODES):
            terms = [
                self.edge(e, nodes[j], arch) for e, (to, j) in enumerate(nas_space.EDGES) if to == i
            ]
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[-1]

    def edge(self, e: int, x: torch.Tensor, arch) -> torch.Tensor:
        """One edge: the chosen op for a list `arch`, the arch-weighted sum for a tensor."""
        ops = self.edges[e]
        if isinstance(arch, (list, tuple)):
            name = nas_space.OPS[arch[e]]
            return torch.zeros_like(x) if name == "none" else ops[name](x)
        terms = [arch[e, k] * ops[name](x) for k, name in enumerate(nas_space.OPS) if k > 0]
        return sum(terms[1:], terms[0])


def build_supernet(channels: int = nas_space.CHANNELS) -> nas_space.MacroNetwork:
    """The macro network of the stand-alone models with a supernet cell in both places."""
    return nas_space.MacroNetwork(SuperCell, channels)


class BatchStatNorm(nn.Module):
    """Batch norm that always uses the current batch's mean and biased variance.

    Equal to nn.BatchNorm2d in training mode without the running-statistics update; its affine
    parameters are those of the BatchNorm2d it replaces. Exported as ReduceMean arithmetic.
    """

    def __init__(self, norm: nn.BatchNorm2d):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        centred = x - mean
        variance = (centred * centred).mean(dim=(0, 2, 3), keepdim=True)
        scale = self.weight.view(1, -1, 1, 1) / torch.sqrt(variance + self.eps)
        return centred * scale + self.bias.view(1, -1, 1, 1)


def with_batch_statistics(model: nn.Module) -> nn.Module:
    """A copy of `model` with every BatchNorm2d replaced by a BatchStatNorm, in eval mode."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, BatchStatNorm(child))
    return model.eval()


def recalibrated(model: nn.Module, encoding: list[int], batches) -> nn.Module:
    """A copy of `model` whose BN running statistics are re-estimated for one candidate.

    The statistics are reset, then the exact mean over `batches` (training images, forward
    only, this candidate's path) replaces them: SPOS's own remedy, used here as a reference.
    """
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for x in batches:
            model(x, encoding)
    return model.eval()

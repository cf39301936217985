"""The baseline the benchmarks compare against: style transfer built the way the official PyTorch
tutorial ("Neural Transfer Using PyTorch") builds it — the full VGG19 feature stack copied into an
``nn.Sequential`` with a normalisation module first and loss modules inserted after the chosen
layers, the whole stack run at every step, L-BFGS over the image with clamping in the closure.

To compare like with like it uses xstyle's weights (caffe), layers (Gatys: relu4_2 / relu1_1..relu5_1)
and the seed's loss formulas, so its losses equal xstyle's to float precision. Benchmark code only.
"""

from __future__ import annotations

import torch
from torch import nn

from xstyle.models.vgg import LAYER_NAMES, load_vgg19


class _Normalization(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.view(-1, 1, 1))
        self.register_buffer("std", std.view(-1, 1, 1))

    def forward(self, img):
        return (img - self.mean) / self.std


def _gram(x):
    b, c, h, w = x.shape
    f = x.view(b, c, h * w)
    return f @ f.transpose(1, 2)


class _ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.tensor(0.0)
        self.enabled = False  # off while the targets are built (the style may differ in size)

    def forward(self, x):
        if self.enabled:
            self.loss = 0.5 * (x - self.target).pow(2).sum()
        return x


class _StyleLoss(nn.Module):
    def __init__(self, target_feature, weight):
        super().__init__()
        self.target = _gram(target_feature).detach()
        self.weight = weight
        self.loss = torch.tensor(0.0)
        self.enabled = False  # off while the targets are built (the style may differ in size)

    def forward(self, x):
        if not self.enabled:
            return x
        _, c, h, w = x.shape
        self.loss = self.weight * (_gram(x) - self.target).pow(2).sum() / (4.0 * c * c * (h * w) ** 2)
        return x


def build_tutorial_model(content, style, *, content_layers, style_layers, weights="caffe"):
    """Return ``(model, content_losses, style_losses)``; ``model`` runs all 37 VGG19 layers."""
    vgg = load_vgg19(weights)
    model = nn.Sequential(_Normalization(vgg.mean.flatten(), vgg.std.flatten()))
    content_losses, style_losses = [], []
    w = 1.0 / len(style_layers)
    for name in LAYER_NAMES:
        layer = getattr(vgg, name)
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)
        model.add_module(name, layer)
        if name in content_layers:
            loss = _ContentLoss(model(content).detach())
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = _StyleLoss(model(style).detach(), w)
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    for loss in (*content_losses, *style_losses):
        loss.enabled = True
    model.requires_grad_(False)
    return model.eval(), content_losses, style_losses


def tutorial_losses(model, content_losses, style_losses, image, *, alpha, beta):
    """One forward pass; returns (total, content, style) as tensors."""
    model(image)
    c = sum(cl.loss for cl in content_losses)
    s = sum(sl.loss for sl in style_losses)
    return alpha * c + beta * s, c, s


def run_tutorial_transfer(
    content, style, *, steps, alpha, beta, content_layers, style_layers, weights="caffe"
):
    """L-BFGS for ``steps`` closure evaluations at the content's resolution, tutorial style."""
    model, cls, sls = build_tutorial_model(
        content, style, content_layers=content_layers, style_layers=style_layers, weights=weights
    )
    img = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([img], lr=1.0, max_iter=steps, max_eval=steps, history_size=50)

    def closure():
        with torch.no_grad():
            img.clamp_(0, 1)
        opt.zero_grad()
        total, _, _ = tutorial_losses(model, cls, sls, img, alpha=alpha, beta=beta)
        total.backward()
        return total

    opt.step(closure)
    with torch.no_grad():
        img.clamp_(0, 1)
    return img.detach()

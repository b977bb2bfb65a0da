"""PyTorch FCN-32s / FCN-16s / FCN-8s / FCN-8s-at-once, parameter-compatible with pytorch-fcn.

An independent re-implementation of the networks of wkentaro/pytorch-fcn (``torchfcn.models``),
used as the reference the ONNX graph builder (:mod:`build_engine.fcn`) is tested against, and to
train the width-reduced demo model. Parameter names and shapes are exactly pytorch-fcn's, so its
published state dicts load with ``load_state_dict`` (``width_divisor=1``, ``n_class=21``).

``width_divisor`` divides every channel width of the VGG16 body and of fc6/fc7
(64/128/256/512/4096 -> 8/16/32/64/512 for ``width_divisor=8``); the topology (padding 100, ceil-mode
pools, 7x7 fc6, crop offsets) is unchanged.

Example:
    >>> import torch
    >>> net = build_torch_fcn("fcn8s", n_class=5, width_divisor=8).eval()
    >>> with torch.no_grad():
    ...     net(torch.zeros(1, 3, 37, 53)).shape
    torch.Size([1, 5, 37, 53])
"""

from __future__ import annotations

import math
from typing import Dict, Tuple, Type

import numpy as np
import torch
from torch import nn

from fcn_trt.errors import ConfigError

__all__ = [
    "VARIANTS",
    "FCN32s",
    "FCN16s",
    "FCN8s",
    "FCN8sAtOnce",
    "build_torch_fcn",
    "get_upsampling_weight",
    "fcn_widths",
    "randomize_fcn_",
]

#: Variant names, as used by build_engine.fcn and PipelineMetadata.variant.
VARIANTS = ("fcn8s", "fcn16s", "fcn32s", "fcn8s-atonce")

_CANONICAL_WIDTHS = (64, 128, 256, 512, 4096)
# Convs per VGG16 stage (conv1_1..conv1_2, ..., conv5_1..conv5_3). Kept here rather than imported from
# build_engine.fcn_spec so that this reference stays independent of the ONNX builder it is tested against.
_STAGE_DEPTHS = (2, 2, 3, 3, 3)


def fcn_widths(width_divisor: int = 1) -> Tuple[int, int, int, int, int]:
    """Channel widths (conv1, conv2, conv3, conv4/5, fc6/fc7) for ``width_divisor``.

    Example:
        >>> fcn_widths(8)
        (8, 16, 32, 64, 512)
    """
    if isinstance(width_divisor, bool) or not isinstance(width_divisor, int) or width_divisor < 1 \
            or 64 % width_divisor:
        raise ConfigError(
            "width_divisor",
            expected="a positive integer dividing 64 (1, 2, 4, 8, 16, 32, 64)",
            found=repr(width_divisor),
            hint="use 1 for the canonical FCN, 4 or 8 for the fast test/demo variant",
        )
    return tuple(c // width_divisor for c in _CANONICAL_WIDTHS)  # type: ignore[return-value]


def get_upsampling_weight(in_channels: int, out_channels: int, kernel_size: int) -> torch.Tensor:
    """Bilinear-upsampling kernel for a ConvTranspose2d weight ``[in, out, k, k]``.

    Channel i maps to channel i with a separable triangle filter (FCN "surgery" initialisation);
    off-diagonal channel pairs are zero.

    Example:
        >>> w = get_upsampling_weight(2, 2, 4)
        >>> w[0, 0, 1, 1].item(), w[0, 1].abs().sum().item()
        (0.5625, 0.0)
    """
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    ramp = 1.0 - np.abs(np.arange(kernel_size, dtype=np.float64) - center) / factor
    filt = np.outer(ramp, ramp)
    weight = np.zeros((in_channels, out_channels, kernel_size, kernel_size), dtype=np.float64)
    n = min(in_channels, out_channels)
    weight[np.arange(n), np.arange(n)] = filt
    return torch.from_numpy(weight).float()


def _crop(t: torch.Tensor, offset: int, like: torch.Tensor) -> torch.Tensor:
    """``t`` cropped to ``like``'s height and width from ``offset`` (Caffe's Crop layer)."""
    return t[:, :, offset:offset + like.shape[2], offset:offset + like.shape[3]]


def _add_skip(up: torch.Tensor, skip_score: torch.Tensor, offset: int) -> torch.Tensor:
    """A skip connection: the upsampled scores plus a pool's scores cropped to them at ``offset``."""
    return up + _crop(skip_score, offset, up)


class _FCNBase(nn.Module):
    """VGG16 body + fc6/fc7 + score_fr shared by every variant (pytorch-fcn attribute names); each
    variant adds its head in :meth:`_build_head` and computes it in ``forward``."""

    variant = ""

    def __init__(self, n_class: int = 21, width_divisor: int = 1) -> None:
        super().__init__()
        if isinstance(n_class, bool) or not isinstance(n_class, int) or n_class < 1:
            raise ConfigError("n_class", expected="a positive integer", found=repr(n_class))
        c1, c2, c3, c4, cf = fcn_widths(width_divisor)
        self.n_class = n_class
        self.width_divisor = width_divisor

        def conv(cin: int, cout: int, pad: int = 1) -> nn.Conv2d:
            return nn.Conv2d(cin, cout, 3, padding=pad)

        def pool() -> nn.MaxPool2d:
            return nn.MaxPool2d(2, stride=2, ceil_mode=True)

        # conv1..conv5, each ending in a ceil-mode pool (-> 1/2 ... 1/32); padding 100 on conv1_1, as in
        # the paper. Registered as conv{s}_{i}, relu{s}_{i}, pool{s}: pytorch-fcn's names and order.
        cin = 3
        for stage, (depth, cout) in enumerate(zip(_STAGE_DEPTHS, (c1, c2, c3, c4, c4)), start=1):
            for i in range(1, depth + 1):
                setattr(self, f"conv{stage}_{i}", conv(cin, cout, pad=100 if stage == i == 1 else 1))
                setattr(self, f"relu{stage}_{i}", nn.ReLU(inplace=True))
                cin = cout
            setattr(self, f"pool{stage}", pool())
        # fully convolutional classifier
        self.fc6, self.relu6, self.drop6 = nn.Conv2d(c4, cf, 7), nn.ReLU(inplace=True), nn.Dropout2d()
        self.fc7, self.relu7, self.drop7 = nn.Conv2d(cf, cf, 1), nn.ReLU(inplace=True), nn.Dropout2d()
        self.score_fr = nn.Conv2d(cf, n_class, 1)
        self._skip_widths = (c3, c4)
        self._build_head()
        self.reset_parameters()

    def _build_head(self) -> None:
        """Add the variant's skip score layers and transposed convs (pytorch-fcn's names, in its order)."""
        raise NotImplementedError

    def _deconv(self, kernel: int, stride: int) -> nn.ConvTranspose2d:
        return nn.ConvTranspose2d(self.n_class, self.n_class, kernel, stride=stride, bias=False)

    def reset_parameters(self) -> None:
        """pytorch-fcn initialisation: every Conv2d zero, every ConvTranspose2d bilinear.

        (pytorch-fcn then copies VGG16 or a coarser FCN into the body; use
        :func:`randomize_fcn_` for a network that computes something without pretrained weights.)
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.zeros_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.ConvTranspose2d):
                k = m.kernel_size[0]
                with torch.no_grad():
                    m.weight.copy_(get_upsampling_weight(m.in_channels, m.out_channels, k))

    def _features(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (pool3, pool4, score_fr output)."""
        pools = []
        h = x
        for stage, depth in enumerate(_STAGE_DEPTHS, start=1):
            for i in range(1, depth + 1):
                h = getattr(self, f"relu{stage}_{i}")(getattr(self, f"conv{stage}_{i}")(h))
            h = getattr(self, f"pool{stage}")(h)
            pools.append(h)
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        return pools[2], pools[3], self.score_fr(h)


class FCN32s(_FCNBase):
    """FCN-32s: score_fr upsampled x32 (``upscore``, k64 s32), cropped at offset 19."""

    variant = "fcn32s"

    def _build_head(self) -> None:
        self.upscore = self._deconv(64, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, score = self._features(x)
        return _crop(self.upscore(score), 19, x).contiguous()


class FCN16s(_FCNBase):
    """FCN-16s: x2 + pool4 skip (offset 5), then ``upscore16`` (k32 s16), cropped at offset 27."""

    variant = "fcn16s"

    def _build_head(self) -> None:
        self.score_pool4 = nn.Conv2d(self._skip_widths[1], self.n_class, 1)
        self.upscore2 = self._deconv(4, 2)
        self.upscore16 = self._deconv(32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, pool4, score = self._features(x)
        h = _add_skip(self.upscore2(score), self.score_pool4(pool4), 5)
        return _crop(self.upscore16(h), 27, x).contiguous()


class FCN8s(_FCNBase):
    """FCN-8s: pool4 skip (offset 5), pool3 skip (offset 9), ``upscore8`` (k16 s8), crop 31."""

    variant = "fcn8s"
    #: Scale of pool4 / pool3 before their score layers (1 here; 0.01 / 0.0001 for at-once).
    pool4_scale = 1.0
    pool3_scale = 1.0

    def _build_head(self) -> None:
        self.score_pool3 = nn.Conv2d(self._skip_widths[0], self.n_class, 1)
        self.score_pool4 = nn.Conv2d(self._skip_widths[1], self.n_class, 1)
        self.upscore2 = self._deconv(4, 2)
        self.upscore8 = self._deconv(16, 8)
        self.upscore_pool4 = self._deconv(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool3, pool4, score = self._features(x)
        if self.pool4_scale != 1.0:
            pool4 = pool4 * self.pool4_scale
        if self.pool3_scale != 1.0:
            pool3 = pool3 * self.pool3_scale
        h = _add_skip(self.upscore2(score), self.score_pool4(pool4), 5)
        h = _add_skip(self.upscore_pool4(h), self.score_pool3(pool3), 9)
        return _crop(self.upscore8(h), 31, x).contiguous()


class FCN8sAtOnce(FCN8s):
    """FCN-8s trained "at once": same parameters as FCN-8s, pool4 x0.01 and pool3 x0.0001.

    Its weights cannot be told apart from FCN-8s weights; the variant must be given explicitly.
    """

    variant = "fcn8s-atonce"
    pool4_scale = 0.01
    pool3_scale = 0.0001


_CLASSES: Dict[str, Type[_FCNBase]] = {
    "fcn8s": FCN8s,
    "fcn16s": FCN16s,
    "fcn32s": FCN32s,
    "fcn8s-atonce": FCN8sAtOnce,
}


def build_torch_fcn(variant: str = "fcn8s", n_class: int = 21, width_divisor: int = 1) -> _FCNBase:
    """Return the torch network for ``variant`` (pytorch-fcn initialisation, training mode).

    Example:
        >>> sorted(build_torch_fcn("fcn16s", 3, 8).state_dict())[:2]
        ['conv1_1.bias', 'conv1_1.weight']
    """
    try:
        cls = _CLASSES[variant]
    except (KeyError, TypeError):
        raise ConfigError(
            "FCN variant", expected=" or ".join(VARIANTS), found=repr(variant)
        ) from None
    return cls(n_class=n_class, width_divisor=width_divisor)


def randomize_fcn_(
    model: _FCNBase,
    seed: int = 0,
    score_std: float = 0.01,
    bias_std: float = 0.01,
    random_upsampling: bool = True,
) -> _FCNBase:
    """Give ``model`` random, non-trivial weights in place and return it.

    Body convs (conv*, fc6, fc7): He-normal (fan-in), so activations keep their scale through the
    15 ReLU layers; score layers: ``randn * score_std``, centred over input channels so that no
    class wins every pixel (pytorch-fcn zero-initialises them: every logit would be equal); biases ``randn * bias_std``. Transposed convs: bilinear plus
    zero-mean uniform noise on every (in, out) pair when ``random_upsampling`` (so a graph that swapped the
    ConvTranspose in/out axes would be caught), pure bilinear otherwise.

    Example:
        >>> net = randomize_fcn_(build_torch_fcn("fcn32s", 4, 8), seed=1)
        >>> bool(net.score_fr.weight.detach().abs().sum() > 0)
        True
    """
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                if name.startswith("score"):
                    std = score_std
                else:
                    fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                    std = math.sqrt(2.0 / fan_in)
                w = torch.randn(m.weight.shape, generator=gen)
                if name.startswith("score"):
                    # zero mean over input channels: post-ReLU features are positive, so a random
                    # mean would add a per-class offset and one class would win every pixel
                    w = w - w.mean(dim=(1, 2, 3), keepdim=True)
                m.weight.copy_(w * std)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * bias_std)
            elif isinstance(m, nn.ConvTranspose2d):
                w = get_upsampling_weight(m.in_channels, m.out_channels, m.kernel_size[0])
                if random_upsampling:
                    w = w + 0.1 * (torch.rand(w.shape, generator=gen) - 0.5)
                m.weight.copy_(w)
    return model

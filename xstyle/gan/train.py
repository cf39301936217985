"""DCGAN training: a reproducible trainer with atomic checkpoints and exact resume.

One training step follows the design's TensorFlow loop exactly: a batch of real digits and a batch
of z ~ N(0, I) go through one forward pass (G(z), D(real), D(G(z))); the generator's gradient comes
from BCE(D(G(z)), 1), the discriminator's from BCE(D(real), 1) + BCE(D(G(z)), 0), and both Adam
optimisers step.

Determinism: shuffling, latents and the fixed preview batch use ``torch.Generator`` objects seeded
from ``config.seed``; module initialisation and dropout draw from torch's global generator, which
the trainer runs from its own :class:`~xstyle.rng.RandomStream` (the caller's random state is left
as it was, and nothing the caller draws between steps changes the training). All generator states
are stored in each checkpoint, so a run resumed from a checkpoint ends with exactly the weights of
an uninterrupted run (on the CPU).

Checkpoints are ``epoch_NNNN.pt`` (state dicts, optimiser states, RNG states, history; loaded with
``weights_only=True``) plus ``epoch_NNNN.json`` (config, epoch, metrics, versions), each written
atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from xstyle._checkpoint_fields import MISSING, FileKind, SavedConfigMixin
from xstyle._checks import check_finite_epoch, check_int
from xstyle._resume import Resumable, refuse_mismatch, write_checkpoint
from xstyle.data import DigitData, ImageData, check_digit_data
from xstyle.gan.dcgan import N_DIGITS, Discriminator, Generator
from xstyle.gan.prior import LatentPrior, draw_latents, prior_of, with_labels
from xstyle.hooks import frozen
from xstyle.losses import discriminator_loss, generator_loss
from xstyle.models.shipped import is_shipped_spec, resolve_shipped
from xstyle.rng import RandomStream
from xstyle.safeload import cast_floats

__all__ = [
    "DATASETS",
    "RELEASE_FORMAT",
    "GANCheckpoint",
    "GANConfig",
    "GANDataset",
    "GANTrainer",
    "TrainStep",
    "build_models",
    "check_train_data",
    "export_release",
    "gan_dataset",
    "load_checkpoint",
    "load_gan_data",
]

#: Format tag of a trainer checkpoint (full state) and of a release (weights only, float16).
TRAIN_FORMAT = "xstyle.dcgan/1"
RELEASE_FORMAT = "xstyle.dcgan-release/1"
#: what loading names such a file, and the formats it may carry
_CHECKPOINT_FILE = FileKind(
    "checkpoint", "an xstyle DCGAN checkpoint", "xstyle gan train", (TRAIN_FORMAT, RELEASE_FORMAT)
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GANDataset:
    """What a data set asks of the DCGAN: image channels and size, and classes (for ``conditional``)."""

    name: str
    channels: int
    image_size: int
    n_classes: int
    description: str


#: The data sets ``GANConfig.dataset`` (``xstyle gan train --dataset``) names.
DATASETS: dict[str, GANDataset] = {
    "mnist": GANDataset("mnist", 1, 28, N_DIGITS, "MNIST digits, 28x28 grey (xstyle.data.load_digits)"),
    "emoji": GANDataset("emoji", 3, 32, 9, "Noto emoji, 32x32 RGB, 9 categories (xstyle.data.load_emoji)"),
}


def gan_dataset(name: str) -> GANDataset:
    """The :class:`GANDataset` called ``name``; one line naming the choices otherwise."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}.")
    return DATASETS[name]


def load_gan_data(name: str, split: str = "train") -> DigitData | ImageData:
    """The offline training (``"train"``) or held-out (``"heldout"``) images of data set ``name``."""
    from xstyle.data import load_digits, load_emoji

    return {"mnist": load_digits, "emoji": load_emoji}[gan_dataset(name).name](split)


def build_models(config: GANConfig) -> tuple[Generator, Discriminator]:
    """A fresh generator and discriminator for ``config`` (its data set's size, channels, classes)."""
    spec = gan_dataset(config.dataset)
    shape = {"image_size": spec.image_size, "channels": spec.channels}
    classes = spec.n_classes if config.conditional else 0
    prior = LatentPrior.parse(config.prior)
    return Generator(prior=prior, n_classes=classes, **shape), Discriminator(n_classes=classes, **shape)


def check_train_data(data: DigitData | ImageData, dataset: str, *, name: str = "data") -> None:
    """One line unless ``data`` holds images of ``dataset``'s shape in [-1, 1] and its labels."""
    if isinstance(data, DigitData) and dataset == "mnist":
        check_digit_data(data, name=name)
        return
    spec = gan_dataset(dataset)
    if not isinstance(data, ImageData | DigitData):
        raise TypeError(
            f"{name} must be DigitData or ImageData (e.g. xstyle.data.load_emoji()); "
            f"got {type(data).__name__}."
        )
    want = (spec.channels, spec.image_size, spec.image_size)
    x = data.images
    if x.ndim != 4 or tuple(x.shape[1:]) != want:
        raise ValueError(
            f"{data.source}: images must have shape (N, {', '.join(map(str, want))}) for "
            f"dataset {dataset!r}; got {tuple(x.shape)}."
        )
    if not torch.isfinite(x).all() or x.min() < -1 - 1e-6 or x.max() > 1 + 1e-6:
        raise ValueError(f"{data.source}: images must be finite and scaled to [-1, 1].")
    y = data.labels
    if y.shape != (x.shape[0],) or (y.numel() and (int(y.min()) < 0 or int(y.max()) >= spec.n_classes)):
        raise ValueError(
            f"{data.source}: labels must be ({x.shape[0]},) whole numbers in 0..{spec.n_classes - 1}."
        )


@dataclass(frozen=True, kw_only=True)
class GANConfig(SavedConfigMixin):
    """Hyper-parameters of a DCGAN run (defaults: the design's)."""

    epochs: int = 50
    batch_size: int = 256
    lr_g: float = 1e-4  # Adam learning rate of the generator
    lr_d: float = 1e-4  # Adam learning rate of the discriminator
    betas: tuple[float, float] = (0.9, 0.999)  # Keras Adam defaults
    eps: float = 1e-7  # Keras Adam default
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch is always saved)
    n_preview: int = 16  # digits in the per-epoch preview grid (fixed latents)
    ema_decay: float | None = None  # keep an exponential moving average of G's weights (e.g. 0.999)
    prior: str = "normal"  # where z comes from: 'normal' or 'mixture:K:R:S' (xstyle.gan.prior)
    conditional: bool = False  # class-conditional: G(z, y) and a projection discriminator D(x, y)
    dataset: str = "mnist"  # what it trains on: a name of DATASETS (image size, channels, classes)
    out_dir: str | None = None  # where checkpoints and previews go (None: keep nothing on disk)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        for name in ("epochs", "batch_size", "checkpoint_every", "n_preview"):
            check_int(getattr(self, name), name, 0 if name == "epochs" else 1)
        for name in ("lr_g", "lr_d", "eps"):
            value = getattr(self, name)
            if not (value > 0 and value < 1):
                raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1); got {self.betas!r}.")
        # a clear error for a bad spec; stored canonical, so 'mixture:10:4.0:1' resumes 'mixture:10:4:1'
        object.__setattr__(self, "prior", LatentPrior.parse(self.prior).spec)
        gan_dataset(self.dataset)
        if self.ema_decay is not None and not (0 < self.ema_decay < 1):
            raise ValueError(
                f"ema_decay must be a number in (0, 1) such as 0.999, or None for no average; "
                f"got {self.ema_decay!r}."
            )


@dataclass(frozen=True)
class TrainStep:
    """One optimisation step: epoch (1-based), step within the epoch, losses and D outputs."""

    epoch: int
    step: int
    d_loss: float
    g_loss: float
    d_real: float  # mean sigmoid(D(real))
    d_fake: float  # mean sigmoid(D(G(z)))


@dataclass(eq=False)
class GANCheckpoint:
    """Everything a checkpoint holds, loaded (models in eval mode)."""

    generator: Generator
    discriminator: Discriminator
    config: GANConfig
    epoch: int
    history: list[dict]
    path: Path | None = None
    state: dict = field(default_factory=dict, repr=False)
    generator_ema: Generator | None = None  # the moving average of G, when the run kept one

    @property
    def sampler(self) -> Generator:
        """The generator to sample from: the moving average when there is one, else ``generator``."""
        return self.generator_ema if self.generator_ema is not None else self.generator


class GANTrainer(Resumable):
    """Train the DCGAN on digits.

    Example::

        trainer = GANTrainer(load_digits("train"), config=GANConfig(epochs=50, out_dir="runs/gan"))
        trainer.fit(callbacks=[print])       # per-step TrainStep objects
        trainer.generator                    # the trained Generator

    Args:
        data: training digits, (N, 1, 28, 28) in [-1, 1].
        config: hyper-parameters; ``out_dir`` receives checkpoints and previews.
        resume: a checkpoint path to continue from (trained with the same seed, batch size and prior).
    """

    RESUMABLE: ClassVar[dict[str, tuple[str, ...]]] = {
        "modules": ("generator", "discriminator"),
        "optimisers": ("opt_g", "opt_d"),
        "generators": ("shuffle_rng", "latent_rng"),
    }

    def __init__(
        self,
        data: DigitData | ImageData,
        *,
        config: GANConfig | None = None,
        resume: str | Path | None = None,
    ):
        self.config = config or GANConfig()
        check_train_data(data, self.config.dataset, name="data")
        self.data = data
        self.device = torch.device(self.config.device)
        self.rng = RandomStream(self.config.seed, device=self.device)  # module initialisation and dropout
        with self.rng.active():
            generator, discriminator = build_models(self.config)
            self.generator = generator.to(self.device)
            self.discriminator = discriminator.to(self.device)
        self.opt_g = self._adam(self.generator, self.config.lr_g)
        self.opt_d = self._adam(self.discriminator, self.config.lr_d)
        self.shuffle_rng = torch.Generator().manual_seed(self.config.seed + 1)
        self.latent_rng = torch.Generator().manual_seed(self.config.seed + 2)
        self.preview_z = _preview_latents(self.generator, self.config.n_preview, seed=self.config.seed + 3)
        self.ema: AveragedModel | None = None
        if self.config.ema_decay is not None:
            # averages BatchNorm statistics too (use_buffers), so the average is a usable generator
            self.ema = AveragedModel(
                self.generator, multi_avg_fn=get_ema_multi_avg_fn(self.config.ema_decay), use_buffers=True
            )
        self.epoch = 0
        self.history: list[dict] = []
        if resume is not None:
            self._restore(load_checkpoint(resume))

    def _adam(self, module: torch.nn.Module, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=self.config.betas, eps=self.config.eps)

    def _restore(self, ckpt: GANCheckpoint) -> None:
        refuse_mismatch(ckpt.config, self.config, ("conditional", "dataset", "seed", "batch_size", "prior"))
        # the optimisers' saved learning rates and betas would override this run's config: keep the config
        c = self.config
        groups = {
            name: {"lr": lr, "betas": c.betas, "eps": c.eps}
            for name, lr in (("opt_g", c.lr_g), ("opt_d", c.lr_d))
        }
        self.unpack_state(ckpt.state, param_groups=groups)
        if self.ema is not None and "generator_ema" in ckpt.state:
            self.ema.module.load_state_dict(ckpt.state["generator_ema"])
            self.ema.n_averaged.fill_(int(ckpt.state["ema_n_averaged"]))
        # a checkpoint without an average starts one from its current weights at the first step
        self.epoch = ckpt.epoch
        self.history = list(ckpt.history)

    def train_step(
        self, real: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[float, float, float, float]:
        """One step on a real batch (B, 1, 28, 28); returns (d_loss, g_loss, D(real), D(fake))."""
        g, d = self.generator, self.discriminator
        # a conditional run draws its fakes with the real batch's labels: D judges each pair (x, y)
        y = labels if self.config.conditional else None
        z = draw_latents(g, real.shape[0], generator=self.latent_rng, labels=y).to(self.device)
        with self.rng.active():  # dropout
            fake = g(z)
            real_logits, fake_logits = (d(real, y), d(fake, y)) if y is not None else (d(real), d(fake))
        g_loss = generator_loss(fake_logits)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_params, d_params = list(g.parameters()), list(d.parameters())
        g_grads = torch.autograd.grad(g_loss, g_params, retain_graph=True)
        d_grads = torch.autograd.grad(d_loss, d_params)
        for p, grad in zip(g_params, g_grads, strict=True):
            p.grad = grad
        for p, grad in zip(d_params, d_grads, strict=True):
            p.grad = grad
        self.opt_g.step()
        self.opt_d.step()
        if self.ema is not None:
            self.ema.update_parameters(g)
        stats = torch.stack(
            [
                d_loss.detach(),
                g_loss.detach(),
                real_logits.detach().sigmoid().mean(),
                fake_logits.detach().sigmoid().mean(),
            ]
        ).tolist()  # one host sync per step
        return stats[0], stats[1], stats[2], stats[3]

    def fit(
        self,
        *,
        epochs: int | None = None,
        callbacks: Sequence[Callable[[TrainStep], None]] = (),
        epoch_callbacks: Sequence[Callable[[int, dict], None]] = (),
    ) -> list[dict]:
        """Train until ``epochs`` (default ``config.epochs``) epochs in total have run.

        ``callbacks`` get every :class:`TrainStep`; ``epoch_callbacks`` get ``(epoch, summary)``
        after each epoch, before its checkpoint is written; they may add entries to ``summary``
        (it is the dict appended to :attr:`history`). Returns the history.
        """
        total = self.config.epochs if epochs is None else epochs
        images, labels = self.data.images.to(self.device), self.data.labels.to(self.device)
        n, bs = images.shape[0], self.config.batch_size
        self.generator.train()
        self.discriminator.train()
        while self.epoch < total:
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=self.shuffle_rng)
            sums = torch.zeros(4, dtype=torch.float64)
            steps = 0
            # a last batch of a single digit is skipped: BatchNorm needs two samples to train
            starts = [s for s in range(0, n, bs) if n - s > 1]
            for step, start in enumerate(starts):
                batch = order[start : start + bs]
                values = self.train_step(images[batch], labels[batch])
                sums += torch.tensor(values, dtype=torch.float64)
                steps += 1
                entry = TrainStep(self.epoch + 1, step, *values)
                for callback in callbacks:
                    callback(entry)
            self.epoch += 1
            mean = (sums / max(steps, 1)).tolist()
            seconds = time.perf_counter() - t0
            summary = {
                "epoch": self.epoch,
                "d_loss": mean[0],
                "g_loss": mean[1],
                "d_real": mean[2],
                "d_fake": mean[3],
                "seconds": seconds,
                "images_per_second": n / seconds,
            }
            check_finite_epoch(
                summary,
                epoch=self.epoch,
                hint="lower the learning rates (--lr, --lr-d) or resume from an earlier checkpoint.",
            )
            self.history.append(summary)
            log.info("epoch %d: d_loss %.4f g_loss %.4f", self.epoch, mean[0], mean[1])
            # epoch callbacks may add numbers to the summary (e.g. a Fréchet distance) before saving
            for callback in epoch_callbacks:
                callback(self.epoch, summary)
            if self.config.out_dir is not None:
                self._write_preview()
                if self.epoch % self.config.checkpoint_every == 0 or self.epoch == total:
                    self.save_checkpoint(Path(self.config.out_dir) / f"epoch_{self.epoch:04d}.pt")
        self.generator.eval()
        self.discriminator.eval()
        return self.history

    @property
    def sampler(self) -> Generator:
        """The generator to sample and evaluate: the moving average when kept, else the trained one."""
        return self.ema.module if self.ema is not None else self.generator

    def preview(self) -> torch.Tensor:
        """Digits of the fixed preview latents, (n_preview, 1, 28, 28) in [-1, 1] (eval mode)."""
        with frozen(self.sampler), torch.no_grad():
            return self.sampler(self.preview_z.to(self.device)).cpu()

    def _write_preview(self) -> None:
        from torchvision.utils import make_grid

        from xstyle.images import save_image

        nrow = _preview_columns(self.config.n_preview) if self.config.conditional else None
        nrow = nrow or int(self.config.n_preview**0.5 + 0.5)
        grid = make_grid(self.preview(), nrow=nrow, normalize=True, value_range=(-1, 1))
        save_image(grid, Path(self.config.out_dir) / "samples" / f"epoch_{self.epoch:04d}.png")

    def save_checkpoint(self, path: str | Path, *, metrics: dict | None = None) -> Path:
        """Write ``path`` (.pt) and its JSON metadata atomically; returns the .pt path."""
        path = Path(path)
        state = {
            "format": TRAIN_FORMAT,
            **self.pack_state(),
            "epoch": self.epoch,
            "config": self.config.to_dict(),
            "history": self.history,
        }
        if self.ema is not None:
            state["generator_ema"] = self.ema.module.state_dict()
            state["ema_n_averaged"] = int(self.ema.n_averaged)
        _write_checkpoint(path, state, metrics, data={"source": self.data.source, "n": len(self.data)})
        return path


def load_checkpoint(path: str | Path, *, map_location: str = "cpu") -> GANCheckpoint:
    """Load a DCGAN checkpoint written by :class:`GANTrainer` (``weights_only=True``).

    A file of another architecture, a non-checkpoint or a pickle carrying code gets a
    ``ValueError`` with one clear line; nothing in the file is executed. Every field is checked
    before it is used (config settings, epoch, history, the weights' names, shapes and finiteness,
    and in a trainer checkpoint the optimiser and random-generator states a resume loads), and a
    bad one is named in that line. ``path`` may be ``"shipped:dcgan"`` (the shipped release).
    """
    path = resolve_shipped(path, "dcgan", what="checkpoint") if is_shipped_spec(path) else Path(path)
    state, check = _CHECKPOINT_FILE.open(path, map_location=map_location)
    config = check.config(GANConfig, state.get("config", {}))
    epoch = check.integer(state.get("epoch", 0), "epoch")
    history = check.records(state.get("history", []), "history")
    generator, discriminator = build_models(config)
    generator_ema = build_models(config)[0] if "generator_ema" in state else None
    models = {"generator": generator, "discriminator": discriminator, "generator_ema": generator_ema}
    arch = "the DCGAN architecture"
    weights = {
        name: check.state_dict(state.get(name, MISSING), name, model.state_dict(), kind=arch)
        for name, model in models.items()
        if model is not None
    }
    if state["format"] == TRAIN_FORMAT:
        check.resume_state(
            state,
            optimisers={"opt_g": generator, "opt_d": discriminator},
            generators=("shuffle_rng", "latent_rng", "torch_rng"),
        )
        if "torch_cuda_rng" in state:  # a CUDA generator's state: seed and offset, 16 bytes
            check.tensor(state["torch_cuda_rng"], "torch_cuda_rng", like=torch.zeros(16, dtype=torch.uint8))
        if generator_ema is not None:
            check.integer(state.get("ema_n_averaged", MISSING), "ema_n_averaged")
    for name, model in models.items():
        if model is not None:  # releases store float16 weights: cast back to float32
            model.load_state_dict(cast_floats(weights[name], torch.float32))
            model.eval()
    return GANCheckpoint(
        generator=generator,
        discriminator=discriminator,
        config=config,
        epoch=epoch,
        history=history,
        path=path,
        state=state,
        generator_ema=generator_ema,
    )


def export_release(
    checkpoint: str | Path,
    path: str | Path,
    *,
    metrics: dict | None = None,
    history: list[dict] | None = None,
    use_ema: bool = True,
) -> Path:
    """Write the weights of a trainer checkpoint as a small release file (float16, no optimiser state).

    The generator and discriminator weights are stored in float16 (half the size; the loader casts
    them back to float32), so a release of the DCGAN takes about 5 MB. When the run kept a moving
    average of the generator, the release's generator *is* that average (``generator_is_ema``).
    Metrics measured on the *release* weights belong in ``metrics``; a JSON model card is written
    beside the file. ``use_ema=False`` releases the raw generator even when the run kept an average
    (a short run's average still leans on its first steps). ``history`` replaces the checkpoint's
    training history (e.g. the one of
    :func:`xstyle.gan.metrics.fill_history_quality`); it must cover the same epochs.
    """
    ckpt = load_checkpoint(checkpoint)
    if history is not None and [h.get("epoch") for h in history] != [h.get("epoch") for h in ckpt.history]:
        raise ValueError(
            f"history covers other epochs than {str(checkpoint)!r}'s training history; pass the history "
            "of that checkpoint (fill_history_quality(checkpoint, ...)) or none."
        )
    state = {
        "format": RELEASE_FORMAT,
        "generator": cast_floats((ckpt.sampler if use_ema else ckpt.generator).state_dict(), torch.float16),
        "generator_is_ema": use_ema and ckpt.generator_ema is not None,
        "discriminator": cast_floats(ckpt.discriminator.state_dict(), torch.float16),
        "config": ckpt.config.to_dict(),
        "epoch": ckpt.epoch,
        "history": ckpt.history if history is None else history,
    }
    path = Path(path)
    _write_checkpoint(path, state, metrics)
    return path


def _write_checkpoint(path: Path, state: dict, metrics: dict | None, **extra) -> None:
    """Write ``state`` and its JSON card (a failed save keeps the previous pair; weights land first)."""
    card = {k: state[k] for k in ("format", "epoch", "config")}
    write_checkpoint(path, state, {**card, "metrics": metrics or {}, "history": state["history"], **extra})


def half_precision_copy(generator: Generator) -> Generator:
    """A float32 generator whose weights went through float16, as a release stores them."""
    copy = Generator(
        generator.latent_dim,
        prior=generator.prior,
        n_classes=generator.n_classes,
        image_size=getattr(generator, "image_size", 28),
        channels=getattr(generator, "channels", 1),
    )
    copy.load_state_dict(cast_floats(cast_floats(generator.state_dict(), torch.float16), torch.float32))
    return copy.eval()


def _preview_columns(n_preview: int) -> int:
    """Images per row of a conditional preview (one row per class)."""
    return min(n_preview, 8)


def _preview_latents(generator: Generator, n_preview: int, *, seed: int) -> torch.Tensor:
    """Fixed latents of the per-epoch preview: ``n_preview`` draws, or for a conditional generator
    one row per digit 0..9 with the same z in every row (each column one handwriting)."""
    rng = torch.Generator().manual_seed(seed)
    if not generator.conditional:
        return draw_latents(generator, n_preview, generator=rng)
    cols = _preview_columns(n_preview)
    z = prior_of(generator).sample(cols, generator.latent_dim, generator=rng)
    labels = torch.arange(generator.n_classes).repeat_interleave(cols)
    return with_labels(z.repeat(generator.n_classes, 1), labels, n_classes=generator.n_classes)

"""DCGAN training throughput: xstyle's trainer against a bare hand-written PyTorch loop.

Cases run interleaved in one process, the order rotated every round; each case trains a fresh
model (same seed) for ``--steps`` steps of batch 256 on the 5,000-digit sample after a warm-up,
and the median images/second over rounds is printed with ratios against the bare loop.

* ``bare loop``: the straightforward port of the design's TensorFlow step (one forward pass, two
  gradients, two Adam steps; nothing else);
* ``xstyle trainer``: ``GANTrainer.train_step`` plus its bookkeeping (loss history, one host
  sync per step, a step callback), as ``fit`` runs it;
* ``xstyle trainer, channels_last``: the same with the models and batches in channels-last memory.

When ``tensorflow`` is importable (the optional ``bench-tf`` extra, never a runtime dependency) the
design's TensorFlow step runs side by side too, and the trainer's ratio against it is printed.

Run: ``.venv/bin/python benchmarks/bench_gan.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from _machine import machine

from xstyle.data import load_digits
from xstyle.gan.dcgan import LATENT_DIM, Discriminator, Generator, discriminator_loss, generator_loss
from xstyle.gan.train import GANConfig, GANTrainer, TrainStep


def bare_loop_case(images, batch_size):
    torch.manual_seed(0)
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    gen = torch.Generator().manual_seed(1)

    def step(i):
        start = (i * batch_size) % (len(images) - batch_size)
        real = images[start : start + batch_size]
        z = torch.randn(batch_size, LATENT_DIM, generator=gen)
        fake = g(z)
        real_logits, fake_logits = d(real), d(fake)
        g_loss, d_loss = generator_loss(fake_logits), discriminator_loss(real_logits, fake_logits)
        opt_g.zero_grad()
        opt_d.zero_grad()
        g_grads = torch.autograd.grad(g_loss, list(g.parameters()), retain_graph=True)
        d_loss.backward(inputs=list(d.parameters()))
        for p, grad in zip(g.parameters(), g_grads, strict=True):
            p.grad = grad
        opt_g.step()
        opt_d.step()

    return step


def trainer_case(data, batch_size, *, channels_last=False):
    trainer = GANTrainer(data, config=GANConfig(batch_size=batch_size, seed=0))
    images = data.images
    if channels_last:
        trainer.generator.to(memory_format=torch.channels_last)
        trainer.discriminator.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    history = []
    callback = history.append

    def step(i):
        start = (i * batch_size) % (len(images) - batch_size)
        values = trainer.train_step(images[start : start + batch_size])
        callback(TrainStep(1, i, *values))

    return step


def tensorflow_case(images, batch_size):  # pragma: no cover - optional
    import numpy as np
    import tensorflow as tf
    from tensorflow.keras import layers

    g = tf.keras.Sequential(
        [
            layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(100,)),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
        ]
    )
    d = tf.keras.Sequential(
        [
            layers.Conv2D(64, 5, strides=2, padding="same", input_shape=[28, 28, 1]),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    opt_g, opt_d = tf.keras.optimizers.Adam(1e-4), tf.keras.optimizers.Adam(1e-4)
    data = tf.constant(images.permute(0, 2, 3, 1).numpy().astype(np.float32))

    @tf.function
    def train_step(real):
        noise = tf.random.normal([batch_size, 100])
        with tf.GradientTape() as gt, tf.GradientTape() as dt:
            fake = g(noise, training=True)
            ro, fo = d(real, training=True), d(fake, training=True)
            gl = bce(tf.ones_like(fo), fo)
            dl = bce(tf.ones_like(ro), ro) + bce(tf.zeros_like(fo), fo)
        gv, dv = g.trainable_variables, d.trainable_variables
        opt_g.apply_gradients(zip(gt.gradient(gl, gv), gv, strict=True))
        opt_d.apply_gradients(zip(dt.gradient(dl, dv), dv, strict=True))

    def step(i):
        start = (i * batch_size) % (len(images) - batch_size)
        train_step(data[start : start + batch_size])

    return step


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=8, help="timed steps per case per round")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--quick", action="store_true", help="batch 32, 2 rounds of 2 steps (a smoke run)")
    args = p.parse_args(argv)
    print(machine())
    if args.quick:
        args.rounds, args.steps, args.batch_size = 2, 2, 32
    data = load_digits("train")
    bs = args.batch_size
    cases = {
        "bare loop": bare_loop_case(data.images, bs),
        "xstyle trainer": trainer_case(data, bs),
        "xstyle trainer, channels_last": trainer_case(data, bs, channels_last=True),
    }
    try:
        cases["tensorflow (design's loop)"] = tensorflow_case(data.images, bs)
    except ImportError:
        print("tensorflow not installed: its case is skipped (pip install tensorflow-cpu to add it)")
    names = list(cases)
    for name in names:  # warm-up (allocations, tf.function tracing)
        for i in range(2):
            cases[name](i)
    rates = {n: [] for n in names}
    counters = dict.fromkeys(names, 2)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            for _ in range(args.steps):
                cases[name](counters[name])
                counters[name] += 1
            rates[name].append(args.steps * bs / (time.perf_counter() - t0))
    base = statistics.median(rates["bare loop"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {bs}, {args.rounds} rounds")
    print(f"{'case':<32} {'images/s':>9} {'vs bare':>8}")
    for name in names:
        med = statistics.median(rates[name])
        print(f"{name:<32} {med:>9.0f} {med / base:>7.3f}x")
    tf_name = "tensorflow (design's loop)"
    if tf_name in rates:
        tf_rate = statistics.median(rates[tf_name])
        for name in ("xstyle trainer", "xstyle trainer, channels_last"):
            print(f"{name} against TensorFlow: {statistics.median(rates[name]) / tf_rate:.3f}x")
    epoch = len(data) / statistics.median(rates["xstyle trainer"])
    print(f"one epoch over the {len(data)}-digit training split with the trainer: {epoch:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

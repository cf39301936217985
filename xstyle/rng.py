"""A private stream of torch's global random generator, for draws that cannot take a ``Generator``.

Module initialisation and dropout always draw from torch's global generator. A trainer that
seeded it with ``torch.manual_seed`` would change the caller's random state as a side effect, and
anything else the caller draws between two steps would change the training. :class:`RandomStream`
keeps its own generator state instead: inside ``with stream.active():`` the global generator runs
from the stream's state, and on leaving, the stream keeps the advanced state and the caller's
state comes back (``torch.random.fork_rng``). The state is a plain ``uint8`` tensor, so it goes
into checkpoints and a resumed run continues the same sequence. The stream is seeded without
``torch.manual_seed``, which would reseed every device's generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from xstyle._checks import check_seed

__all__ = ["RandomStream"]


class RandomStream:
    """Torch's global random generator, seeded and advanced privately.

    Args:
        seed: an integer in [0, 2**32); the stream starts where ``torch.manual_seed(seed)`` would put the
            global generator (without calling it, so no device's generator is reseeded).
        device: on a CUDA device the stream also keeps that device's generator state (dropout on
            the GPU draws from it); on the CPU only the CPU generator is used.

    Example::

        stream = RandomStream(0)
        with stream.active():
            model = torch.nn.Linear(3, 2)   # same initial weights as after torch.manual_seed(0)
        state = stream.state                # save it; ``stream.state = state`` restores it
    """

    def __init__(self, seed: int, *, device: str | torch.device = "cpu") -> None:
        seed = check_seed(seed)  # 0 <= seed < 2**32, one ValueError line otherwise
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())  # fixed once, not per call
        self.device = device
        self.state: torch.Tensor = torch.Generator().manual_seed(seed).get_state()
        self.cuda_state: torch.Tensor | None = (
            torch.Generator(device=device).manual_seed(seed).get_state() if device.type == "cuda" else None
        )

    def _cuda_devices(self) -> list[torch.device]:
        return [self.device] if self.device.type == "cuda" else []

    @contextmanager
    def active(self) -> Iterator[None]:
        """Draw from this stream inside the block; the caller's generator state is restored after,
        also when the block raises."""
        with torch.random.fork_rng(devices=self._cuda_devices()):
            torch.set_rng_state(self.state)
            if self.cuda_state is not None:
                torch.cuda.set_rng_state(self.cuda_state, self.device)
            try:
                yield
            finally:
                self.state = torch.get_rng_state()
                if self.cuda_state is not None:
                    self.cuda_state = torch.cuda.get_rng_state(self.device)

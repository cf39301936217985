"""What the report builders share: progress events, the stage runner and a new :class:`Report`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from xstyle.report.captions import text
from xstyle.report.writer import Figure, Report, save_figure, versions

__all__ = ["ProgressCallback", "ProgressEvent"]


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report of a builder.

    Attributes:
        kind: ``"start"`` (a stage begins), ``"advance"`` (one step of it done), ``"end"``.
        stage: the stage's name; index: its number (0-based) of ``n_stages``.
        done, total: steps of the stage done so far and expected (``done`` may pass ``total`` when
            the estimate was low).
        share: the stage's estimated share of the whole run's time (all shares sum to 1).
        message: what the step did; seconds: the stage's time (``"end"`` only).
    """

    kind: str
    stage: str
    index: int
    n_stages: int
    done: int
    total: int
    share: float
    message: str = ""
    seconds: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class _FigureSaver:
    """Saves a report's figures: ``save(figure, name, key, svg=False, **fields)`` writes
    ``figures/<prefix><name>.png`` under ``root`` (``figure``: a matplotlib figure or a Display),
    titled and captioned by ``text(key, **fields)``, and returns its :class:`Figure` entry."""

    root: Path
    prefix: str = ""

    def __call__(self, figure: Any, name: str, key: str, /, *, svg: bool = False, **fields: Any) -> Figure:
        return save_figure(figure, self.root, f"{self.prefix}{name}", svg=svg, **text(key, **fields))


@dataclass(frozen=True)
class _Page:
    """Where a report's sections go: the :class:`Report`, its folder (figures under
    ``root/figures/``) and the prefix of the figures' names; :attr:`save` saves a figure there."""

    report: Report
    root: Path
    prefix: str = ""

    @property
    def save(self) -> _FigureSaver:
        return _FigureSaver(self.root, self.prefix)


_Config = TypeVar("_Config", bound="_ReportConfig")


class _ReportConfig:
    """Base of the builders' frozen option dataclasses: :meth:`fast` and :meth:`to_dict`."""

    #: the options :meth:`fast` changes: seconds per report, every section and figure still drawn
    _FAST: ClassVar[dict[str, Any]] = {}
    #: the options :meth:`demo` changes: report-sized settings for the demo's few-minute budget
    _DEMO: ClassVar[dict[str, Any]] = {}

    @classmethod
    def fast(cls: type[_Config], **changes: Any) -> _Config:
        """A tiny configuration (seconds, for tests) that still draws every figure; ``changes`` win."""
        return cls(**{**cls._FAST, **changes})

    @classmethod
    def demo(cls: type[_Config], **changes: Any) -> _Config:
        """The demo's configuration (``xstyle report demo``: minutes on a 2-core CPU, the expensive
        stages at report-sized settings); ``changes`` win."""
        return cls(**{**cls._DEMO, **changes})

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON-ready data."""
        return asdict(self)  # type: ignore[call-overload]  # subclasses are dataclasses


@dataclass
class _Stage:
    name: str
    total: int  # expected steps
    cost: float  # estimated relative cost (seconds on the reference machine)


@dataclass
class _Runner:
    """Runs a fixed plan of stages, reporting progress and recording the log of what ran."""

    plan: list[_Stage]
    progress: ProgressCallback | None
    log: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 0

    def _emit(self, **kw: Any) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(n_stages=len(self.plan), **kw))

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[str], None]]:
        index = next(i for i, s in enumerate(self.plan) if s.name == name)
        spec = self.plan[index]
        whole = sum(s.cost for s in self.plan) or 1.0
        share = spec.cost / whole
        done = 0

        def emit(kind: str, **kw: Any) -> None:
            self._emit(kind=kind, stage=name, index=index, done=done, total=spec.total, share=share, **kw)

        emit("start")

        def advance(message: str = "") -> None:
            nonlocal done
            done += 1
            emit("advance", message=message)

        t0 = time.perf_counter()
        try:
            yield advance
        except BaseException as exc:
            self.log.append(
                {
                    "stage": name,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "status": "failed",
                    "detail": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                }
            )
            raise
        seconds = time.perf_counter() - t0
        self.log.append({"stage": name, "seconds": round(seconds, 2), "status": "ok", "detail": ""})
        emit("end", seconds=seconds)


def _new_report(title: str, summary: str, seed: int | None, config: dict[str, Any]) -> Report:
    return Report(title=title, summary=summary, config=config, versions=versions(), seed=seed)

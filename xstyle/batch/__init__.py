"""Explain collections: many pictures or checkpoints at once, on this machine or on a Ray cluster.

:func:`run_batch` runs one independent task per :class:`BatchItem` (content x style pairs,
paintings, GAN checkpoints; from folders or a manifest) on a :class:`LocalEngine` (worker
processes, no scheduler) or a :class:`RayEngine`, writes one result folder per item atomically,
resumes where a killed run stopped and records failed items with a one-line error.
"""

from xstyle.batch.engines import JobOutcome, LocalEngine, RayEngine, plan_workers
from xstyle.batch.items import (
    BatchItem,
    checkpoint_items,
    folder_files,
    item_seed,
    painting_items,
    pair_items,
    read_manifest,
)
from xstyle.batch.runner import BatchProgress, BatchResult, ItemStatus, pending_items, run_batch
from xstyle.batch.tasks import BatchSettings, run_item

__all__ = [
    "BatchItem",
    "BatchProgress",
    "BatchResult",
    "BatchSettings",
    "ItemStatus",
    "JobOutcome",
    "LocalEngine",
    "RayEngine",
    "checkpoint_items",
    "folder_files",
    "item_seed",
    "painting_items",
    "pair_items",
    "pending_items",
    "plan_workers",
    "read_manifest",
    "run_batch",
    "run_item",
]

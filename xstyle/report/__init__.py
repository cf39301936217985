"""Displays (lazy matplotlib plots of results); the report writer joins them in a later issue."""

from xstyle.report.displays import GANTrainingDisplay, TransferLossDisplay

__all__ = ["GANTrainingDisplay", "TransferLossDisplay"]

"""Explainers: attribution (Captum), Gram decompositions, ablation and latent-space probes.

Each analysis returns a frozen ``*Result`` dataclass; plotting lives in :mod:`xstyle.report`.
"""

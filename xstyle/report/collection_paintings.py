"""The paintings part of the collection report: the table of paintings, the style atlas of their
Gram fingerprints and the carrier channels they share; and the links and thumbnails every part uses."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xstyle.report._common import _FigureSaver
from xstyle.report.captions import text
from xstyle.report.collection_data import (
    TOP_CARRIERS,
    BatchFolder,
    _clip,
    _number,
    consensus_carriers,
    short_name,
)
from xstyle.report.collection_figures import consensus_bars, style_atlas
from xstyle.report.writer import Link, Report, Section, Table

__all__: list[str] = []


def _result_link(folder: BatchFolder, item_id: str, report_dir: Path) -> Link | str:
    """A link from the report folder to the item's result.json (plain text when none can be made)."""
    target = (folder.item_dir(item_id) / "result.json").resolve()
    try:
        href = Path(os.path.relpath(target, report_dir.resolve())).as_posix()
        return Link(item_id, href)
    except ValueError:  # another drive, or a path a link cannot hold
        return item_id


def _thumbnail(path: Path, size: int = 160) -> Any:
    """An RGB uint8 array of the image at ``path``, at most ``size`` px a side; None if unreadable."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            image = image.convert("RGB")
            image.thumbnail((size, size))
            return np.asarray(image)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _painting_layers(folder: BatchFolder, ids: Sequence[str]) -> list[str]:
    """The style layers of the paintings, in the order the first one lists them."""
    layers: list[str] = []
    for i in ids:
        numbers = folder.results[i]["numbers"]
        order = numbers.get("fingerprint_layers")
        spectra = numbers.get("spectra")
        carriers = numbers.get("carriers")
        candidates = [
            *(order if isinstance(order, list) else []),
            *(spectra if isinstance(spectra, Mapping) else []),
            *(carriers if isinstance(carriers, Mapping) else []),
        ]
        for name in map(str, candidates):
            if name not in layers:
                layers.append(name)
    return layers


def _carriers(numbers: Mapping[str, Any], layer: str) -> list[tuple[int, float | None]]:
    """(channel, share) of a painting's top carriers in ``layer`` (malformed entries skipped)."""
    raw = numbers.get("carriers", {})
    entries = raw.get(layer, []) if isinstance(raw, Mapping) else []
    out = []
    for entry in entries[:TOP_CARRIERS] if isinstance(entries, list) else []:
        if isinstance(entry, list | tuple) and entry and isinstance(entry[0], int | float):
            out.append((int(entry[0]), _number(entry[1]) if len(entry) > 1 else None))
    return out


def _painting_names(folder: BatchFolder, ids: Sequence[str]) -> dict[str, str]:
    """id -> a short label; the id where two paintings would share a label."""
    names = {i: short_name(folder.items[i]["inputs"].get("painting", i)) for i in ids}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {i: (n if counts[n] == 1 else i) for i, n in names.items()}


def _paintings_table(
    report: Report,
    folder: BatchFolder,
    ids: Sequence[str],
    names: Mapping[str, str],
    layers: Sequence[str],
    report_dir: Path,
) -> tuple[Section, dict[str, Any]]:
    s = report.section(
        "Paintings: style spectra and carrier channels",
        f"{len(ids)} painting(s) analysed: their Gram spectra per style layer, their strongest "
        "carrier channels, and their style fingerprints.",
    )
    rows, metrics = [], {}
    for i in ids:
        numbers = folder.results[i]["numbers"]
        spectra = numbers.get("spectra") if isinstance(numbers.get("spectra"), Mapping) else {}
        pr = {
            layer: _number(spectra.get(layer, {}).get("participation_ratio"))
            if isinstance(spectra.get(layer), Mapping)
            else None
            for layer in layers
        }
        first = {layer: next(iter(_carriers(numbers, layer)), None) for layer in layers}
        top = {
            layer: None if f is None else f"c{f[0]}" + (f" ({100 * f[1]:.1f} %)" if f[1] is not None else "")
            for layer, f in first.items()
        }
        seconds = _number(folder.results[i].get("seconds"))
        network = str(numbers.get("network", "vgg19"))  # batches before networks were recorded: VGG19
        metrics[i] = {
            "painting": folder.items[i]["inputs"].get("painting"),
            "network": network,
            "participation_ratio": pr,
            "top_carrier": {layer: None if f is None else f[0] for layer, f in first.items()},
            "seconds": seconds,
        }
        rows.append(
            (
                names[i],
                network,
                *(pr[layer] for layer in layers),
                *(top[layer] for layer in layers),
                seconds,
                _result_link(folder, i, report_dir),
            )
        )
    s.table(
        Table(
            columns=(
                "painting",
                "network",
                *(f"PR {layer}" for layer in layers),
                *(f"top carrier {layer}" for layer in layers),
                "seconds",
                "result",
            ),
            rows=tuple(rows),
            sortable=True,
            **text("collection.table_paintings"),
        )
    )
    return s, metrics


def _fingerprints(folder: BatchFolder, ids: Sequence[str]) -> tuple[list[str], Any, dict[str, str]]:
    """Paintings whose fingerprint.npy loads (the most common length wins), their matrix, and the
    ids skipped with the reason."""
    import numpy as np

    vectors: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for i in ids:
        path = folder.item_dir(i) / "fingerprint.npy"
        try:
            v = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            skipped[i] = f"fingerprint.npy not readable ({type(err).__name__})"
            continue
        v = np.asarray(v, dtype=np.float64).ravel()
        if v.size == 0 or not np.isfinite(v).all():
            skipped[i] = "fingerprint.npy is empty or not finite"
            continue
        vectors[i] = v
    lengths: dict[int, int] = {}
    for v in vectors.values():
        lengths[v.size] = lengths.get(v.size, 0) + 1
    if not lengths:
        return [], np.zeros((0, 0)), skipped
    size = max(lengths, key=lambda n: (lengths[n], -n))
    kept = [i for i in vectors if vectors[i].size == size]
    for i in vectors:
        if vectors[i].size != size:
            skipped[i] = f"fingerprint of {vectors[i].size} numbers, not {size} like the others"
    return kept, np.stack([vectors[i] for i in kept]), skipped


def _atlas(
    s: Section, root: Path, folder: BatchFolder, ids: Sequence[str], names: Mapping[str, str]
) -> dict[str, Any]:
    """The style atlas: standardise, PCA to 2-D, k-means; a scatter of thumbnails and a table."""
    save = _FigureSaver(root)
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    kept, matrix, skipped = _fingerprints(folder, ids)
    n = len(kept)
    if n < 2:
        s.text(
            f"The style atlas needs the fingerprints of at least two paintings; {n} could be read"
            + (f" ({'; '.join(f'{k}: {v}' for k, v in skipped.items())})." if skipped else ".")
        )
        return {"paintings": kept, "skipped": skipped}
    z = StandardScaler().fit_transform(matrix)
    dims = min(2, n, z.shape[1])
    pca = PCA(n_components=dims, svd_solver="full", random_state=0)
    coords = pca.fit_transform(z)
    if dims < 2:
        coords = np.column_stack([coords, np.zeros(n)])
    k = min(4, n - 1) if n >= 3 else 1
    if k > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # identical fingerprints: fewer distinct points than k
            labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(z)
    else:
        labels = np.zeros(n, dtype=int)
    explained = [float(x) for x in pca.explained_variance_ratio_]

    thumbnails = [_thumbnail(folder.item_dir(i) / "painting.png", size=64) for i in kept]
    fig = style_atlas(coords, labels, k, thumbnails, [_clip(names[i], 18) for i in kept], explained)
    shown = f"{100 * sum(explained):.0f} %"
    clusters = f"{k} k-means clusters" if k > 1 else "one colour (too few paintings to cluster)"
    s.figure(save(fig, "style_atlas", "collection.atlas", n=n, explained=shown, clusters=clusters))
    s.table(
        Table(
            columns=("painting", "cluster", "PC 1", "PC 2"),
            rows=tuple(
                (names[i], int(labels[j]), float(coords[j, 0]), float(coords[j, 1]))
                for j, i in sorted(enumerate(kept), key=lambda t: (int(labels[t[0]]), t[0]))
            ),
            sortable=True,
            **text("collection.table_atlas"),
        )
    )
    if skipped:
        s.text(
            "Left out of the atlas: "
            + "; ".join(f"{names.get(k_, k_)}: {v}" for k_, v in skipped.items())
            + "."
        )
    return {
        "paintings": kept,
        "names": [names[i] for i in kept],
        "k": int(k),
        "clusters": {i: int(labels[j]) for j, i in enumerate(kept)},
        "coords": {i: [float(coords[j, 0]), float(coords[j, 1])] for j, i in enumerate(kept)},
        "explained_variance_ratio": explained,
        "skipped": skipped,
    }


def _consensus(
    report: Report,
    root: Path,
    folder: BatchFolder,
    ids: Sequence[str],
    names: Mapping[str, str],
    layers: Sequence[str],
) -> dict[str, Any]:
    save = _FigureSaver(root)
    carriers = {i: {layer: _carriers(folder.results[i]["numbers"], layer) for layer in layers} for i in ids}
    carriers = {i: v for i, v in carriers.items() if any(v.values())}
    s = report.section(
        "Consensus carrier channels",
        "Which channels carry the style in many paintings, and which in one painting alone, by the "
        f"top-{TOP_CARRIERS} carrier channels each painting's result lists per layer.",
    )
    if len(carriers) < 2:
        s.text(f"This needs the carriers of at least two paintings; {len(carriers)} had them.")
        return {"n_paintings": len(carriers)}
    result = consensus_carriers(carriers, layers=layers)
    n, threshold = result["n_paintings"], result["threshold"]
    used = [layer for layer in layers if result["layers"][layer]["counts"]]
    fig = consensus_bars(
        {layer: result["layers"][layer]["counts"] for layer in used}, n=n, threshold=threshold
    )
    s.figure(save(fig, "consensus_carriers", "collection.consensus", n=n, threshold=threshold))
    rows = []
    for layer in used:
        part = result["layers"][layer]
        for entry in part["shared"]:
            rows.append(
                (
                    layer,
                    entry["channel"],
                    entry["count"],
                    f"shared ({entry['count']} of {n})",
                    ", ".join(names[p] for p in entry["paintings"]),
                    entry["mean_share"],
                )
            )
        for entry in part["unique"]:
            rows.append(
                (
                    layer,
                    entry["channel"],
                    1,
                    f"unique to {names[entry['painting']]}",
                    names[entry["painting"]],
                    entry["mean_share"],
                )
            )
    s.table(
        Table(
            columns=("layer", "channel", "paintings", "kind", "which paintings", "mean share"),
            rows=tuple(rows),
            sortable=True,
            **text("collection.table_consensus", n=n, threshold=threshold),
        )
    )
    result["names"] = {i: names[i] for i in carriers}
    return result

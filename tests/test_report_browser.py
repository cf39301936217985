"""Open a `xstyle report demo --fast` page in headless Chromium: every image loads, the page is not blank.

`.ci/run` installs Chromium (Debian package `chromium`) when it is missing; elsewhere the test is
skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xstyle.cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str | None:
    explicit = os.environ.get("XSTYLE_CHROMIUM")
    if explicit:
        return explicit
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


BROWSER = _browser()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        BROWSER is None,
        reason="no Chromium binary (chromium, chromium-browser or google-chrome) on PATH; "
        "install the Debian package `chromium` (.ci/run does) or set XSTYLE_CHROMIUM",
    ),
]

# Injected into a copy of the page: records, once everything has loaded, how many images there are
# and which did not decode, so that --dump-dom shows it.
PROBE = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter((i) => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0));
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-broken", broken.map((i) => i.getAttribute("src")).join(" "));
  document.body.setAttribute("data-text", String(document.body.innerText.trim().length));
  document.body.setAttribute("data-probe", "done");
});
</script>
"""


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--no-first-run",
        "--allow-file-access-from-files",
        f"--user-data-dir={cwd / 'chromium-profile'}",
    ]
    return subprocess.run(
        [BROWSER, *flags, *args], cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.train import GANConfig, GANTrainer

    root = tmp_path_factory.mktemp("browser")
    digits = load_digits("heldout")
    trainer = GANTrainer(
        DigitData(digits.images[:8], digits.labels[:8], "tiny"), config=GANConfig(epochs=0, seed=0)
    )
    ckpt = trainer.save_checkpoint(root / "gan.pt")
    out = root / "demo"
    code = main(["-q", "report", "demo", "--fast", "--checkpoint", str(ckpt), "--out", str(out)])
    assert code == 0
    return out


def test_every_image_loads_in_chromium(demo_report, tmp_path):
    html = (demo_report / "index.html").read_text()
    n_images = len(re.findall(r"<img ", html))
    assert n_images >= 30  # both parts of the demo
    probe_page = demo_report / "_browser_check.html"
    probe_page.write_text(html.replace("</body>", PROBE + "</body>"))
    try:
        done = _chromium("--virtual-time-budget=20000", "--dump-dom", probe_page.as_uri(), cwd=tmp_path)
    finally:
        probe_page.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", done.stdout)
    assert body is not None, done.stdout[:2000]
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', body.group(1)))
    assert attrs.get("data-probe") == "done", attrs
    assert int(attrs["data-images"]) == n_images
    assert attrs["data-broken"] == "", f"images that did not load: {attrs['data-broken']}"
    assert int(attrs["data-text"]) > 2000


def test_screenshot_is_not_blank(demo_report, tmp_path):
    import numpy as np
    from PIL import Image

    shot = tmp_path / "shot.png"
    done = _chromium(
        "--window-size=1200,3000", f"--screenshot={shot}", (demo_report / "index.html").as_uri(), cwd=tmp_path
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (3000, 1200)
    assert pixels.std() > 20  # text and figures, not one flat colour
    assert (pixels < 128).mean() > 0.02  # some dark ink (text, digits, plot lines)
    assert (pixels > 200).mean() > 0.3  # mostly the white page

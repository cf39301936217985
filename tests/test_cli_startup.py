"""The CLI answers --help, --version and usage errors without importing torch (so it answers fast)."""

import subprocess
import sys

import xstyle

CHECK = """
import sys
import xstyle.cli

parser = xstyle.cli.build_parser()
for argv in ([], ["transfer", "--help"], ["explain", "attribution", "--help"], ["report", "style", "--help"]):
    try:
        parser.parse_args(argv or ["--help"])
    except SystemExit:
        pass
assert xstyle.cli.main(["transfer", "a.png", "b.png", "-o", "o.png", "--size", "abc"]) == 2
heavy = sorted(m for m in ("torch", "torchvision", "matplotlib", "numpy") if m in sys.modules)
print("HEAVY", heavy)
"""


def test_parser_help_and_usage_errors_do_not_import_torch():
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout


def test_version_answers_without_torch():
    code = (
        "import sys\nfrom xstyle.cli import main\nrc = main(['--version'])\nprint(rc, 'torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [f"xstyle {xstyle.__version__}", "0 False"]


def test_the_package_root_is_lazy_but_complete():
    code = (
        "import sys, xstyle\nassert 'torch' not in sys.modules\n"
        "from xstyle import style_transfer, TransferConfig\nassert 'torch' in sys.modules\n"
        "assert all(hasattr(xstyle, n) for n in xstyle.__all__)\nprint(TransferConfig().size)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "512"

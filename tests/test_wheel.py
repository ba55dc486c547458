"""What `pip install .` puts on a host: the product only. The test bed, the demo, the tests, the benchmarks
and the fixtures live in the checkout (issue 13.5)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from .service_support import ROOT


def _checkout_copy(dest):
    """The tracked files, as `git clone` gives them (a build in the checkout itself would leave build/ there)."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True,
                           timeout=60).stdout.decode().split("\0")
    for n in names:
        if n and (ROOT / n).is_file():
            (dest / n).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / n, dest / n)


def test_the_wheel_holds_the_product_and_nothing_of_the_checkout(tmp_path):
    src, out = tmp_path / "src", tmp_path / "wheel"
    _checkout_copy(src)
    assert (src / "testbed" / "v2shim.py").is_file() and (src / "tests").is_dir()  # there to be left out
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        str(src), "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("ollama_ingest-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"ollama_ingest", next(t for t in tops if t.endswith(".dist-info"))}, tops
    assert "ollama_ingest/cli.py" in names and "ollama_ingest/sources/export.py" in names
    assert not [n for n in names if any(w in n for w in ("testbed", "demo", "test_", "fixtures", "bench"))]
    entry = zipfile.ZipFile(whl).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "ollama-ingest = ollama_ingest.cli:main" in entry

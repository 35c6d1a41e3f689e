import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def registry():
    from linter.engine.checks import load_registry

    return load_registry(validate_builtin=True)


@pytest.fixture
def scan_files(tmp_path, registry):
    """scan_files({"Dockerfile": "...", "k8s/pod.yaml": "..."}, select=[...]) -> ScanResult"""
    from linter.scan import ScanOptions, scan, select_checks

    def run(files: dict, select=None, ignore=None, paths=None):
        for name, content in files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content)
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            checks = select_checks(registry, select, ignore)
            return scan(ScanOptions(paths=paths or ["."], checks=checks))
        finally:
            os.chdir(cwd)

    return run

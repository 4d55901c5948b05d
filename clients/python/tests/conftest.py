"""A real `larder serve` for the client's tests: the fraud demo's repo (data, applied,
materialized, `larder train` run) in a temp folder, its views reading a push source over
the transactions file, served with tokens on a free loopback port."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUN = os.environ.get("LARDER_BUN") or str(ROOT / "node_modules" / ".bin" / "bun")
MAIN = str(ROOT / "src" / "main.ts")


@pytest.fixture(scope="session")
def repo() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="larder-client-") as d:
        features = Path(d) / "features"
        shutil.copytree(ROOT / "features", features)
        sources = features / "sources.ts"
        sources.write_text(
            sources.read_text().replace("fileSource,", "fileSource, pushSource,", 1)
            + '\nexport const transactionsPush = pushSource({ name: "transactions_push", batchSource: transactions, eventIdField: "transaction_id" });\n'
        )
        fraud = features / "fraud.ts"
        fraud.write_text(
            fraud.read_text()
            .replace('import { transactions } from "./sources.ts";', 'import { transactionsPush } from "./sources.ts";')
            .replace("source: transactions,", "source: transactionsPush,")
        )
        env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
        subprocess.run([BUN, MAIN, "demo", "--no-serve", "--users", "600", "--repo", d], check=True, capture_output=True, env=env)
        yield Path(d)


@pytest.fixture(scope="session")
def server(repo: Path) -> Iterator[str]:
    env = {**os.environ, "LARDER_PORT": "0", "LARDER_SCHEDULES": "off", "LARDER_TOKENS": "read=client-read-token,write=client-write-token,admin=client-admin-token"}
    proc = subprocess.Popen([BUN, MAIN, "serve", "--repo", str(repo)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"serving on (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        proc.kill()
        raise RuntimeError("larder serve did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=30)

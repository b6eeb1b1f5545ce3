"""The example notebooks: committed without outputs, and each one runs from top to bottom, offline.

Every ``notebooks/*.ipynb`` is executed with nbclient in a ``python3`` kernel of
this interpreter, with the notebook's folder as working directory, as
``pytest --nbmake notebooks/`` also does. Before the notebook's own cells, a
guard cell refuses every socket connection that is not to the local machine.
Executing a notebook must not touch the network, and the maps must inline
their scripts (``explore(offline=True)``) and draw no tiles.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_S = 300  # per cell

# Runs first in the kernel: checks it is this interpreter, then allows only local connections.
# The kernel's own messages go through ZeroMQ, which does not use Python's socket module.
GUARD = f"""
import ipaddress as _ipaddress, socket as _socket, sys as _sys
assert _sys.prefix == {sys.prefix!r}, f"kernel runs {{_sys.executable}}, not the tests' interpreter"

def _local(host):
    try:
        return _ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) == "localhost"

def _offline(address, _local=_local):
    if isinstance(address, tuple) and not _local(address[0]):
        raise OSError(f"notebook tests run offline: no connection to {{address!r}}")

def _connect(self, address, _connect=_socket.socket.connect, _check=_offline):
    _check(address)
    return _connect(self, address)

def _connect_ex(self, address, _connect_ex=_socket.socket.connect_ex, _check=_offline):
    _check(address)
    return _connect_ex(self, address)

def _getaddrinfo(host, *args, _getaddrinfo=_socket.getaddrinfo, _check=_offline, **kwargs):
    if host is not None:
        _check((host, 0))
    return _getaddrinfo(host, *args, **kwargs)

_socket.socket.connect, _socket.socket.connect_ex = _connect, _connect_ex
_socket.getaddrinfo = _getaddrinfo
try:
    _socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never reachable
except OSError as error:
    assert "run offline" in str(error), error
del _ipaddress, _socket, _sys, _local, _offline, _connect, _connect_ex, _getaddrinfo
"""

# A script or stylesheet fetched from the network when the output is displayed
# (folium puts the map page in an iframe's srcdoc, so quotes arrive as &quot;).
REMOTE_ASSET = re.compile(r"""(?:src|href)\s*=\s*(?:&quot;|["'])\s*(?:https?:)?//""", re.IGNORECASE)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    """Outputs make diffs unreadable (the maps alone are megabytes) and can leak data: clear them
    before committing, as notebooks/README.md shows."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = []
    for i, cell in enumerate(notebook["cells"]):
        left = [
            name for name, present in (
                ("outputs", bool(cell.get("outputs"))),
                ("execution_count", cell.get("execution_count") is not None),
                ("execution timestamps", "execution" in cell.get("metadata", {})),
            ) if present
        ]  # fmt: skip
        if left:
            dirty.append(f"cell {i}: {', '.join(left)}")
    assert not dirty, f"{path.name} was committed with outputs: {'; '.join(dirty)}"
    assert notebook["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_offline(path: Path) -> None:
    extra = "install the test extra: pip install -e '.[test]'"
    nbformat = pytest.importorskip("nbformat", reason=extra)
    nbclient = pytest.importorskip("nbclient", reason=extra)
    pytest.importorskip("ipykernel", reason=extra)

    run = nbformat.read(path, as_version=4)
    run.cells.insert(0, nbformat.v4.new_code_cell(GUARD, id="offline-guard"))
    client = nbclient.NotebookClient(
        run,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # working directory, as under nbmake
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s")

    remote = [
        f"cell {i - 1}: {match.group(0)}"
        for i, cell in enumerate(run.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        for match in [REMOTE_ASSET.search(str(output.get("data", {}).get("text/html", "")))]
        if match
    ]
    assert not remote, f"{path.name} displays output that loads assets from the network: {remote}"

"""Shared helpers of the tests that compile and run the examples/*.grc flowgraphs.

grcc must find the project's installed block YAML (``bash scripts/setup.sh``
installs them under the venv's ``share/gnuradio/grc/blocks``), and generated
Qt flowgraphs must not need a display.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"


def grc_env():
    """Environment in which grcc finds the installed uoisc YAML and Qt runs headless."""
    env = dict(os.environ)
    installed = pathlib.Path(sys.prefix) / "share" / "gnuradio" / "grc" / "blocks"
    paths = [p for p in env.get("GRC_BLOCKS_PATH", "").split(os.pathsep) if p]
    if str(installed) not in paths:
        paths.insert(0, str(installed))
    env["GRC_BLOCKS_PATH"] = os.pathsep.join(paths)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run_grcc(grcs, out_dir):
    """Run grcc once on some ``.grc`` files; returns (exit status, its output)."""
    grcc = shutil.which("grcc")
    assert grcc, "grcc not found (Debian's gnuradio package)"
    proc = subprocess.run([grcc, *map(str, grcs), "-o", str(out_dir)], capture_output=True,
                          text=True, env=grc_env(), timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def compile_example(grc, out_dir):
    """Run grcc on one example; returns (generated .py path, grcc output).

    Args:
        grc: path of the ``.grc`` file.
        out_dir: folder (pathlib.Path) that receives the generated script.
    """
    status, output = run_grcc([grc], out_dir)
    assert status == 0, output
    return out_dir / f"{pathlib.Path(grc).stem}.py", output


def compile_examples(grcs, out_dir):
    """Compile several examples, with one grcc start when they all compile (loading the
    block library takes seconds); grcc stops at the first failure, so then each one
    is compiled alone to tell which fail.

    Returns:
        {stem: (generated .py path, grcc output)} for those that compiled and
        {stem: grcc output (str)} for those that did not.
    """
    status, output = run_grcc(grcs, out_dir)
    if status == 0:
        return {pathlib.Path(g).stem: (out_dir / f"{pathlib.Path(g).stem}.py", output) for g in grcs}
    results = {}
    for grc in grcs:
        status, output = run_grcc([grc], out_dir)
        stem = pathlib.Path(grc).stem
        results[stem] = (out_dir / f"{stem}.py", output) if status == 0 else output
    return results


def yaml_load_errors(grcc_output):
    """Lines of grcc's output saying that a uoisc block definition failed to load."""
    return [line for line in grcc_output.splitlines()
            if "Error while loading" in line and "uoisc" in line]


def free_tcp_address():
    """A ``tcp://127.0.0.1:<port>`` address on a port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"

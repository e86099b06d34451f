"""examples/vlf_loopback.grc compiles with grcc and, run headless at 20 dB AWGN, delivers the
captions and generated images that the codec runtime gives without any channel.

The script runs from the repository root (its default model path is relative to it). An image
whose LDPC codewords all passed their CRC carries exactly the transmitted bits, so its caption
and generated image must equal ``VlfCodec.decode(VlfCodec.encode(original))`` with the
generator seed of the flowgraph (``-S`` seed + seq).
"""

import json
import py_compile
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from grc_helpers import EXAMPLES_DIR, ROOT, compile_example, grc_env, yaml_load_errors
from gnuradio.uoisc.io.source_items import open_source
from uoisc_runtime import VlfCodec

MODEL = "models/uoisc-tiny-vlf"
N_IMAGES = 3
SEED = 4
STEPS = 5


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(generated script, grcc output) of the example."""
    return compile_example(EXAMPLES_DIR / "vlf_loopback.grc", tmp_path_factory.mktemp("generated"))


def test_example_compiles(generated):
    """grcc turns the example into Python that byte-compiles, and no uoisc block definition
    fails to load on the way."""
    path, output = generated
    py_compile.compile(str(path), doraise=True)
    assert not yaml_load_errors(output), output


def test_headless_run_at_20db_awgn_gives_the_clean_captions_and_images(tmp_path, generated):
    """At 20 dB AWGN (-f awgn -e 20; every codeword of a 40-byte frame decodes at this SNR) the
    flowgraph stops by itself with all images received and matched, prints one caption line per
    image from the decoder's text port, and every image record (meta caption and PNG) equals
    the runtime's clean decode of the scene with that seq, regenerated here from the same
    generator arguments."""
    out_dir = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(generated[0]), "-m", MODEL, "-f", "awgn", "-e", "20",
                           "-n", str(N_IMAGES), "-r", "5", "-S", str(SEED), "-k", str(STEPS),
                           "-o", str(out_dir), "-t", "60"],
                          capture_output=True, text=True, env=grc_env(), timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"vlf_loopback: (\d+) images received, (\d+) matched, (\d+) lost", proc.stdout)
    assert match, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert tuple(map(int, match.groups())) == (N_IMAGES, N_IMAGES, 0)
    printed = dict(re.findall(r"caption seq (\d+) \(ok\): (.*)", proc.stdout))

    codec = VlfCodec.from_path(ROOT / MODEL, providers=["CPUExecutionProvider"])
    sent = list(open_source("generator", split="test_zeroshot", n_images=N_IMAGES, seed=SEED, image_size=64))
    lines = (out_dir / "images.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert sorted(r["seq"] for r in records) == list(range(N_IMAGES))
    for record in records:
        assert record["meta"]["ldpc_ok"], record["meta"]
        seq = record["seq"]
        expected = codec.decode(codec.encode(sent[seq].image), seed=SEED + seq, steps=STEPS, guidance=3.0)
        assert record["meta"]["caption"] == printed[str(seq)] == expected.caption
        with Image.open(out_dir / record["rx_png"]) as png:
            np.testing.assert_array_equal(np.asarray(png.convert("RGB")), expected.image)

"""The examples/uoisc_*.grc flowgraphs compile with grcc; the loopback and the ZMQ
pair carry images that equal the codec's clean-channel decode; the Qt view runs
headless for a few seconds.

The generated scripts run from the repository root, because their default model
path (``models/uoisc-tiny-uoisc``) is relative to it. An image whose every LDPC
codeword passed its CRC carries exactly the transmitted bits, so its
reconstruction must equal, pixel for pixel, what ``SemanticCodec`` decodes from
the same image without any channel.
"""

import json
import py_compile
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from grc_helpers import EXAMPLES_DIR, ROOT, compile_examples, free_tcp_address, grc_env, yaml_load_errors
from gnuradio.uoisc.io.source_items import open_source
from uoisc_runtime.codec import SemanticCodec

EXAMPLES = sorted(EXAMPLES_DIR.glob("uoisc_*.grc"))
EXPECTED = {"uoisc_loopback", "uoisc_zmq_tx", "uoisc_zmq_rx", "uoisc_usrp_tx", "uoisc_usrp_rx",
            "uoisc_loopback_qt"}
MODEL = "models/uoisc-tiny-uoisc"
N_IMAGES = 3
# Flat Rayleigh block fading at 20 dB average Es/N0: a rate-1/2 8-PSK burst needs
# roughly 4 dB, so a burst is lost with P(|h|^2 < 10^-1.6) = 2.5 %; the tests ask
# for at least one intact image out of N_IMAGES.
ESNO_DB = "20"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Every uoisc example compiled once: {stem: (generated script, grcc output)};
    an example that fails to compile maps to grcc's output (str)."""
    return compile_examples(EXAMPLES, tmp_path_factory.mktemp("generated"))


def script(generated, stem):
    """The generated script of one example; fails the test when it did not compile."""
    result = generated[stem]
    assert not isinstance(result, str), result
    return result[0]


@pytest.fixture(scope="module")
def codec():
    """The shipped UO-ISC bundle, loaded once."""
    return SemanticCodec.from_path(ROOT / MODEL)


def clean_decode(codec, image, query):
    """What the receiver shows when every bit arrives: decode(encode(image, query))."""
    return codec.decode(codec.encode(image, query)).image


def psnr_db(reference, reconstruction):
    """PSNR of two uint8 images, 10 log10(255^2 / MSE) (written here, not the sink's)."""
    error = np.mean((reference.astype(np.float64) - reconstruction.astype(np.float64)) ** 2)
    return 10.0 * np.log10(255.0 ** 2 / error)


def read_png(path):
    """H×W×3 uint8 pixels of a PNG written by image_sink."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def read_records(out_dir):
    """The JSON lines of an image_sink output folder."""
    lines = (out_dir / "images.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def intact_receptions(records):
    """The "received" records whose every LDPC codeword passed its CRC."""
    return [r for r in records if r["event"] == "received" and r["meta"].get("ldpc_ok")]


def run_script(script, args, timeout):
    """Run a generated flowgraph from the repository root; returns the finished process."""
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=grc_env(), timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_all_examples_are_present():
    """The flowgraphs of issue 5 (and the optional Qt view) exist."""
    assert EXPECTED <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("stem", [p.stem for p in EXAMPLES])
def test_example_compiles(stem, generated):
    """grcc turns the example into Python that byte-compiles, and no uoisc block
    definition fails to load on the way."""
    path = script(generated, stem)
    output = generated[stem][1]
    assert path.is_file(), output
    py_compile.compile(str(path), doraise=True)
    bad_yaml = yaml_load_errors(output)
    assert not bad_yaml, "\n".join(bad_yaml)


def test_loopback_delivers_images_equal_to_the_clean_decode(tmp_path, generated, codec):
    """uoisc_loopback at 20 dB (flat Rayleigh) stops by itself once the images have
    arrived, reports at least one image received and matched with its original, every
    image sent is either received or reported lost, and every intact reception equals
    the clean-channel decode of its original, with the same PSNR in images.jsonl."""
    out_dir = tmp_path / "out"
    proc = run_script(script(generated, "uoisc_loopback"), ["-m", MODEL, "-e", ESNO_DB, "-n", str(N_IMAGES), "-r", "5",
                                  "-o", str(out_dir), "-t", "30"], timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"uoisc_loopback: (\d+) images received, (\d+) matched, (\d+) lost",
                      proc.stdout)
    assert match, proc.stdout[-2000:] + proc.stderr[-2000:]
    received, matched, lost = map(int, match.groups())
    assert received >= 1 and matched >= 1
    assert matched + lost == N_IMAGES

    intact = intact_receptions(read_records(out_dir))
    assert intact, "no image arrived with every codeword CRC passing"
    for record in intact:
        original = read_png(out_dir / record["tx_png"])
        expected = clean_decode(codec, original, record["query"])
        np.testing.assert_array_equal(read_png(out_dir / record["rx_png"]), expected,
                                      err_msg=f"image seq {record['seq']}")
        assert record["psnr_db"] == pytest.approx(psnr_db(original, expected), rel=1e-9)


def test_zmq_pair_delivers_images_equal_to_the_clean_decode(tmp_path, generated, codec):
    """uoisc_zmq_tx and uoisc_zmq_rx (20 dB AWGN), started as two processes on a free port, carry
    generated scenes: the receiver reports at least one image, and every image it
    received intact equals the clean-channel decode of the scene with that seq
    (regenerated here from the same generator arguments)."""
    address = free_tcp_address()
    rx_py, tx_py = script(generated, "uoisc_zmq_rx"), script(generated, "uoisc_zmq_tx")
    out_dir = tmp_path / "out"
    rx = subprocess.Popen([sys.executable, str(rx_py), "-a", address, "-m", MODEL, "-e", ESNO_DB,
                           "-f", "awgn", "-o", str(out_dir), "-n", str(N_IMAGES), "-t", "30"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=grc_env(), cwd=ROOT, stdin=subprocess.DEVNULL)
    tx = run_script(tx_py, ["-a", address, "-m", MODEL, "-n", str(N_IMAGES), "-r", "5",
                            "-S", "0", "-t", "3"], timeout=60)
    rx_out, rx_err = rx.communicate(timeout=60)
    assert tx.returncode == 0, tx.stderr[-2000:]
    assert rx.returncode == 0, rx_err[-2000:]
    assert f"uoisc_zmq_tx: {N_IMAGES} images sent" in tx.stdout, tx.stdout[-2000:]
    match = re.search(r"uoisc_zmq_rx: (\d+) images received", rx_out)
    assert match, rx_out[-2000:] + rx_err[-2000:]
    assert int(match.group(1)) >= 1

    sent = list(open_source("generator", split="test_zeroshot", n_images=N_IMAGES, seed=0,
                            image_size=64))
    intact = intact_receptions(read_records(out_dir))
    assert intact, "no image arrived with every codeword CRC passing"
    for record in intact:
        item = sent[record["seq"]]
        np.testing.assert_array_equal(read_png(out_dir / record["rx_png"]),
                                      clean_decode(codec, item.image, item.query),
                                      err_msg=f"image seq {record['seq']}")


def test_qt_view_runs_offscreen_and_closes_itself(tmp_path, generated):
    """uoisc_loopback_qt, run headless (QT_QPA_PLATFORM=offscreen) with -t 4, builds its
    widgets (constellation sink, Es/N0 slider, side-by-side image view), closes its
    window by itself and prints its summary with at least one image received."""
    proc = run_script(script(generated, "uoisc_loopback_qt"), ["-m", MODEL, "-e", ESNO_DB, "-n", "2", "-r", "5",
                                  "-o", str(tmp_path / "out"), "-t", "4"], timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"uoisc_loopback_qt: (\d+) images received", proc.stdout)
    assert match, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert int(match.group(1)) >= 1


def test_qt_image_view_shows_the_newest_complete_record(tmp_path, generated, monkeypatch):
    """The Qt view's embedded module (written by grcc next to the script) shows the
    newest "received" record of images.jsonl, ignores a line still being written,
    and picks that line up once it is complete."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.syspath_prepend(str(script(generated, "uoisc_loopback_qt").parent))
    from PyQt5 import Qt
    import uoisc_loopback_qt_image_view as image_view

    # Widgets need a QApplication; keep it referenced until the test ends.
    view_app = Qt.QApplication.instance() or Qt.QApplication([])
    pixels = np.zeros((8, 8, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "rx.png")

    def record(seq, query):
        return json.dumps({"event": "received", "seq": seq, "query": query, "psnr_db": 20.0,
                           "rx_png": "rx.png", "tx_png": None,
                           "meta": {"cw_crc_ok": [1, 0], "snr_est_db": 9.0}})

    records = tmp_path / "images.jsonl"
    records.write_text(record(0, "first?") + "\n" + record(1, "second?") + "\n"
                       + record(2, "third?")[:20])
    view = image_view.SideBySideView(tmp_path)
    view.refresh()
    assert "seq 1" in view.caption.text() and "second?" in view.caption.text()
    assert "1/2" in view.caption.text()
    assert not view.reconstruction.pixmap().isNull()
    with open(records, "a", encoding="utf-8") as out:
        out.write(record(2, "third?")[20:] + "\n")
    view.refresh()
    assert "seq 2" in view.caption.text() and "third?" in view.caption.text()
    view_app.processEvents()

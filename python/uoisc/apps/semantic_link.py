#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The semantic link: images and queries through the codec and the PHY in one flowgraph.

One flowgraph, shared by the ``uoisc`` CLI (``demo``, ``send``), the
end-to-end and soak tests and the latency benchmark::

    driver ─"next"─► image_source ─► encoder ─► phy_tx ─► channel ─► phy_rx ─► decoder ─► image_sink
                          │                                                                 ▲
                          └──────────────────────────── "reference" ───────────────────────┘

The encoder/decoder pair follows the codec system of ``model``
(:func:`codec_system`): ``semantic_encoder``/``semantic_decoder`` on a UO-ISC
bundle, ``vlf_encoder``/``vlf_decoder`` on a VLF bundle (``"mode": "vlf"`` in
its codec.json: the sink gets the generated image, whose meta holds the
caption), or ``jpeg2000_encoder``/``jpeg2000_decoder`` (``model="jpeg2000"``)
so the baseline rides the same PHY. Message-driven flowgraphs never finish by
themselves: :func:`run_semantic_link` asks the source for one image at a time
through its "next" port, keeping at most ``window`` images in flight, and
stops when every image reached the sink or nothing arrived for ``settle_s``.
The sink then reports the images that never arrived as lost, so every image
is accounted for.
"""

import dataclasses
import json
import logging
import os
import time

import pmt
from gnuradio import gr

from gnuradio.uoisc.codec import (jpeg2000_decoder, jpeg2000_encoder, semantic_decoder, semantic_encoder,
                                  vlf_decoder, vlf_encoder)
from gnuradio.uoisc.io import image_sink, image_source
from gnuradio.uoisc.phy import burst, codes, framing, link_sim, mapping, pilots
from gnuradio.uoisc.phy.channel import channel
from gnuradio.uoisc.phy.phy_rx import phy_rx
from gnuradio.uoisc.phy.phy_tx import phy_tx

logger = logging.getLogger(__name__)

#: The shipped default bundle, relative to the repository root.
DEFAULT_MODEL = "models/uoisc-tiny-uoisc"
#: The shipped VLF-MSC bundle, relative to the repository root.
DEFAULT_VLF_MODEL = "models/uoisc-tiny-vlf"
#: ``model`` value that selects the JPEG2000 baseline pair.
JPEG2000 = "jpeg2000"
#: Codec systems of a bundle's codec.json ``mode`` (absent = "uoisc").
UOISC, VLF = "uoisc", "vlf"
RECORDS_FILE = "images.jsonl"


@dataclasses.dataclass
class SemanticLinkConfig:
    """One run of the semantic link.

    Attributes:
        model: bundle folder (UO-ISC or VLF), or ``"jpeg2000"`` for the baseline pair.
        out_dir: where the sink writes PNGs and ``images.jsonl``.
        source: ``"generator"`` (the offline world), an image file or a folder.
        queries: a sidecar file, or one query for every image ("" = the generator's own).
        split: world split of the generator.
        n_images: images to send.
        seed: seed of the generator and of the channel.
        image_size: generator image side (the bundle's size when a bundle is used).
        esno_db: Es/N0 of the channel in dB.
        fading: "awgn" or "rayleigh" (flat, one fade per burst).
        doppler: normalised Doppler (0 = block fading per burst).
        code: LDPC code of the PHY.
        jpeg2000_bytes: byte budget of the JPEG2000 encoder (0 = the codestream
            size that fits the channel symbols of ``reference_model``'s payload).
        reference_model: bundle whose payload sets the JPEG2000 budget.
        providers: onnxruntime providers ("auto" = CUDA when present, else CPU).
        intra_op_threads: onnxruntime threads per session (0 = onnxruntime's default, one
            per core). 1 by default: the codec sessions share the cores with the PHY's
            threads, and more threads per session made a VLF decode ~3x slower on 2 busy cores.
        window: images in flight at once.
        settle_s: give up waiting for the rest after this long without an arrival.
        timeout_s: hard limit of the whole run.
        write_png: write PNGs (the soak test turns them off).
        steps: DDIM steps of the VLF image generator.
        guidance: classifier-free guidance of the VLF image generator.
    """

    model: str = DEFAULT_MODEL
    out_dir: str = "out/link"
    source: str = "generator"
    queries: str = ""
    split: str = "test_zeroshot"
    n_images: int = 4
    seed: int = 0
    image_size: int = 64
    esno_db: float = 5.0
    fading: str = "rayleigh"
    doppler: float = 0.0
    code: str = codes.DEFAULT_CODE
    jpeg2000_bytes: int = 0
    reference_model: str = DEFAULT_MODEL
    providers: str = "auto"
    intra_op_threads: int = 1
    window: int = 4
    settle_s: float = 5.0
    timeout_s: float = 600.0
    write_png: bool = True
    steps: int = 10
    guidance: float = 3.0

    def validate(self):
        """Raise ValueError naming the first bad field."""
        if self.fading not in link_sim.FADINGS:
            raise ValueError(f"fading must be one of {link_sim.FADINGS}, got {self.fading!r}")
        if not 1 <= self.n_images:
            raise ValueError(f"n_images must be >= 1, got {self.n_images!r}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window!r}")
        if self.jpeg2000_bytes < 0:
            raise ValueError(f"jpeg2000_bytes must be >= 0, got {self.jpeg2000_bytes!r}")
        if self.settle_s <= 0 or self.timeout_s <= 0:
            raise ValueError(f"settle_s and timeout_s must be > 0, got {self.settle_s!r}, {self.timeout_s!r}")
        codes.get_code(self.code)
        if self.source != "generator" and not os.path.exists(self.source):
            raise ValueError(f"source {self.source!r} is neither 'generator' nor an existing file or folder")
        if self.model != JPEG2000 and not os.path.isdir(self.model):
            raise ValueError(f"model {self.model!r} is neither a bundle folder nor {JPEG2000!r}")
        codec_system(self.model)  # a folder that is no valid bundle fails here, naming the field
        if self.steps < 1 or self.guidance < 0:
            raise ValueError(f"steps must be >= 1 and guidance >= 0, got {self.steps!r}, {self.guidance!r}")

    @property
    def is_jpeg2000(self):
        return self.model == JPEG2000

    @property
    def system(self):
        """The codec system of ``model``: "jpeg2000", "uoisc" or "vlf"."""
        return codec_system(self.model)


def codec_system(model):
    """"jpeg2000" for the baseline, else the ``mode`` of the bundle's codec.json ("uoisc"
    when absent, or "vlf"); read from codec.json alone (no onnxruntime session).

    Raises:
        ValueError: not a valid bundle folder (``BundleError`` names the problem).
    """
    if model == JPEG2000:
        return JPEG2000
    from uoisc_runtime.bundle import read_spec
    return read_spec(model).get("mode", UOISC)


def bundle_payload_bytes(path):
    """Codec frame bytes per image of a bundle: frame header + packed indices (from its
    codec.json alone; no onnxruntime session is opened)."""
    from uoisc_runtime.bundle import read_spec
    from uoisc_runtime.codec import frame_bytes
    return frame_bytes(read_spec(path))


def jpeg2000_budget(config):
    """Codestream bytes for the JPEG2000 baseline at the reference bundle's channel symbols.

    The PHY sends whole LDPC codewords, so the budget is the largest JPEG2000
    payload that needs no more codewords (hence no more symbols) than the
    reference bundle's codec frame.
    """
    if config.jpeg2000_bytes:
        return config.jpeg2000_bytes
    from uoisc_runtime.frame import HEADER_BYTES
    per_codeword = framing.data_bytes_per_codeword(codes.get_code(config.code).k)
    payload = bundle_payload_bytes(config.reference_model)
    return -(-payload // per_codeword) * per_codeword - HEADER_BYTES


def payload_bytes(config):
    """The most PHY payload bytes one image of this link takes (the JPEG2000 codestream may
    come out shorter than its budget)."""
    if config.is_jpeg2000:
        from uoisc_runtime.frame import HEADER_BYTES
        return jpeg2000_budget(config) + HEADER_BYTES
    return bundle_payload_bytes(config.model)


def burst_symbols(payload_bytes, code_name=codes.DEFAULT_CODE, guard_len=None,
                  pilot_params=pilots.PilotParams(pilots.DEFAULT_INTERVAL, pilots.DEFAULT_LENGTH)):
    """Channel symbols of the burst that carries ``payload_bytes`` (preamble, header, pilots,
    data, guard). The defaults are phy_tx's, which every link of this module uses."""
    code = codes.get_code(code_name)
    guard = mapping.DEFAULT_GUARD if guard_len is None else guard_len
    return burst.burst_len(payload_bytes, code.n, code.k, guard, pilot_params, code.repeat)


class SemanticLoopback(gr.top_block):
    """The flowgraph of the module docstring, built from a :class:`SemanticLinkConfig`."""

    def __init__(self, config):
        gr.top_block.__init__(self, "uoisc_semantic_loopback")
        config.validate()
        self.config = config
        self.driver = link_sim.pdu_injector()  # posts the "next" requests to the source
        self.encoder, self.decoder = codec_pair(config)
        image_size = config.image_size if config.is_jpeg2000 else self.encoder.codec.image_size
        self.source = image_source(source=config.source, queries=config.queries, split=config.split,
                                   n_images=config.n_images, seed=config.seed, image_size=image_size,
                                   rate=0, loop=False)
        self.tx = phy_tx(code=config.code)
        self.channel = channel(esno_db=config.esno_db, fading=config.fading, doppler=config.doppler,
                               seed=config.seed)
        self.rx = phy_rx(code=config.code)
        self.sink = image_sink(config.out_dir, reference=True, write_png=config.write_png)
        self.msg_connect((self.driver, "out"), (self.source, "next"))
        self.msg_connect((self.source, "out"), (self.encoder, "in"))
        self.msg_connect((self.source, "out"), (self.sink, "reference"))
        self.msg_connect((self.encoder, "out"), (self.tx, "in"))
        self.connect(self.tx, self.channel, self.rx)
        self.msg_connect((self.rx, "out"), (self.decoder, "in"))
        # Every decoder's first output port carries the image (the VLF one's second, the caption).
        self.msg_connect((self.decoder, self.decoder.OUT_PORTS[0]), (self.sink, "in"))


def codec_pair(config):
    """(encoder, decoder) blocks of the link's codec system."""
    onnx = dict(providers=config.providers, intra_op_threads=config.intra_op_threads)
    system = config.system
    if system == JPEG2000:
        return jpeg2000_encoder(max_bytes=jpeg2000_budget(config)), jpeg2000_decoder(fallback_size=config.image_size)
    if system == VLF:
        return (vlf_encoder(config.model, **onnx),
                vlf_decoder(config.model, steps=config.steps, guidance=config.guidance, seed=config.seed, **onnx))
    return semantic_encoder(config.model, **onnx), semantic_decoder(config.model, **onnx)


def _drive(fg, config):
    """Ask for the images one by one, at most ``window`` in flight; returns (sent, elapsed_s).

    An image that never reaches the sink (its burst was not detected) would hold
    a window slot forever, so after ``settle_s`` without an arrival the images in
    flight are written off and the next ones go out.
    """
    start = last_arrival = time.monotonic()
    requested, written_off, seen = 0, 0, 0
    while True:
        now = time.monotonic()
        received = fg.sink.n_received
        if received != seen:
            seen, last_arrival = received, now
        in_flight = requested - received - written_off
        if requested == config.n_images and in_flight <= 0:
            break
        if now - start > config.timeout_s:
            logger.warning("semantic link: timeout after %.0f s", now - start)
            break
        if now - last_arrival > config.settle_s and in_flight > 0:
            if requested == config.n_images:
                break
            written_off += in_flight
            last_arrival = now
            continue
        if requested < config.n_images and in_flight < config.window:
            fg.driver.send(pmt.PMT_T)
            requested += 1
            continue
        time.sleep(0.005)
    return requested, max(last_arrival - start, 1e-6)


def read_records(out_dir):
    """The sink's JSON lines: (records of received images, records of lost ones)."""
    received, lost = [], []
    path = os.path.join(out_dir, RECORDS_FILE)
    if not os.path.exists(path):
        return received, lost
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            (lost if record.get("event") == "lost" else received).append(record)
    return received, lost


def run_semantic_link(config, flowgraph=None):
    """Run ``config.n_images`` images through one flowgraph.

    Args:
        config: a :class:`SemanticLinkConfig`.
        flowgraph: a :class:`SemanticLoopback` built from ``config`` (tests add
            taps to it before the run); None builds one.

    Returns:
        dict: ``config``, ``n_requested``, ``n_emitted`` (the source may run out
        of files), ``n_received``, ``n_lost``, ``elapsed_s`` (first request to
        last arrival), ``images_per_s``, ``records`` (the sink's JSON line per
        received image) and ``lost`` (seq/image id of the others).
    """
    os.makedirs(config.out_dir, exist_ok=True)
    records_path = os.path.join(config.out_dir, RECORDS_FILE)
    if os.path.exists(records_path):
        os.remove(records_path)  # a rerun into the same folder starts a new record
    fg = flowgraph or SemanticLoopback(config)
    fg.start()
    requested, elapsed = _drive(fg, config)
    fg.stop()
    fg.wait()
    received, lost = read_records(config.out_dir)
    return {"config": dataclasses.asdict(config), "n_requested": requested,
            "n_emitted": fg.source.n_emitted, "n_received": len(received), "n_lost": len(lost),
            "elapsed_s": elapsed, "images_per_s": len(received) / elapsed,
            "records": received, "lost": lost}

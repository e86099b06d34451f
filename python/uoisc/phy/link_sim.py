#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Run random PDUs through one PHY flowgraph and collect the link metrics.

One function, :func:`run_link`, is shared by the ``uoisc-phy-sim`` CLI, the
demo and the benchmark::

    PDU injector -> phy_tx -> channel -> phy_rx -> message_debug ("out")
                      |"coded"                  |"llr"
                      v                         v
                 message_debug             message_debug

or, with ``air=True``, the radio path of the USRP examples with the radio
replaced by ``channels.channel_model`` (carrier offset, clock error, AWGN)::

    phy_tx -> air_modulator -> channel_model -> air_demodulator -> phy_rx

Message-driven flowgraphs never finish by themselves, so the run is
``start()`` -> post every PDU -> poll until every frame is accounted for (or
every frame the receiver read was decoded and nothing new came for ``settle_s``,
or ``timeout_s`` passed) -> ``stop()``; ``wait()``. Frames never delivered count
as lost (their burst was not found or its header failed).
"""

import dataclasses
import logging
import time

import numpy as np
import pmt
from gnuradio import blocks, channels, gr

from . import air, codes, framing, metrics, pdu_util, pilot_estimator, pilots, sync
from .channel import channel
from .phy_rx import phy_rx
from .phy_tx import phy_tx

logger = logging.getLogger(__name__)

FADINGS = ("awgn", "rayleigh")
#: Settle periods allowed before the first frame is read (flowgraph start-up on a loaded machine).
STARTUP_SETTLES = 10
THREADINGS = ("capillary", "ordinary", "none")


@dataclasses.dataclass
class LinkConfig:
    """One simulated link point.

    Attributes:
        esno_db: Es/N0 in dB (unit symbol energy, N0 = complex noise variance).
        fading: "awgn" or "rayleigh" (flat, block fading per ``block_len``).
        n_frames: number of random PDUs to send.
        payload_bytes: bytes per PDU.
        code: LDPC code name (see ``codes.list_codes()``).
        doppler: normalised Doppler of the fading channel (0 = block fading).
        seed: seeds the payloads and the channel.
        threading: decoder bank of phy_rx: "capillary", "ordinary" or "none".
        n_decoders: decoder instances in the bank.
        max_iter: LDPC iteration limit.
        pilot_interval, pilot_len: pilot layout of phy_tx and phy_rx (0, 0 = none).
        pilot_doppler: design Doppler of phy_rx's pilot filter (a number or
            "auto"); None picks ``SLIP_DOPPLER`` on the air path (Costas slips)
            and "auto" (estimated per burst) otherwise.
        sync_threshold: phy_rx's preamble detection threshold (normalised
            correlation, 0..1; ``sync.DEFAULT_THRESHOLD``).
        measure_pre_ber: also collect coded bits and LLRs (pre-decoding BER).
        air: go through the RRC air modem and ``channel_model`` (AWGN only).
        frequency_offset: carrier offset of the air channel (cycles/sample).
        epsilon: sampling-clock ratio of the air channel (1 = none).
        timeout_s: hard limit of the run.
        settle_s: stop waiting when nothing new arrived for this long (frames
            already read by the receiver are always waited for).
    """

    esno_db: float = 10.0
    fading: str = "rayleigh"
    n_frames: int = 50
    payload_bytes: int = 256
    code: str = codes.DEFAULT_CODE
    doppler: float = 0.0
    seed: int = 0
    threading: str = "capillary"
    n_decoders: int = 2
    max_iter: int = 50
    pilot_interval: int = pilots.DEFAULT_INTERVAL
    pilot_len: int = pilots.DEFAULT_LENGTH
    pilot_doppler: object = None
    sync_threshold: float = sync.DEFAULT_THRESHOLD
    measure_pre_ber: bool = True
    air: bool = False
    frequency_offset: float = 0.002
    epsilon: float = 1.0001
    timeout_s: float = 120.0
    settle_s: float = 3.0

    def validate(self):
        """Raise ValueError naming the first bad field."""
        if self.fading not in FADINGS:
            raise ValueError(f"fading must be one of {FADINGS}, got {self.fading!r}")
        if self.threading not in THREADINGS:
            raise ValueError(f"threading must be one of {THREADINGS}, got {self.threading!r}")
        if self.n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {self.n_frames!r}")
        if not 1 <= self.payload_bytes <= framing.MAX_PAYLOAD_BYTES:
            raise ValueError(
                f"payload_bytes must be in 1..{framing.MAX_PAYLOAD_BYTES}, got {self.payload_bytes!r}")
        if self.n_frames > 0xFFFF:
            raise ValueError(f"n_frames must fit the 16-bit seq, got {self.n_frames!r}")
        if self.air and self.fading != "awgn":
            raise ValueError("the air path (channel_model) supports fading='awgn' only")
        if self.n_decoders < 1 or self.max_iter < 1:
            raise ValueError(
                f"n_decoders and max_iter must be >= 1, got {self.n_decoders!r}, {self.max_iter!r}")
        codes.get_code(self.code)
        pilots.check_pilot_params(self.pilot_interval, self.pilot_len)
        if self.pilot_doppler is not None:
            pilot_estimator.check_doppler(self.pilot_doppler)
        if not 0 < self.sync_threshold < 1:
            raise ValueError(f"sync_threshold must be in (0, 1), got {self.sync_threshold!r}")

    def receiver_doppler(self):
        """The pilot filter's design Doppler for this link (see ``pilot_doppler``)."""
        if self.pilot_doppler is not None:
            return self.pilot_doppler
        return pilot_estimator.SLIP_DOPPLER if self.air else pilot_estimator.AUTO


def random_payloads(n_frames, payload_bytes, seed):
    """``n_frames`` reproducible random payloads of ``payload_bytes`` bytes."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, payload_bytes, dtype=np.uint8).tobytes() for _ in range(n_frames)]


def make_pdu(payload, seq, payload_type="semantic"):
    """PDU for phy_tx: (dict(seq, payload_type), u8vector)."""
    return pdu_util.make_pdu({"seq": seq, "payload_type": payload_type},
                             np.frombuffer(bytes(payload), dtype=np.uint8))


class pdu_injector(gr.basic_block):
    """Posts PDUs given by the caller on its ``out`` message port."""

    def __init__(self):
        gr.basic_block.__init__(self, name="uoisc_pdu_injector", in_sig=None, out_sig=None)
        self.message_port_register_out(pmt.intern("out"))

    def send(self, pdu):
        self.message_port_pub(pmt.intern("out"), pdu)


class LinkFlowgraph(gr.top_block):
    """The flowgraph of one link point (see the module docstring)."""

    def __init__(self, config):
        gr.top_block.__init__(self, "uoisc_link_sim")
        self.injector = pdu_injector()
        self.tx = phy_tx(code=config.code, pilot_interval=config.pilot_interval, pilot_len=config.pilot_len)
        threading = None if config.threading == "none" else config.threading
        n_decoders = 1 if threading is None else config.n_decoders
        self.rx = phy_rx(code=config.code, threading=threading, n_decoders=n_decoders,
                         max_iter=config.max_iter, emit_llr=config.measure_pre_ber,
                         pilot_interval=config.pilot_interval, pilot_len=config.pilot_len,
                         pilot_doppler=config.receiver_doppler(), threshold=config.sync_threshold)
        self.delivered = blocks.message_debug()
        self.msg_connect((self.injector, "out"), (self.tx, "in"))
        self.msg_connect((self.rx, "out"), (self.delivered, "store"))
        if config.air:
            self.modulator = air.air_modulator()
            self.radio = channels.channel_model(
                noise_voltage=air.noise_voltage_for_esno(config.esno_db, self.modulator.sps,
                                                         self.modulator.amplitude),
                frequency_offset=config.frequency_offset, epsilon=config.epsilon,
                taps=[1.0], noise_seed=config.seed)
            self.demodulator = air.air_demodulator()
            self.connect(self.tx, self.modulator, self.radio, self.demodulator, self.rx)
        else:
            self.channel = channel(esno_db=config.esno_db, fading=config.fading,
                                   doppler=config.doppler, seed=config.seed)
            self.connect(self.tx, self.channel, self.rx)
        if config.measure_pre_ber:
            self.coded = blocks.message_debug()
            self.llr = blocks.message_debug()
            self.msg_connect((self.tx, "coded"), (self.coded, "store"))
            self.msg_connect((self.rx, "llr"), (self.llr, "store"))


def _stored(debug):
    return [debug.get_message(i) for i in range(debug.num_messages())]


def _by_seq(pdus, vector_type):
    """seq -> payload array of PDUs of ``vector_type`` (later duplicates win; PDUs without seq
    are ignored)."""
    table = {}
    for pdu in pdus:
        meta, data = pdu_util.split_pdu(pdu, vector_type)
        if meta.get("seq") is not None:
            table[int(meta["seq"])] = (meta, data)
    return table


def _wait_for_frames(fg, n_frames, timeout_s, settle_s):
    """Poll until n_frames are delivered, the link went quiet, or timeout.

    Quiet means: every frame whose header the receiver read has come out of the
    decoder, and neither count moved for settle_s. Frames still in the LDPC
    decoder are always waited for (failing codewords run all their iterations,
    which on a loaded machine can take longer than settle_s), and before the
    first frame is read the allowance is :data:`STARTUP_SETTLES` x settle_s.

    Returns:
        (number delivered, monotonic time of the last delivery)
    """
    start = last_change = last_delivery = time.monotonic()
    seen = (0, 0)
    while True:
        now = time.monotonic()
        progress = (fg.delivered.num_messages(), fg.rx.sync.receiver.stats["frames"])
        if progress != seen:
            if progress[0] != seen[0]:
                last_delivery = now
            seen, last_change = progress, now
        delivered, read = progress
        allowance = settle_s if read else STARTUP_SETTLES * settle_s
        quiet = delivered >= read and now - last_change > allowance
        if delivered >= n_frames or quiet or now - start > timeout_s:
            return delivered, last_delivery
        time.sleep(0.01)


@dataclasses.dataclass
class LinkRun:
    """What came out of one flowgraph run of :func:`transmit_payloads`.

    Attributes:
        delivered: seq -> (phy_rx meta dict, received payload u8 array).
        coded: seq -> (meta, coded bits u8 array) from phy_tx (empty unless
            ``measure_pre_ber``).
        llr: seq -> (meta, LLR f32 array) from phy_rx (empty unless ``measure_pre_ber``).
        elapsed_s: wall time from posting the first PDU to the last delivery.
        receiver_stats: phy_rx's burst counters (``receiver.BurstReceiver.stats``: headers
            failed, tracked through fast fading, retimed, ...).
    """

    delivered: dict
    coded: dict
    llr: dict
    elapsed_s: float
    receiver_stats: dict = dataclasses.field(default_factory=dict)


def transmit_payloads(config, payloads, payload_type="semantic"):
    """Send ``payloads`` (seq = position) through one :class:`LinkFlowgraph`.

    ``config.n_frames`` and ``config.payload_bytes`` are ignored: the payloads
    say both. Frames that never arrive are absent from ``delivered``.

    Args:
        config: a :class:`LinkConfig` (channel, code, receiver, timeouts).
        payloads: non-empty sequence of bytes-like payloads (as many as the
            16-bit seq counts, see :meth:`LinkConfig.validate`).
        payload_type: PHY header payload type of every PDU.

    Returns:
        a :class:`LinkRun`.
    """
    if len(payloads) == 0:
        raise ValueError("transmit_payloads needs at least one payload")
    config = dataclasses.replace(config, n_frames=len(payloads),
                                 payload_bytes=max(len(p) for p in payloads))
    config.validate()
    fg = LinkFlowgraph(config)
    fg.start()
    start = time.monotonic()
    for seq, payload in enumerate(payloads):
        fg.injector.send(make_pdu(payload, seq, payload_type))
    delivered_count, last_delivery = _wait_for_frames(
        fg, len(payloads), config.timeout_s, config.settle_s)
    fg.stop()
    fg.wait()
    if delivered_count < len(payloads):
        logger.info("%d of %d frames delivered at %.1f dB %s",
                    delivered_count, len(payloads), config.esno_db, config.fading)
    measured = config.measure_pre_ber
    return LinkRun(
        delivered=_by_seq(_stored(fg.delivered), "u8"),
        coded=_by_seq(_stored(fg.coded), "u8") if measured else {},
        llr=_by_seq(_stored(fg.llr), "f32") if measured else {},
        # Up to the last delivery: the settle wait after lost frames is not work.
        elapsed_s=max(last_delivery - start, 1e-6),
        receiver_stats=dict(fg.rx.sync.receiver.stats))


def run_link(config):
    """Send ``config.n_frames`` random PDUs through one flowgraph and measure.

    Args:
        config: a :class:`LinkConfig`.

    Returns:
        dict: the config, ``metrics.LinkStats.summary()`` fields (BER before and
        after decoding, FER, CRC-flag accuracy, SNR-estimate error, info
        throughput over the wall time from posting the first PDU to the last
        delivery).
    """
    config.validate()
    code = codes.get_code(config.code)
    bytes_per_codeword = framing.data_bytes_per_codeword(code.k)
    payloads = random_payloads(config.n_frames, config.payload_bytes, config.seed)
    run = transmit_payloads(config, payloads)
    delivered = run.delivered

    stats = metrics.LinkStats()
    for seq, payload in enumerate(payloads):
        if seq not in delivered:
            stats.add_lost()
            continue
        meta, data = delivered[seq]
        stats.add_delivered(payload, data.tobytes(),
                            np.atleast_1d(meta.get("cw_crc_ok", [])), bytes_per_codeword,
                            meta.get("snr_est_db"))
    for seq, (_, llr) in run.llr.items():
        if seq in run.coded:
            stats.add_coded_frame(run.coded[seq][1], llr)
    result = {"config": dataclasses.asdict(config)}
    result.update(stats.summary(elapsed_s=run.elapsed_s, true_esno_db=config.esno_db))
    result["receiver_stats"] = run.receiver_stats
    result["pilot_doppler_used"] = _doppler_summary([meta.get("pilot_doppler") for meta, _ in delivered.values()])
    return result


def _doppler_summary(designs):
    """Median, min and max of the per-frame design Dopplers of the pilot filter (None without pilots)."""
    designs = np.array([d for d in designs if d is not None], dtype=np.float64)
    if designs.size == 0:
        return None
    return {"median": float(np.median(designs)), "min": float(designs.min()), "max": float(designs.max())}

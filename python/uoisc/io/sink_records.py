#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""image_sink's bookkeeping, free of GNU Radio: references waiting by seq, PSNR,
PNG files and one JSON line per image (format in ``docs/io.md``)."""

import json
import math
import numbers
import pathlib
import re
import threading
from collections import OrderedDict

import numpy as np

from .images import write_png

MAX_PENDING = 4096
#: A waiting reference sent this many references before one whose reconstruction
#: arrived is counted lost: the PHY reorders bursts by at most its decoder-bank depth.
REORDER_WINDOW = 64
SEQ_MODULO = 65536
RECORDS_FILE = "images.jsonl"
UNKNOWN_ID = "unknown"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_ID_CHARS = 80


def mse(reference, reconstruction):
    """Mean squared error of two uint8 images of the same shape, in [0, 255²].

    Raises:
        ValueError: the shapes differ.
    """
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape}, reconstruction {reconstruction.shape}")
    diff = reference.astype(np.float64) - reconstruction.astype(np.float64)
    return float(np.mean(diff * diff))


def psnr_db(reference, reconstruction):
    """PSNR in dB with peak 255; ``math.inf`` for identical images.

    Raises:
        ValueError: the shapes differ.
    """
    return psnr_from_mse(mse(reference, reconstruction))


def psnr_from_mse(error):
    """PSNR in dB (peak 255) of a mean squared error; ``math.inf`` for 0."""
    return math.inf if error == 0 else 10.0 * math.log10(255.0 ** 2 / error)


def json_safe(value):
    """``value`` made JSON-encodable: numpy → Python, complex → [re, im], bytes → hex,
    non-finite floats → None (JSON has no inf/NaN), tuples → lists, dict keys → str."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, bool) or value is None or isinstance(value, (str, numbers.Integral)):
        return value
    if isinstance(value, complex):
        return [json_safe(value.real), json_safe(value.imag)]
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    return str(value)


def safe_name(image_id):
    """``image_id`` as a file-name fragment: runs of anything but letters, digits, _ and - become _."""
    return _UNSAFE.sub("_", str(image_id))[:_MAX_ID_CHARS] or UNKNOWN_ID


def check_seq(meta):
    """The PDU's ``seq`` as an int.

    Raises:
        ValueError: ``seq`` missing or not a non-negative integer.
    """
    seq = meta.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, numbers.Integral) or seq < 0:
        raise ValueError(f"image PDU meta 'seq' must be a non-negative integer, got {seq!r}")
    return int(seq)


class PendingReferences:
    """References waiting for their reconstruction, by seq, oldest first, bounded.

    Args:
        capacity: most references kept; adding one more evicts the oldest (its
            reconstruction is then counted lost: a link that late has lost it).
    """

    def __init__(self, capacity=MAX_PENDING):
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        self._by_seq = OrderedDict()  # seq -> (image, meta, arrival number)
        self._n_added = 0
        self._newest_matched = -1  # arrival number of the newest reference popped

    def add(self, seq, image, meta):
        """Keep a reference; returns ``[(seq, meta, reason)]`` of the ones it pushed out:
        "replaced" (same seq still waiting, i.e. the seq counter wrapped) or "evicted"."""
        dropped = []
        if seq in self._by_seq:
            dropped.append((seq, self._by_seq.pop(seq)[1], "replaced"))
        self._by_seq[seq] = (image, meta, self._n_added)
        self._n_added += 1
        while len(self._by_seq) > self.capacity:
            old_seq, (_, old_meta, _) = self._by_seq.popitem(last=False)
            dropped.append((old_seq, old_meta, "evicted"))
        return dropped

    def pop(self, seq):
        """``(image, meta)`` of the reference with this seq, removed; None when none waits."""
        entry = self._by_seq.pop(seq, None)
        if entry is None:
            return None
        self._newest_matched = max(self._newest_matched, entry[2])
        return entry[0], entry[1]

    def matched_on_arrival(self):
        """Count a reference whose reconstruction was already there (it is never added)
        in the order of references, as the newest matched one."""
        self._newest_matched = self._n_added
        self._n_added += 1

    def overtaken(self, window=REORDER_WINDOW):
        """``[(seq, meta)]`` of the references added more than ``window`` references before
        the newest one popped, removed: their reconstructions were overtaken by far newer
        ones, so the link lost them (this keeps memory bounded by the window, not by
        ``capacity``, on a lossy link)."""
        gone = []
        while self._by_seq:
            seq, (_, meta, number) = next(iter(self._by_seq.items()))
            if number >= self._newest_matched - window:
                break
            del self._by_seq[seq]
            gone.append((seq, meta))
        return gone

    def drain(self):
        """``[(seq, meta)]`` of every waiting reference, oldest first; leaves none."""
        waiting = [(seq, meta) for seq, (_, meta, _) in self._by_seq.items()]
        self._by_seq.clear()
        return waiting

    def seqs(self):
        """The waiting seqs, oldest first."""
        return list(self._by_seq)

    def __len__(self):
        return len(self._by_seq)


class ImageRecorder:
    """Writes what image_sink receives to ``out_dir`` and accounts for every reference.

    Files: ``rx_<seq>_<id>.png`` per reconstruction, ``tx_<seq>_<id>.png`` per reference
    (``seq`` zero-padded to 5 digits, ``id`` from :func:`safe_name`), and
    ``images.jsonl``: one JSON object per line, flushed per line. Thread-safe.

    A reconstruction is written as soon as it is matched. One that arrives before its
    reference (GNU Radio does not order messages across two input ports: with a backlog
    it drains one port's queue before the other) is held until its reference comes, and
    written unmatched once a reference with a later seq has come instead (references
    arrive in seq order), when more than ``capacity`` are held, or at :meth:`finish`.
    A waiting reference is counted lost ("overtaken") once the reconstruction of a
    reference sent more than ``reorder_window`` later has arrived, so on a lossy link
    memory stays bounded by that window rather than by ``capacity``. Only waiting
    references and held reconstructions stay in memory, both bounded.

    Args:
        out_dir: created if missing.
        write_png: write the PNG files (the JSON lines are always written).
        capacity: most references waiting (see :class:`PendingReferences`), and most
            reconstructions held.
        hold_early: hold reconstructions that have no reference yet; False writes them
            unmatched at once (for a sink that is sent no references).
        reorder_window: see above (the PHY reorders bursts by at most a few).
    """

    def __init__(self, out_dir, write_png=True, capacity=MAX_PENDING, hold_early=True,
                 reorder_window=REORDER_WINDOW):
        if isinstance(reorder_window, bool) or not isinstance(reorder_window, numbers.Integral) \
                or reorder_window < 0:
            raise ValueError(f"reorder_window must be a non-negative integer, got {reorder_window!r}")
        self.reorder_window = int(reorder_window)
        self.out_dir = pathlib.Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.write_png = bool(write_png)
        self.hold_early = bool(hold_early)
        self._pending = PendingReferences(capacity)
        self._early = OrderedDict()  # seq -> (meta, image), in arrival order
        self._lock = threading.Lock()
        self._records = None
        self.n_references = 0
        self.n_received = 0
        self.n_matched = 0
        self.n_lost = 0

    @property
    def records_path(self):
        return self.out_dir / RECORDS_FILE

    def add_reference(self, meta, image):
        """Write an original's tx PNG and keep it until its reconstruction arrives (or match
        the reconstruction that came early).

        Returns the records written by this call ("received" and "lost" events).

        Raises:
            ValueError: no valid ``seq`` in ``meta``.
        """
        seq = check_seq(meta)
        with self._lock:
            self.n_references += 1
            if self.write_png:
                write_png(self.out_dir / self._png_name("tx", seq, meta.get("image_id")), image)
            early = self._early.pop(seq, None)
            if early is not None:
                self._pending.matched_on_arrival()
                written = [self._received(seq, early[0], early[1], (image, meta))]
                written += [self._lost(old_seq, old_meta, "overtaken")
                            for old_seq, old_meta in self._pending.overtaken(self.reorder_window)]
            else:
                written = [self._lost(*dropped) for dropped in self._pending.add(seq, image, meta)]
            return written + self._flush_early_before(seq)

    def add_reconstruction(self, meta, image):
        """Write a reconstruction's PNG and JSON line, matched by seq with a waiting reference
        (or hold it for a reference still to come, see the class docstring).

        Returns the records written by this call (a received record's psnr_db is inf for
        identical images, null in JSON).

        Raises:
            ValueError: no valid ``seq`` in ``meta``.
        """
        seq = check_seq(meta)
        with self._lock:
            self.n_received += 1
            reference = self._pending.pop(seq)
            if reference is not None or not self.hold_early:
                return [self._received(seq, meta, image, reference)] + [
                    self._lost(old_seq, old_meta, "overtaken")
                    for old_seq, old_meta in self._pending.overtaken(self.reorder_window)]
            written = []
            if seq in self._early:  # the same seq again before any reference: the older is unmatched
                written.append(self._received(seq, *self._early.pop(seq), None))
            self._early[seq] = (meta, image)
            while len(self._early) > self._pending.capacity:
                old_seq, (old_meta, old_image) = self._early.popitem(last=False)
                written.append(self._received(old_seq, old_meta, old_image, None))
            return written

    def finish(self):
        """Write the early reconstructions still unmatched, report every reference still
        waiting as lost, and close the JSON Lines file.

        Returns the records written. The recorder can be used again afterwards (the file
        is reopened in append mode).
        """
        with self._lock:
            written = [self._received(seq, meta, image, None) for seq, (meta, image) in self._early.items()]
            self._early.clear()
            written += [self._lost(seq, meta, "never received") for seq, meta in self._pending.drain()]
            if self._records is not None:
                self._records.close()
                self._records = None
            return written

    def pending_references(self):
        """The seqs of references sent but not received yet, oldest first."""
        with self._lock:
            return self._pending.seqs()

    def _flush_early_before(self, reference_seq):
        """Write as unmatched the held reconstructions older than ``reference_seq`` (mod 65536):
        references come in seq order, so theirs will not come any more."""
        written = []
        while self._early:
            seq, (meta, image) = next(iter(self._early.items()))
            if not 0 < (reference_seq - seq) % SEQ_MODULO < SEQ_MODULO // 2:
                break
            del self._early[seq]
            written.append(self._received(seq, meta, image, None))
        return written

    def _received(self, seq, meta, image, reference):
        ref_image, ref_meta = reference if reference is not None else (None, {})
        image_id = ref_meta.get("image_id", meta.get("image_id", UNKNOWN_ID))
        error = None
        if reference is not None:
            self.n_matched += 1
            if ref_image.shape == image.shape:
                error = mse(ref_image, image)
        rx_png = self._png_name("rx", seq, image_id)
        if self.write_png:
            write_png(self.out_dir / rx_png, image)
        record = {
            "event": "received", "seq": seq, "image_id": image_id,
            "query": ref_meta.get("query", meta.get("query", "")),
            "matched": reference is not None,
            "shape_match": None if reference is None else ref_image.shape == image.shape,
            "mse": error,
            # inf for identical images; written as null (JSON has no inf), told apart
            # from "no reference" by mse == 0.
            "psnr_db": None if error is None else psnr_from_mse(error),
            "rx_png": rx_png if self.write_png else None,
            "tx_png": self._png_name("tx", seq, image_id) if reference is not None and self.write_png else None,
            "meta": meta, "reference_meta": ref_meta if reference is not None else None,
        }
        self._write(record)
        return record

    def _lost(self, seq, meta, reason):
        self.n_lost += 1
        record = {"event": "lost", "seq": seq, "image_id": meta.get("image_id", UNKNOWN_ID),
                  "reason": reason}
        self._write(record)
        return record

    def _png_name(self, prefix, seq, image_id):
        return f"{prefix}_{seq:05d}_{safe_name(image_id if image_id is not None else UNKNOWN_ID)}.png"

    def _write(self, record):
        if self._records is None:
            self._records = open(self.records_path, "a", encoding="utf-8")
        self._records.write(json.dumps(json_safe(record), allow_nan=False) + "\n")
        self._records.flush()

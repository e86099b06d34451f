#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""GNU Radio block: writes received images, matched by seq with their originals."""

import pmt
from gnuradio import gr

from .image_pdu import parse_image_pdu
from .sink_records import MAX_PENDING, ImageRecorder

IN_PORT = pmt.intern("in")
REFERENCE_PORT = pmt.intern("reference")


class image_sink(gr.basic_block):
    """Writes reconstructions (port "in") and originals (port "reference") to ``out_dir``.

    Files (``docs/io.md``): ``rx_<seq>_<image_id>.png``, ``tx_<seq>_<image_id>.png`` and
    ``images.jsonl`` (one JSON object per image, flushed per line: meta, matched reference,
    MSE and PSNR; a ``{"event": "lost", ...}`` line per reference never received, written
    at ``stop()`` or when more than 4096 references wait). Images are written as they
    are matched; a reconstruction handled before its reference (GNU Radio does not order
    messages across ports) is held until its reference or a later one comes, then
    written. Malformed PDUs are logged and dropped.

    Args:
        out_dir (str): output folder (created).
        reference (bool): match reconstructions with originals on the "reference" port; when
            False the port does not exist and images are written unmatched.
        write_png (bool): write the PNG files (the JSON lines are always written).
    """

    def __init__(self, out_dir="uoisc_images", reference=True, write_png=True):
        gr.basic_block.__init__(self, name="uoisc_image_sink", in_sig=None, out_sig=None)
        if not isinstance(out_dir, str) or not out_dir:
            raise ValueError(f"out_dir must be a non-empty path, got {out_dir!r}")
        try:
            self.recorder = ImageRecorder(out_dir, write_png=write_png, capacity=MAX_PENDING,
                                          hold_early=reference)
        except OSError as err:
            raise ValueError(f"cannot create out_dir {out_dir!r}: {err}") from err
        self.n_dropped = 0
        self.message_port_register_in(IN_PORT)
        self.set_msg_handler(IN_PORT, self._handle_image)
        if reference:
            self.message_port_register_in(REFERENCE_PORT)
            self.set_msg_handler(REFERENCE_PORT, self._handle_reference)

    @property
    def n_received(self):
        return self.recorder.n_received

    @property
    def n_matched(self):
        return self.recorder.n_matched

    @property
    def n_lost(self):
        return self.recorder.n_lost

    def pending_references(self):
        """Seqs of originals whose reconstruction has not arrived (yet), oldest first."""
        return self.recorder.pending_references()

    def stop(self):
        lost = [r for r in self.recorder.finish() if r["event"] == "lost"]
        if lost:
            self.logger.warn(f"{len(lost)} images never received: seqs {[r['seq'] for r in lost][:20]}")
        return super().stop()

    def _handle_image(self, msg):
        self._record(msg, self.recorder.add_reconstruction, "image")

    def _handle_reference(self, msg):
        for record in self._record(msg, self.recorder.add_reference, "reference"):
            if record["event"] == "lost":
                self.logger.warn(f"reference seq {record['seq']} dropped ({record['reason']}): counted lost")

    def _record(self, msg, add, what):
        try:
            meta, image = parse_image_pdu(msg)
            return add(meta, image)
        except ValueError as err:
            self.n_dropped += 1
            self.logger.error(f"dropped {what} PDU: {err}")
        except OSError as err:  # disk full, permissions: keep the flowgraph running
            self.n_dropped += 1
            self.logger.error(f"could not write {what}: {err}")
        return []

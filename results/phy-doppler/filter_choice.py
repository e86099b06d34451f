#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Why the pilot filter estimates the Doppler per burst instead of a fixed robust design.

For each (fD*Ts, Es/N0) the same bursts (1544-byte frames, default pilots 2 every 32, numpy
Jakes model with 64 sinusoids) go through ``pilot_estimator.estimate_section`` with "auto", with
the former fixed design 1e-3 and with the fixed design at the pilots' Nyquist limit (the robust
filter for every supported Doppler). Reported per design: the mean squared error of the data
symbols' gains over N0, and the SNR it costs, 10 log10(1 + MSE / N0) (the gain error acts as
extra noise of variance MSE on unit-energy symbols).

Run: python results/phy-doppler/filter_choice.py  (writes filter_choice.json next to it)
"""

import json
import os

import numpy as np

from gnuradio.uoisc.phy import burst, codes, framing, mapping, pilots
from gnuradio.uoisc.phy.jakes import jakes_gains
from gnuradio.uoisc.phy.pilot_estimator import AUTO, estimate_section

PAYLOAD_BYTES = 1544
BURSTS = 20
PARAMS = pilots.PilotParams(pilots.DEFAULT_INTERVAL, pilots.DEFAULT_LENGTH)
NYQUIST = 0.5 / (PARAMS.interval + PARAMS.length)
DESIGNS = {"auto": AUTO, "fixed 1e-3": 1e-3, f"fixed Nyquist {NYQUIST:.3g}": NYQUIST}


def gain_errors(fd, esno_db, seed=0):
    """Mean gain MSE / N0 of each design over BURSTS bursts, and the mean auto design Doppler."""
    code = codes.get_code(codes.DEFAULT_CODE)
    n_data = pilots.frame_data_symbols(PAYLOAD_BYTES, code.n, code.k)
    header = framing.pack_header(framing.PhyHeader(PAYLOAD_BYTES, 0, 0, code.code_id, PARAMS.interval,
                                                   PARAMS.length))
    prefix_ref = burst.known_prefix(header)
    n0 = 10 ** (-esno_db / 10)
    rng = np.random.default_rng(seed)
    errors = {name: [] for name in DESIGNS}
    auto_design = []
    for _ in range(BURSTS):
        sent = np.concatenate([prefix_ref, pilots.insert_pilots(mapping.POINTS[rng.integers(0, 8, n_data)], PARAMS)])
        h = jakes_gains(sent.size, fd, rng)
        received = h * sent + np.sqrt(n0 / 2) * (rng.standard_normal(sent.size) + 1j * rng.standard_normal(sent.size))
        k = prefix_ref.size
        truth = h[k:][pilots.data_positions(n_data, PARAMS)]
        for name, design in DESIGNS.items():
            result = estimate_section(received[k:], received[:k], prefix_ref, PARAMS, n_data, design)
            errors[name].append(np.mean(np.abs(result.gains - truth) ** 2) / n0)
            if design == AUTO:
                auto_design.append(result.doppler)
    return ({name: float(np.mean(v)) for name, v in errors.items()}, float(np.mean(auto_design)))


def main():
    rows = []
    for fd in (0.0, 2e-3, 1e-2):
        for esno_db in (0.0, 10.0, 20.0):
            mse, design = gain_errors(fd, esno_db)
            rows.append({"doppler": fd, "esno_db": esno_db, "auto_design_doppler": design,
                         "mse_over_n0": mse,
                         "snr_loss_db": {k: float(10 * np.log10(1 + v)) for k, v in mse.items()}})
            print(fd, esno_db, design, {k: round(v, 3) for k, v in rows[-1]["snr_loss_db"].items()})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "filter_choice.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"payload_bytes": PAYLOAD_BYTES, "bursts": BURSTS, "pilots": [PARAMS.interval, PARAMS.length],
                   "rows": rows}, f, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

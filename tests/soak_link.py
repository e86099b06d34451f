"""Soak run of the semantic link, as a script (see test_semantic_link.py's soak test).

``python tests/soak_link.py OUT_DIR N_IMAGES [ESNO_DB FADING]`` sends N_IMAGES
generated scenes through :class:`~gnuradio.uoisc.apps.semantic_link.SemanticLoopback`
(Rayleigh at 8 dB by default, no PNGs) and prints one JSON line: the run's counts and ``samples``, a
list of (images received, RSS in KiB, live Python objects after a collection)
taken every 0.2 s during the run.
"""

import gc
import json
import sys
import threading

from gnuradio.uoisc.apps import phy_sim
from gnuradio.uoisc.apps.semantic_link import SemanticLinkConfig, SemanticLoopback, run_semantic_link

SAMPLE_PERIOD_S = 0.2


def rss_kib():
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(out_dir, n_images, esno_db=8.0, fading="rayleigh"):
    phy_sim.set_gr_log_level("warn")
    config = SemanticLinkConfig(out_dir=out_dir, n_images=n_images, esno_db=esno_db, fading=fading,
                                seed=5, window=8, write_png=False, settle_s=5.0)
    fg = SemanticLoopback(config)
    samples, done = [], threading.Event()

    def sample():
        while not done.wait(SAMPLE_PERIOD_S):
            gc.collect()  # count what is alive, not cyclic garbage awaiting the collector
            samples.append((fg.sink.n_received, rss_kib(), len(gc.get_objects())))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run_semantic_link(config, fg)
    finally:
        done.set()
        sampler.join()
    print(json.dumps({"n_received": result["n_received"], "n_lost": result["n_lost"],
                      "elapsed_s": result["elapsed_s"], "samples": samples}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: soak_link.py OUT_DIR N_IMAGES [ESNO_DB FADING]")
    extra = (float(sys.argv[3]), sys.argv[4]) if len(sys.argv) == 5 else ()
    sys.exit(main(sys.argv[1], int(sys.argv[2]), *extra))

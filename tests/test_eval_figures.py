"""uoisc-eval's figures: the choice of example rows and the PNGs of the plots."""

import numpy as np

from gnuradio.uoisc.apps import eval_pairs, eval_plots, evaluate


def test_example_rows_prefer_pairs_every_system_received():
    """Rows are the first pairs no shown system lost; when fewer than asked arrived
    everywhere, lost ones fill up the grid after them, in pair order."""
    uoisc = np.array([True, False, False, True, False, False])
    jpeg = np.array([False, False, True, True, False, True])
    assert evaluate.example_rows([uoisc, jpeg], n_rows=2) == [1, 4]
    assert evaluate.example_rows([uoisc, jpeg], n_rows=4) == [1, 4, 0, 2]
    assert evaluate.example_rows([uoisc[:2], jpeg], n_rows=4) == [1, 0]


def point(system, esno_db, amr):
    return {"config": {"system": system, "fading": "rayleigh", "split": "test_zeroshot", "esno_db": esno_db},
            "metrics": {"answer_match_rate": amr, "relevance_loss": None if amr is None else 1 - amr}}


def test_plots_write_png_files(tmp_path):
    """The Es/N0 plot (a missing value is skipped, not plotted) and the example grid
    are written as PNG files."""
    points = [point("uoisc", 0.0, 0.4), point("uoisc", 10.0, 0.8), point("jpeg2000", 0.0, None)]
    path = eval_plots.plot_vs_esno(points, "answer_match_rate", "AMR", str(tmp_path / "amr.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    pairs = eval_pairs.make_pairs("test_seen", 2)
    grey = np.full((2, 64, 64, 3), 128, np.uint8)
    grid = eval_plots.plot_examples(pairs, ["red", "yes"], [("uoisc @ 0 dB", grey, ["blue", "no (lost)"])],
                                    str(tmp_path / "grid.png"))
    assert open(grid, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

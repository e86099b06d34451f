#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Checks shared by the tests of the two evaluation CLIs (uoisc-eval, uoisc-vlf-eval)."""


def assert_rerun_loads_stored_points(main, argv, stored_point, n_loaded, capsys):
    """Running the same command again computes nothing: it loads ``n_loaded`` stored points
    and leaves their files untouched (``stored_point`` is one of them)."""
    mtime = stored_point.stat().st_mtime_ns
    capsys.readouterr()
    assert main(argv) == 0
    assert f"0 points computed, {n_loaded} loaded" in capsys.readouterr().out
    assert stored_point.stat().st_mtime_ns == mtime

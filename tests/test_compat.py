"""Tests of the torchvision import guard (``uoisc_train.compat``).

Each test runs in a fresh interpreter: whether torchvision imports depends on
what the process imported before, so an in-process test could pass only
because an earlier test already imported it.
"""

import subprocess
import sys
import textwrap


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_open_clip_imports_and_builds_vit_b_16_through_the_guard():
    """open_clip imported through the guard builds ViT-B-16 with random weights."""
    result = _run_fresh("""
        from uoisc_train.compat import import_open_clip
        open_clip = import_open_clip()
        model = open_clip.create_model("ViT-B-16", pretrained=None)
        print(type(model).__name__, model.visual.image_size)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["CLIP", "(224,", "224)"]


def test_guard_is_idempotent_and_returns_the_same_module():
    """Calling the guard twice (and mixing both entry points) returns one torchvision."""
    result = _run_fresh("""
        from uoisc_train.compat import import_open_clip, import_torchvision
        first = import_torchvision()
        import_open_clip()
        second = import_torchvision()
        import torchvision
        assert first is second is torchvision
        import torchvision.transforms.functional  # what open_clip uses
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_compiled_nms_raises_a_clear_error_instead_of_crashing():
    """The compiled ops stay unavailable: nms raises a Python error, the process lives on."""
    result = _run_fresh("""
        import torch
        from uoisc_train.compat import import_torchvision
        torchvision = import_torchvision()
        boxes, scores = torch.zeros(2, 4), torch.zeros(2)
        if torchvision.extension._has_ops():
            print("has-ops")  # a matching torch/torchvision pair: nothing to guard
        else:
            for call in (torchvision.ops.nms, torch.ops.torchvision.nms):
                try:
                    call(boxes, scores, 0.5)
                except (RuntimeError, NotImplementedError) as error:
                    print(type(error).__name__)
                else:
                    print("no-error")
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines in (["has-ops"], ["RuntimeError", "NotImplementedError"]), lines


def test_other_import_errors_are_not_swallowed():
    """A RuntimeError that is not a missing torchvision op propagates unchanged."""
    result = _run_fresh("""
        import importlib
        from uoisc_train import compat
        def broken(name):
            raise RuntimeError("something else went wrong")
        compat.importlib.import_module = broken
        try:
            compat.import_torchvision()
        except RuntimeError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "something else went wrong"

"""Tests of the torchvision import guard (``uoisc_train.compat``).

Whether torchvision imports depends on what the process imported before, so the
guard is exercised in one fresh interpreter (a module-scoped fixture) that
reports what it saw as JSON; each test checks one part of that report.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from uoisc_train import compat

_PROBE = textwrap.dedent("""
    import json
    import torch
    from uoisc_train.compat import import_open_clip, import_torchvision

    report = {}
    first = import_torchvision()
    open_clip = import_open_clip()
    second = import_torchvision()
    import torchvision
    import torchvision.transforms.functional  # what open_clip's transforms use
    report["same_module"] = first is second is torchvision

    model = open_clip.create_model("ViT-B-16", pretrained=None)
    report["model"] = [type(model).__name__, list(model.visual.image_size)]

    report["has_ops"] = bool(torchvision.extension._has_ops())
    report["nms_errors"] = []
    boxes, scores = torch.zeros(2, 4), torch.zeros(2)
    for call in (torchvision.ops.nms, torch.ops.torchvision.nms):
        try:
            call(boxes, scores, 0.5)
            report["nms_errors"].append(None)
        except (RuntimeError, NotImplementedError) as error:
            report["nms_errors"].append(type(error).__name__)
    print(json.dumps(report))
""")


@pytest.fixture(scope="module")
def fresh_report() -> dict:
    """What a fresh interpreter saw when importing through the guard."""
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_open_clip_imports_and_builds_vit_b_16_through_the_guard(fresh_report):
    """open_clip imported through the guard builds ViT-B-16 (224 px) with random weights."""
    assert fresh_report["model"] == ["CLIP", [224, 224]]


def test_guard_is_idempotent_and_returns_the_same_module(fresh_report):
    """Repeated and mixed calls of the guard return the one torchvision module."""
    assert fresh_report["same_module"] is True


def test_compiled_nms_raises_a_clear_error_instead_of_crashing(fresh_report):
    """Without compiled ops, torchvision.ops.nms raises RuntimeError and the raw op
    NotImplementedError; the process lives on. (A matching torch/torchvision pair has ops.)"""
    if fresh_report["has_ops"]:
        assert fresh_report["nms_errors"] == [None, None]
    else:
        assert fresh_report["nms_errors"] == ["RuntimeError", "NotImplementedError"]


def test_other_import_errors_are_not_swallowed(monkeypatch):
    """A RuntimeError that is not a missing torchvision op propagates unchanged."""
    def broken_import(name):
        raise RuntimeError("something else went wrong")
    monkeypatch.setattr(compat.importlib, "import_module", broken_import)
    with pytest.raises(RuntimeError, match="something else went wrong"):
        compat.import_torchvision()

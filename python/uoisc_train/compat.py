"""The one place that imports torchvision (and open_clip, which imports it).

Why this exists: the project pins the CPU wheel of torch 2.13.0 and the PyPI
wheel of torchvision 0.28.0 (a CUDA build, ``0.28.0+cu130``). That
torchvision cannot load its compiled ops
(``torchvision/_C.so``) against this torch, and its ``_meta_registrations``
module then calls ``torch.library.register_fake("torchvision::nms")`` on an
operator that was never defined, so ``import torchvision`` dies with
``RuntimeError: operator torchvision::nms does not exist``.

When that happens, the guard defines the two missing operator *schemas*
(``nms`` as ``torchvision/csrc/ops/nms.cpp`` declares it; ``qnms`` with the
same signature, which is what torchvision 0.28's ``meta_qnms`` takes) through a
``torch.library.Library("torchvision", "FRAGMENT")`` and imports again, so the
fake (meta) registrations succeed and the import goes through. Only the
schemas exist: no CPU kernel is registered, so the compiled ops (``nms``,
``roi_align``, ``deform_conv2d``, ...) stay unavailable.
``torchvision.ops.nms`` raises torchvision's own ``RuntimeError`` ("Couldn't
load custom C++ ops") and ``torch.ops.torchvision.nms`` raises
``NotImplementedError``; neither crashes the process. Nothing in gr-uoisc
needs these ops: open_clip only uses torchvision's transforms and
``FrozenBatchNorm2d``.

Everything that needs torchvision or open_clip imports it through
:func:`import_torchvision` / :func:`import_open_clip`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from types import ModuleType

import torch

__all__ = ["import_torchvision", "import_open_clip", "MISSING_OP_SCHEMAS"]

_log = logging.getLogger(__name__)

#: Operator name -> schema of the ops torchvision 0.28 registers fake kernels for.
MISSING_OP_SCHEMAS: dict[str, str] = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}

_lock = threading.Lock()
# Kept alive at module level: a torch Library deregisters its definitions
# when it is garbage collected.
_fragment: torch.library.Library | None = None


def _has_schema(name: str) -> bool:
    """True when the dispatcher knows ``torchvision::<name>``."""
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
    except RuntimeError:
        return False
    return True


def _define_missing_schemas() -> list[str]:
    """Define the torchvision op schemas that are missing; return their names."""
    global _fragment
    missing = [name for name in MISSING_OP_SCHEMAS if not _has_schema(name)]
    if missing:
        if _fragment is None:
            _fragment = torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            _fragment.define(MISSING_OP_SCHEMAS[name])
    return missing


def _is_missing_op_error(error: RuntimeError) -> bool:
    return "torchvision::" in str(error) and "does not exist" in str(error)


def import_torchvision() -> ModuleType:
    """Import torchvision, working around its missing compiled ops.

    A matching torch/torchvision pair imports untouched: the schemas are only
    defined after the plain import failed on a missing ``torchvision::`` op
    (its ``_C.so`` would define them itself, and defining them twice is an
    error). Idempotent and safe to call from several threads.

    Returns:
        The ``torchvision`` module. Under the guard its compiled ops
        (``torchvision.ops.nms`` and friends) raise an error when called.

    Raises:
        RuntimeError: torchvision fails to import for another reason.
    """
    with _lock:
        try:
            return importlib.import_module("torchvision")
        except RuntimeError as error:
            if not _is_missing_op_error(error):
                raise
            # Python dropped the half-imported ``torchvision`` package; the
            # submodules that did import are plain and are reused on retry.
            missing = _define_missing_schemas()
            _log.info(
                "torchvision compiled ops unavailable (%s); defined schemas %s "
                "only, calling them raises an error", error, ", ".join(missing))
            return importlib.import_module("torchvision")


def import_open_clip() -> ModuleType:
    """Import open_clip after :func:`import_torchvision` made torchvision importable.

    Returns:
        The ``open_clip`` module.
    """
    import_torchvision()
    return importlib.import_module("open_clip")

"""h5util.py: what the h5py checkers share (tests/h5/check_h5py.py, tests/teacher/check_logits.py):
importing numpy/h5py (skip, or fail under CI=true, when missing), the optional hdf5plugin
filters, a libzstd decoder through ctypes for raw chunks (independent of any HDF5 plugin),
fail(), and attributes as Python values."""
import ctypes
import ctypes.util
import os
import sys

try:
    import numpy as np
    import h5py  # noqa: F401  re-exported for the checkers
except ImportError as e:
    print("skip: %s" % e)
    sys.exit(1 if os.environ.get("CI") == "true" else 77)
try:
    import hdf5plugin  # noqa: F401  registers the filters it has (zstd on PyPI builds)
except ImportError:
    pass

ZSTD_FILTER = 32015
_zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
_zstd.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
_zstd.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_zstd.ZSTD_decompress.restype = ctypes.c_size_t
_zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
_zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def zstd_decompress(frame):
    """one zstd frame (with its content size) -> bytes; fail() on anything else"""
    n = _zstd.ZSTD_getFrameContentSize(frame, len(frame))
    if n >= (1 << 63):
        fail("chunk is not a zstd frame with a content size")
    out = ctypes.create_string_buffer(max(n, 1))
    got = _zstd.ZSTD_decompress(out, n, frame, len(frame))
    if _zstd.ZSTD_isError(got) or got != n:
        fail("zstd could not decompress a chunk")
    return out.raw[:n]


def attrs(obj):
    """attributes as Python values; lowbit writes fixed-length UTF-8 strings, which h5py
    returns as numpy.bytes_"""
    return {k: (v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else v) for k, v in obj.attrs.items()}

#!/bin/sh
# Checkpoints are readable by h5py (Debian /usr/bin/python3 + python3-h5py): names, shapes, step.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/resume_cfg.sh"
PY=${H5PY_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import h5py' 2>/dev/null; then
    [ "${CI:-}" = "true" ] && fail "$PY has no h5py"
    echo "skip: $PY has no h5py"; exit 77
fi
setup ckpt-h5py
write_resume_cfg 12 0
"$LOWBIT" train cfg.yaml > out.log 2>&1 || fail "train: $(tail -3 out.log)"
"$PY" "$HERE/ckpt_check.py" ckpt/step-00000012.h5 12 || fail "h5py check"

"""compare_logs.py A.jsonl B.jsonl STEPS: B (a run that was interrupted and resumed, so it may
repeat steps; the last record of a step wins, a torn last line is skipped) must hold exactly the
losses and validation losses of A (an uninterrupted run) for every step 1..STEPS."""
import json, sys

def records(path):
    loss, val = {}, {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue   # a line torn by kill -9
            if "loss" in r: loss[r["step"]] = r["loss"]
            if "val_loss" in r: val[r["step"]] = r["val_loss"]
    return loss, val

a_loss, a_val = records(sys.argv[1])
b_loss, b_val = records(sys.argv[2])
steps = int(sys.argv[3])
want = set(range(1, steps + 1))
if set(a_loss) != want: sys.exit(f"reference run: steps {sorted(want - set(a_loss))[:5]} missing")
if set(b_loss) != want: sys.exit(f"resumed run: steps {sorted(want - set(b_loss))[:5]} missing")
bad = [s for s in sorted(want) if a_loss[s] != b_loss[s]]
if bad: sys.exit(f"loss differs at {len(bad)} steps, first {bad[0]}: {a_loss[bad[0]]!r} vs {b_loss[bad[0]]!r}")
if not a_val or a_val != b_val: sys.exit(f"validation losses differ: {a_val} vs {b_val}")
print(f"{steps} losses and {len(a_val)} validation losses identical; last loss {a_loss[steps]}")

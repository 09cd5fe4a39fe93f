# resume_cfg.sh: writes cfg.yaml for the resume / SIGINT tests (sourced after setup):
# random windows (T 8, B 4), gradient accumulation, cosine schedule with warmup, clipping,
# SEQ2 on attention and Sherry (Arenas annealing, data-derived scales) on the FFN, eval on /val.
write_resume_cfg() {   # $1 = steps, $2 = checkpoint every
cat > cfg.yaml <<YAML
model:
  random: {arch: llama, dim: 64, layers: 2, heads: 4, kv_heads: 2, ffn: 128}
data: {tokens: t.h5, seq_len: 8, batch: 4, grad_accum: 2}
optimizer: {lr: 0.002, scale_lr: 0.0005, weight_decay: 0.01, clip: 1.0, betas: [0.9, 0.95]}
schedule: {kind: cosine, warmup: 20, steps: $1}
qat:
  attn: {quantizer: seq2, group: row}
  ffn: {quantizer: sherry, group: row}
checkpoint: {dir: ckpt, every: $2, keep: 3}
log: {jsonl: log.jsonl, every: 1}
eval: {every: 50, batches: 1}
seed: 11
threads: 1
YAML
}

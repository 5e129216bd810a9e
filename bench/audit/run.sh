# scripts/bench audit [ARGS]: sourced by scripts/bench (release build, $tmp scratch folder).
# Appends with hashing and fsync into a real log, then times inclusion proofs in a synthetic
# 100-million-leaf tree (see bench/audit/audit_bench.cc for how it is built).
build/bench/bench/audit/audit_bench --dir "$tmp/audit" "$@"

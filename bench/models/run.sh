# scripts/bench models [ARGS]: sourced by scripts/bench (release build, $tmp scratch folder).
# Trains the C-MAPSS FD001 model through the proof path, then times XGBoost inference: one
# window per call (latency percentiles) and batches (windows per second).
OMP_WAIT_POLICY=passive build/bench/bench/models/models_bench --data ../shared/data/cmapss --store "$tmp/models" "$@"

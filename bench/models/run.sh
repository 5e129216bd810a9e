# scripts/bench models [ARGS]: sourced by scripts/bench (release build, $tmp scratch folder).
# 1. Trains the C-MAPSS FD001 model through the proof path, then times XGBoost inference: one
#    window per call (latency percentiles) and batches (windows per second). ARGS go here.
# 2. End to end: MQTT-SN PUBLISH -> pipeline -> live inference -> model output stored, p99 at
#    100,000 samples/s offered (INFERENCE_E2E_ARGS, e.g. "--durability none --rate 50000").
# The last line merges both programs' JSON lines into one object.
OMP_WAIT_POLICY=passive build/bench/bench/models/models_bench --data ../shared/data/cmapss --store "$tmp/models" "$@" \
  | tee "$tmp/xgb.out"
# shellcheck disable=SC2086
build/bench/bench/models/inference_e2e_bench --dir "$tmp/e2e" ${INFERENCE_E2E_ARGS:-} | tee "$tmp/e2e.out"
python3 - "$tmp/xgb.out" "$tmp/e2e.out" <<'PY'
import json, sys
merged = {"bench": "models"}
for path, key in zip(sys.argv[1:], ("xgboost", "inference_e2e")):
    lines = [l for l in open(path) if l.startswith("{")]
    merged[key] = json.loads(lines[-1]) if lines else None
print(json.dumps(merged))
PY

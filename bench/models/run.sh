# scripts/bench models [ARGS]: sourced by scripts/bench (release build, $tmp scratch folder).
# 1. Trains the C-MAPSS FD001 model through the proof path, then times XGBoost inference: one
#    window per call (latency percentiles) and batches (windows per second). ARGS go here.
# 2. End to end: MQTT-SN PUBLISH -> pipeline -> live inference -> model output stored, p99 at
#    100,000 samples/s offered (INFERENCE_E2E_ARGS, e.g. "--durability none --rate 50000"), with
#    the scheduler fed as the node feeds it (accepted samples), then in the same run fed one group
#    commit later (--feed durable), the way it was fed before, as the comparison.
# The last line merges the programs' JSON lines into one object.
OMP_WAIT_POLICY=passive build/bench/bench/models/models_bench --data ../shared/data/cmapss --store "$tmp/models" "$@" \
  | tee "$tmp/xgb.out"
# shellcheck disable=SC2086
build/bench/bench/models/inference_e2e_bench --dir "$tmp/e2e" ${INFERENCE_E2E_ARGS:-} | tee "$tmp/e2e.out"
# shellcheck disable=SC2086
build/bench/bench/models/inference_e2e_bench --dir "$tmp/e2e" --feed durable ${INFERENCE_E2E_ARGS:-} \
  | tee "$tmp/e2e-durable.out"
python3 - "$tmp/xgb.out" "$tmp/e2e.out" "$tmp/e2e-durable.out" <<'PY'
import json, sys
merged = {"bench": "models"}
for path, key in zip(sys.argv[1:], ("xgboost", "inference_e2e", "inference_e2e_durable_feed")):
    lines = [l for l in open(path) if l.startswith("{")]
    merged[key] = json.loads(lines[-1]) if lines else None
print(json.dumps(merged))
PY

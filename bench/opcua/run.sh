# Sourced by scripts/bench (helpers: $tmp, pids, free_port). Starts the node-opcua test server
# with ITEMS variables on a free loopback port, measures node-opcua's own client, then ours.
peer=tests/peers/node-opcua
[[ -d $peer/node_modules/node-opcua ]] || { echo "bench: node-opcua missing: run scripts/setup --test" >&2; exit 1; }
ua_port=$(free_port)
ua_items=${OPCUA_BENCH_ITEMS:-1000}
PORT=$ua_port ITEMS=$ua_items node "$peer/server.js" >"$tmp/node-opcua.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q listening "$tmp/node-opcua.log" && break; sleep 0.1; done
grep -q listening "$tmp/node-opcua.log" || { cat "$tmp/node-opcua.log" >&2; exit 1; }
url="opc.tcp://127.0.0.1:$ua_port/UA/Resonance"
# node-opcua prints warnings on stdout: the figures are its last line.
URL=$url ITEMS=$ua_items node "$peer/bench-client.js" 2>"$tmp/peer.log" | tail -n 1 >"$tmp/peer.json"
grep -q "^{" "$tmp/peer.json" || { cat "$tmp/peer.log" >&2; exit 1; }
build/bench/bench/opcua/opcua_bench --endpoint "$url" --items "$ua_items" --peer-json "$tmp/peer.json" "$@"

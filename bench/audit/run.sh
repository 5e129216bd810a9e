# scripts/bench audit [ARGS]: sourced by scripts/bench (release build, $tmp scratch folder).
# First the peer, Go's sumdb/tlog (bench/audit/gopeer, built offline from Debian's
# golang-golang-x-mod-dev), on the same work; then ours: appends with hashing and fsync into a
# real log, inclusion proofs in a synthetic 100-million-leaf tree (the same leaves as the peer's,
# roots compared), proofs from tiles, and cached egress-gate decisions. ARGS go to audit_bench;
# --entries and --proof-leaves are passed to the peer as well.
peer_entries=1000000 peer_leaves=100000000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --entries) peer_entries=${args[i + 1]} ;;
    --proof-leaves) peer_leaves=${args[i + 1]} ;;
  esac
done
install_quietly golang-go golang-golang-x-mod-dev
src_dir=$PWD
(cd "$tmp" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$tmp/gocache" \
  go build -o "$tmp/gopeer" "$src_dir/bench/audit/gopeer/main.go")
echo "bench: peer go-sumdb-tlog (entries $peer_entries, proof tree $peer_leaves leaves)"
"$tmp/gopeer" -entries "$peer_entries" -proof-leaves "$peer_leaves" >"$tmp/peer.json"
# The peer's 100-million-leaf tree took ~10 GB; give ours the same memory state it had (page cache
# dropped, memory compacted), or the tail of our proof timings measures the kernel reclaiming it.
sync
{ echo 3 >/proc/sys/vm/drop_caches && echo 1 >/proc/sys/vm/compact_memory; } 2>/dev/null || true
sleep 5
build/bench/bench/audit/audit_bench --dir "$tmp/audit" --peer-json "$tmp/peer.json" "$@"

# Sourced by scripts/bench (helpers: $tmp, pids, free_port). Starts mosquitto, the broker peer,
# on a free loopback port with its own config, then runs mqttsn_bench against it.
mq_port=$(free_port)
cat >"$tmp/mosquitto.conf" <<CONF
listener $mq_port 127.0.0.1
persistence false
allow_anonymous true
user $(id -un)
log_dest file $tmp/mosquitto.log
CONF
(ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec mosquitto -c "$tmp/mosquitto.conf") &
pids+=($!)
mq_pid=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$mq_port") 2>/dev/null && break
  sleep 0.1
done
build/bench/bench/mqttsn/mqttsn_bench --dir "$tmp/scratch" --mosquitto-port "$mq_port" \
  --mosquitto-pid "$mq_pid" "$@"

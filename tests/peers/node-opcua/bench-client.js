// node-opcua's own client as the benchmark peer for bench/opcua: sequential Read round trips and
// notifications/s from one subscription over ITEMS variables, with the process CPU time per
// notification. Prints one JSON object. Environment: URL, ITEMS, READS (2000), SECONDS (10).
"use strict";
const { OPCUAClient, AttributeIds, TimestampsToReturn, MessageSecurityMode, SecurityPolicy,
        ClientMonitoredItemGroup } = require("node-opcua");

(async () => {
  const url = process.env.URL, items = Number(process.env.ITEMS || 1000);
  const reads = Number(process.env.READS || 2000), seconds = Number(process.env.SECONDS || 10);
  const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None, connectionStrategy: { maxRetry: 1 } });
  await client.connect(url);
  const session = await client.createSession();
  const rtt = [];
  for (let i = 0; i < reads; ++i) {
    const t = process.hrtime.bigint();
    await session.read({ nodeId: "ns=1;s=CNC1.SpindleSpeed", attributeId: AttributeIds.Value });
    rtt.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  rtt.sort((a, b) => a - b);
  const sub = await session.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10,
    requestedLifetimeCount: 100, publishingEnabled: true, maxNotificationsPerPublish: 0 });
  const list = [];
  for (let i = 0; i < items; ++i) list.push({ nodeId: `ns=1;s=Item.${i}`, attributeId: AttributeIds.Value });
  const group = await ClientMonitoredItemGroup.create(sub, list, { samplingInterval: 100, queueSize: 10 }, TimestampsToReturn.Both);
  let n = 0;
  group.on("changed", () => { ++n; });
  await new Promise((r) => setTimeout(r, 2000));  // warm-up: initial values
  n = 0;
  const cpu0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0), wall_s = Number(process.hrtime.bigint() - t0) / 1e9;
  await sub.terminate();
  await session.close();
  await client.disconnect();
  console.log(JSON.stringify({
    read_rtt_us_p50: rtt[Math.floor(rtt.length / 2)], read_rtt_us_p99: rtt[Math.floor(rtt.length * 0.99)],
    notifications_per_s: n / wall_s,
    cpu_us_per_notification: n ? (cpu.user + cpu.system) / n : null,
  }));
})().catch((e) => { console.error("bench-client.js:", e); process.exit(1); });

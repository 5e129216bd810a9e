// Captures real service message bodies for the fuzz seed corpus: a node-opcua client talks to a
// node-opcua server (server.js on PORT) through a byte-logging TCP proxy, and every single-chunk
// MSG/OPN body (after the UASC headers) is written to OUT_DIR/<direction>_<n>_i<type>.
// Usage: PORT=4840 OUT_DIR=dir node capture.js
"use strict";
const net = require("net"), fs = require("fs"), path = require("path");
const { OPCUAClient, AttributeIds, MessageSecurityMode, SecurityPolicy, TimestampsToReturn, DataType } = require("node-opcua");

const port = Number(process.env.PORT), out = process.env.OUT_DIR;
let n = 0;
function splitter(dir) {
  let buf = Buffer.alloc(0);
  return (data) => {
    buf = Buffer.concat([buf, data]);
    while (buf.length >= 8) {
      const size = buf.readUInt32LE(4);
      if (buf.length < size) break;
      const chunk = buf.subarray(0, size);
      buf = buf.subarray(size);
      const type = chunk.toString("ascii", 0, 3), last = chunk[3];
      if (last !== 0x46) continue;
      let body;
      if (type === "MSG") body = chunk.subarray(24);
      else if (type === "OPN") {
        let o = 12;
        for (let i = 0; i < 3; ++i) { const l = chunk.readInt32LE(o); o += 4 + (l > 0 ? l : 0); }
        body = chunk.subarray(o + 8);
      } else continue;
      const id = body[0] === 1 ? body.readUInt16LE(2) : body[0] === 0 ? body[1] : body.readUInt32LE(3);
      fs.writeFileSync(path.join(out, `${dir}_${String(n++).padStart(2, "0")}_i${id}`), body);
    }
  };
}

(async () => {
  const proxy = net.createServer((c) => {
    const s = net.connect(port, "127.0.0.1");
    const up = splitter("req"), down = splitter("resp");
    c.on("data", (d) => { up(d); s.write(d); });
    s.on("data", (d) => { down(d); c.write(d); });
    c.on("close", () => s.destroy()); s.on("close", () => c.destroy());
    c.on("error", () => {}); s.on("error", () => {});
  });
  await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
  const url = `opc.tcp://127.0.0.1:${proxy.address().port}/UA/Resonance`;
  const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None, connectionStrategy: { maxRetry: 1 } });
  await client.connect(url);
  const session = await client.createSession();
  await session.browse("ns=1;s=CNC1");
  await session.read([{ nodeId: "ns=1;s=CNC1.SpindleSpeed", attributeId: AttributeIds.Value },
                      { nodeId: "i=2255", attributeId: AttributeIds.Value },
                      { nodeId: "ns=1;s=Missing", attributeId: AttributeIds.Value }]);
  await session.write({ nodeId: "ns=1;s=CNC1.OperationMode", attributeId: AttributeIds.Value,
                        value: { value: { dataType: DataType.String, value: "MANUAL" } } });
  await session.translateBrowsePath({ startingNode: "i=85", relativePath: { elements: [
    { referenceTypeId: "i=33", isInverse: false, includeSubtypes: true, targetName: { namespaceIndex: 1, name: "CNC1" } }] } });
  const sub = await session.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10,
    requestedLifetimeCount: 100, publishingEnabled: true });
  await sub.monitor({ nodeId: "ns=1;s=CNC1.SpindleSpeed", attributeId: AttributeIds.Value },
                    { samplingInterval: 50, queueSize: 10 }, TimestampsToReturn.Both);
  await new Promise((r) => setTimeout(r, 800));
  await sub.terminate();
  await session.close();
  await client.disconnect();
  proxy.close();
  console.log("captured", n, "bodies");
})().catch((e) => { console.error("capture.js:", e); process.exit(1); });

// node-opcua server with one OPC 40501 MachineToolType instance ("CNC1" under Objects), built from
// the nodesets node-opcua ships (node-opcua-nodesets). Loopback only, SecurityPolicy None.
// Environment: PORT (required); MISSING = a browse path below the instance to delete after
// instantiation (e.g. "Production/ActiveProgram/State"), to prove the conformance check fails.
// Prints "listening <url>" once it accepts connections.
"use strict";
const { OPCUAServer, nodesets, MessageSecurityMode, SecurityPolicy } = require("node-opcua");

(async () => {
  const port = Number(process.env.PORT);
  if (!port) { console.error("server-mt.js: PORT is required"); process.exit(2); }
  const server = new OPCUAServer({
    port, host: "127.0.0.1", hostname: "127.0.0.1", resourcePath: "/UA/Resonance",
    securityModes: [MessageSecurityMode.None], securityPolicies: [SecurityPolicy.None],
    allowAnonymous: true, disableDiscovery: true, registerServerMethod: 0,
    nodesets: [nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery,
                       nodesets.isa95JobControl, nodesets.machineryJobs, nodesets.machineTool],
  });
  await server.initialize();
  const as = server.engine.addressSpace;
  const nsMT = as.getNamespaceIndex("http://opcfoundation.org/UA/MachineTool/");
  const cnc = as.findObjectType("MachineToolType", nsMT).instantiate({
    browseName: { name: "CNC1", namespaceIndex: as.getOwnNamespace().index },
    organizedBy: as.rootFolder.objects,
    optionals: ["Monitoring.Stacklight", "Equipment.Tools", "Production.ProductionPlan"],
  });
  if (process.env.MISSING) {
    let node = cnc;
    for (const name of process.env.MISSING.split("/")) {
      node = node.getChildByName(name);
      if (!node) { console.error("server-mt.js: no node", process.env.MISSING); process.exit(2); }
    }
    as.deleteNode(node);
  }
  await server.start();
  console.log("listening", server.getEndpointUrl());
  const stop = async () => { await server.shutdown(0); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
})().catch((e) => { console.error("server-mt.js:", e); process.exit(1); });

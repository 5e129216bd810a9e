// node-opcua server with one OPC 40501 MachineToolType instance ("CNC1" under Objects), built from
// the nodesets node-opcua ships (node-opcua-nodesets). Loopback only, SecurityPolicy None.
// Environment: PORT (required); MISSING = a browse path below the instance to delete after
// instantiation (e.g. "Production/ActiveProgram/State"), to prove the conformance check fails.
// SIMULATE=1: a running machine for the connector's machine-tool browse — CNC1 in the namespace
// "urn:resonance:test:cnc" under Machinery's Objects/Machines folder, with a Monitoring/Channel1
// (ChannelState Active), ActiveProgram/Name "4711" and a running ProductionPlan/Job1 whose
// PartsCompleted counts up every 100 ms.
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
  const simulate = process.env.SIMULATE === "1";
  const nsCnc = simulate ? as.registerNamespace("urn:resonance:test:cnc").index : as.getOwnNamespace().index;
  const machines = as.findNode(`ns=${as.getNamespaceIndex("http://opcfoundation.org/UA/Machinery/")};i=1001`);
  const cnc = as.findObjectType("MachineToolType", nsMT).instantiate({
    browseName: { name: "CNC1", namespaceIndex: nsCnc },
    organizedBy: simulate ? machines : as.rootFolder.objects,
    optionals: ["Monitoring.Stacklight", "Equipment.Tools", "Production.ProductionPlan",
                ...(simulate ? ["Notification.Messages"] : [])],
  });
  if (process.env.MISSING) {
    let node = cnc;
    for (const name of process.env.MISSING.split("/")) {
      node = node.getChildByName(name);
      if (!node) { console.error("server-mt.js: no node", process.env.MISSING); process.exit(2); }
    }
    as.deleteNode(node);
  }
  if (simulate) {
    const { DataType, LocalizedText } = require("node-opcua");
    const channel = as.findObjectType("ChannelMonitoringType", nsMT).instantiate({
      browseName: { name: "Channel1", namespaceIndex: nsCnc }, componentOf: cnc.getChildByName("Monitoring") });
    channel.getChildByName("ChannelState").setValueFromSource({ dataType: DataType.Int32, value: 0 });  // Active
    const production = cnc.getChildByName("Production");
    production.getChildByName("ActiveProgram").getChildByName("Name").setValueFromSource({ dataType: DataType.String, value: "4711" });
    const job = as.findObjectType("ProductionJobType", nsMT).instantiate({
      browseName: { name: "Job1", namespaceIndex: nsCnc }, componentOf: production.getChildByName("ProductionPlan"),
      optionals: ["PartsCompleted"] });
    job.getChildByName("State").getChildByName("CurrentState").setValueFromSource(
      { dataType: DataType.LocalizedText, value: new LocalizedText({ text: "Running" }) });
    const parts = job.getChildByName("PartsCompleted");
    let count = 0;
    setInterval(() => parts.setValueFromSource({ dataType: DataType.UInt32, value: ++count }), 100);
  }
  await server.start();
  console.log("listening", server.getEndpointUrl());
  const stop = async () => { await server.shutdown(0); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
})().catch((e) => { console.error("server-mt.js:", e); process.exit(1); });

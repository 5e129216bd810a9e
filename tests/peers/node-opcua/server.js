// node-opcua test server for the OPC UA client tests: loopback only, SecurityPolicy None.
// Environment: PORT (required), ITEMS (extra Double variables ns=1;s=Item.<n>, default 0),
// USER / PASSWORD (also accept this username/password besides anonymous).
// SECURE=1 with CERT, KEY (the server's certificate and key files) and PKI_DIR (node-opcua's
// certificate store): endpoints Basic256Sha256 Sign and SignAndEncrypt only, plus the restricted
// SecurityPolicy None endpoint node-opcua keeps for GetEndpoints. Unknown client certificates are
// accepted (and filed as trusted) unless PKI_REJECT_UNKNOWN=1.
// Address space: Objects/CNC1/{SpindleSpeed Double, PartCount UInt32, OperationMode String
// (writable)}, Objects/Items/Item.<n>. Prints "listening <url>" once it accepts connections.
"use strict";
const { OPCUAServer, Variant, DataType, StatusCodes, MessageSecurityMode, SecurityPolicy, UserTokenPolicy,
        UserTokenType, OPCUACertificateManager } = require("node-opcua");

(async () => {
  const port = Number(process.env.PORT);
  if (!port) { console.error("server.js: PORT is required"); process.exit(2); }
  const user = process.env.USER_NAME, password = process.env.PASSWORD;
  const secure = process.env.SECURE === "1";
  const security = secure ? {
    securityModes: [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [SecurityPolicy.Basic256Sha256],
    certificateFile: process.env.CERT, privateKeyFile: process.env.KEY,
    serverInfo: { applicationUri: "urn:resonance:test-server" },
    serverCertificateManager: new OPCUACertificateManager({
      rootFolder: process.env.PKI_DIR,
      automaticallyAcceptUnknownCertificate: process.env.PKI_REJECT_UNKNOWN !== "1" }),
    disableDiscovery: false,  // keeps the restricted None endpoint that serves GetEndpoints
  } : {
    securityModes: [MessageSecurityMode.None], securityPolicies: [SecurityPolicy.None], disableDiscovery: true,
  };
  const server = new OPCUAServer({
    port, host: "127.0.0.1", hostname: "127.0.0.1", resourcePath: "/UA/Resonance",
    ...security,
    allowAnonymous: true, registerServerMethod: 0,
    maxConnectionsPerEndpoint: 20,
    serverCapabilities: { maxMonitoredItemsPerSubscription: 20000, maxMonitoredItems: 100000 },
    userManager: user ? { isValidUser: (u, p) => u === user && p === password } : undefined,
  });
  await server.initialize();
  if (user && !secure) {
    // node-opcua 2.186 does not pass allowUnsecurePassword through to its endpoints: offer a
    // plain username policy on the None endpoint by hand (loopback test peer only).
    for (const ep of server.endpoints)
      for (const d of ep.endpointDescriptions())
        d.userIdentityTokens.push(new UserTokenPolicy({ policyId: "username_unsecure",
          tokenType: UserTokenType.UserName, securityPolicyUri: null }));
  }
  const as = server.engine.addressSpace, ns = as.getOwnNamespace();
  const cnc = ns.addObject({ organizedBy: as.rootFolder.objects, browseName: "CNC1", nodeId: "s=CNC1" });
  let speed = 0, count = 0, mode = "AUTOMATIC";
  ns.addVariable({ componentOf: cnc, browseName: "SpindleSpeed", nodeId: "s=CNC1.SpindleSpeed", dataType: "Double",
    minimumSamplingInterval: 50, value: { get: () => new Variant({ dataType: DataType.Double, value: speed }) } });
  ns.addVariable({ componentOf: cnc, browseName: "PartCount", nodeId: "s=CNC1.PartCount", dataType: "UInt32",
    minimumSamplingInterval: 50, value: { get: () => new Variant({ dataType: DataType.UInt32, value: count }) } });
  ns.addVariable({ componentOf: cnc, browseName: "OperationMode", nodeId: "s=CNC1.OperationMode", dataType: "String",
    minimumSamplingInterval: 50, accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: { get: () => new Variant({ dataType: DataType.String, value: mode }),
             set: (v) => { mode = v.value; return StatusCodes.Good; } } });
  const items = Number(process.env.ITEMS || 0);
  if (items > 0) {
    const folder = ns.addFolder(as.rootFolder.objects, { browseName: "Items", nodeId: "s=Items" });
    for (let i = 0; i < items; ++i) {
      ns.addVariable({ componentOf: folder, browseName: `Item.${i}`, nodeId: `s=Item.${i}`, dataType: "Double",
        minimumSamplingInterval: 50, value: { get: () => new Variant({ dataType: DataType.Double, value: speed + i }) } });
    }
  }
  const tick = setInterval(() => { speed = 12000 + Math.round(500 * Math.sin(Date.now() / 1000)); count++; }, 50);
  await server.start();
  console.log("listening", server.getEndpointUrl());
  const stop = async () => { clearInterval(tick); await server.shutdown(0); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
})().catch((e) => { console.error("server.js:", e); process.exit(1); });

// SecurityPolicy Basic256Sha256 against a real node-opcua 2.186.4 server on loopback: Sign and
// SignAndEncrypt channels (read, browse, subscribe, an encrypted username token, a token
// renewal), and the refusals a user must be able to act on (an untrusted server certificate,
// named by its thumbprint; a policy/mode the server does not offer). Certificates are made for
// each run with the openssl CLI in a temporary folder.

#include "connectors/opcua/client.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "tests/integration/opcua/node_server.h"
#include "tests/integration/opcua/tcp_proxy.h"

namespace resonance::opcua {
namespace {

using resonance::testing::NodeOpcuaServer;
using resonance::testing::NodeServerOptions;
using resonance::testing::NodeServerSuite;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A self-signed RSA application certificate whose subjectAltName URI is the application URI (the
// server compares it with the ApplicationUri in CreateSession).
bool make_certificate(const fs::path& dir, const std::string& name, const std::string& uri, int bits,
                      bool der = false) {
  const std::string base = (dir / name).string();
  const std::string cmd =
      "openssl req -x509 -newkey rsa:" + std::to_string(bits) + " -nodes -keyout " + base + ".key -out " + base +
      ".pem -days 30 -subj /CN=" + name + " -addext subjectAltName=URI:" + uri +
      ",DNS:localhost,IP:127.0.0.1 -addext "
      "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment "
      "-addext extendedKeyUsage=serverAuth,clientAuth >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return false;
  if (!der) return true;
  // The client side also reads DER: convert certificate and key.
  const std::string conv = "openssl x509 -in " + base + ".pem -outform DER -out " + base + ".der && openssl pkey -in " +
                           base + ".key -outform DER -out " + base + ".key.der";
  return std::system(conv.c_str()) == 0;
}

class NodeOpcuaSecure : public NodeServerSuite<NodeOpcuaSecure> {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(NodeOpcuaServer::installed()) << "node-opcua is missing: run scripts/setup --test";
    dir_ = fs::temp_directory_path() / ("opcua-security-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "trusted");
    fs::create_directories(dir_ / "other");
    ASSERT_TRUE(make_certificate(dir_, "server", "urn:resonance:test-server", 2048));
    ASSERT_TRUE(make_certificate(dir_, "client", "urn:resonance:opcua-client", 2048, /*der=*/true));
    ASSERT_TRUE(make_certificate(dir_, "stranger", "urn:resonance:stranger", 2048));
    fs::copy_file(dir_ / "server.pem", dir_ / "trusted" / "server.pem");
    fs::copy_file(dir_ / "stranger.pem", dir_ / "other" / "stranger.pem");
    start_suite_server(NodeServerOptions{
        .user_name = "operator",
        .password = "s3cret",
        .env = {"SECURE=1", "CERT=" + (dir_ / "server.pem").string(), "KEY=" + (dir_ / "server.key").string(),
                "PKI_DIR=" + (dir_ / "server-pki").string()}});
  }
  static void TearDownTestSuite() {
    NodeServerSuite::TearDownTestSuite();
    fs::remove_all(dir_);
  }

  static ClientOptions options(ChunkSecurity mode) {
    ClientOptions o;
    o.endpoint_url = server_->url();
    o.security.policy = SecurityPolicy::kBasic256Sha256;
    o.security.mode = mode;
    o.security.certificate_file = (dir_ / "client.pem").string();
    o.security.private_key_file = (dir_ / "client.key").string();
    o.security.trust_dir = (dir_ / "trusted").string();
    return o;
  }

  // Read, browse and a subscription that delivers data: the whole client over the secured channel.
  static void exercise(Client& c) {
    auto values = c.read({ReadValueId{NodeId::string(1, "CNC1.SpindleSpeed")}, ReadValueId{NodeId::string(1, "CNC1.PartCount")}});
    ASSERT_TRUE(values) << values.error().message();
    ASSERT_EQ(values->size(), 2u);
    const auto speed = (*values)[0].value->as_double();
    ASSERT_TRUE(speed);
    EXPECT_GE(*speed, 11500.0);
    EXPECT_LE(*speed, 12500.0);

    BrowseDescription cnc;
    cnc.node_id = NodeId::string(1, "CNC1");
    auto refs = c.browse(cnc);
    ASSERT_TRUE(refs) << refs.error().message();
    std::set<std::string> names;
    for (const auto& r : *refs) names.insert(std::string(r.browse_name.name.view()));
    EXPECT_TRUE(names.count("SpindleSpeed") && names.count("PartCount") && names.count("OperationMode"));

    CreateSubscriptionRequest req;
    req.requested_publishing_interval_ms = 100;
    auto sub = c.create_subscription(req);
    ASSERT_TRUE(sub) << sub.error().message();
    std::vector<MonitoredItemCreateRequest> items(1);
    items[0].item_to_monitor.node_id = NodeId::string(1, "CNC1.PartCount");
    items[0].requested_parameters.client_handle = 7;
    items[0].requested_parameters.sampling_interval_ms = 50;
    auto created = c.create_monitored_items(sub->subscription_id, items);
    ASSERT_TRUE(created) << created.error().message();
    std::vector<DataChange> changes;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline && changes.size() < 10)
      ASSERT_TRUE(c.poll_notifications(500ms, changes));
    ASSERT_GE(changes.size(), 10u);
    EXPECT_EQ(changes.front().client_handle, 7u);
    EXPECT_LT(*changes.front().value.value->as_double(), *changes.back().value.value->as_double());
    EXPECT_TRUE(c.delete_subscriptions({sub->subscription_id}));
  }

  static inline fs::path dir_;
};

TEST_F(NodeOpcuaSecure, SignReadsBrowsesAndSubscribes) {
  auto c = Client::connect(options(ChunkSecurity::kSign));
  ASSERT_TRUE(c) << c.error().message();
  exercise(**c);
  EXPECT_TRUE((*c)->close());
}

TEST_F(NodeOpcuaSecure, SignAndEncryptReadsBrowsesAndSubscribes) {
  auto c = Client::connect(options(ChunkSecurity::kSignAndEncrypt));
  ASSERT_TRUE(c) << c.error().message();
  exercise(**c);
  EXPECT_TRUE((*c)->close());
}

TEST_F(NodeOpcuaSecure, DerCertificateAndKeyFilesWork) {
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.security.certificate_file = (dir_ / "client.der").string();
  o.security.private_key_file = (dir_ / "client.key.der").string();
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  auto v = (*c)->read_value(NodeId::string(1, "CNC1.PartCount"));
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_TRUE((*c)->close());
}

// The server's username policy on a Basic256Sha256 endpoint wants the password RSA-OAEP encrypted
// with its certificate (node-opcua decrypts it and checks the nonce); a wrong one is refused.
TEST_F(NodeOpcuaSecure, EncryptedUserNameTokenIsAccepted) {
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.user = UserIdentity{"operator", "s3cret"};
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE((*c)->read_value(NodeId::string(1, "CNC1.PartCount")));
  EXPECT_TRUE((*c)->close());

  o.user = UserIdentity{"operator", "wrong-password"};
  auto bad = Client::connect(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("activating the session"), std::string::npos) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("wrong-password"), std::string::npos) << "the password leaked into an error";
}

// A short token lifetime forces several renewals (new nonces, new keys) while requests flow.
TEST_F(NodeOpcuaSecure, ChannelRenewalKeepsTheSecuredChannelWorking) {
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.channel_lifetime_ms = 2000;
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto v = (*c)->read_value(NodeId::string(1, "CNC1.PartCount"));
    ASSERT_TRUE(v) << v.error().message();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE((*c)->counters().channel_renewals, 2u);
  EXPECT_TRUE((*c)->close());
}

TEST_F(NodeOpcuaSecure, UntrustedServerCertificateIsRefusedNamingItsThumbprint) {
  auto server_cert = load_certificate_file(dir_ / "server.pem");
  ASSERT_TRUE(server_cert);
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.security.trust_dir = (dir_ / "other").string();  // trusts someone else
  auto c = Client::connect(o);
  ASSERT_FALSE(c);
  const auto& m = c.error().message();
  EXPECT_NE(m.find("not trusted"), std::string::npos) << m;
  EXPECT_NE(m.find(server_cert->thumbprint_hex()), std::string::npos) << m;

  // Trusting exactly that file is enough.
  o.security.server_certificate_file = (dir_ / "server.pem").string();
  auto ok = Client::connect(o);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_TRUE((*ok)->close());
}

// After a network outage the session is resumed on a new secured channel: the ActivateSession
// signature and the encrypted password are made again with the server's latest nonce.
TEST_F(NodeOpcuaSecure, SessionResumesOverANewSecuredChannel) {
  resonance::testing::TcpProxy proxy(server_->port());
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.endpoint_url = "opc.tcp://127.0.0.1:" + std::to_string(proxy.port()) + "/UA/Resonance";
  o.user = UserIdentity{"operator", "s3cret"};
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  const NodeId session = (*c)->session_id();
  ASSERT_TRUE((*c)->read_value(NodeId::string(1, "CNC1.PartCount")));
  proxy.cut();
  auto lost = (*c)->read_value(NodeId::string(1, "CNC1.PartCount"));
  ASSERT_FALSE(lost);
  ASSERT_TRUE((*c)->broken());
  auto resumed = (*c)->resume();
  ASSERT_TRUE(resumed) << resumed.message();
  EXPECT_EQ((*c)->session_id(), session);
  auto v = (*c)->read_value(NodeId::string(1, "CNC1.PartCount"));
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_TRUE((*c)->close());
}

// The other direction: a server that does not trust our certificate refuses the channel, and the
// error says which request failed and with what status.
TEST_F(NodeOpcuaSecure, ServerThatDistrustsOurCertificateIsAClearError) {
  NodeOpcuaServer strict(NodeServerOptions{
      .env = {"SECURE=1", "CERT=" + (dir_ / "server.pem").string(), "KEY=" + (dir_ / "server.key").string(),
              "PKI_DIR=" + (dir_ / "strict-pki").string(), "PKI_REJECT_UNKNOWN=1"}});
  std::string why;
  ASSERT_TRUE(strict.start(why)) << why;
  auto o = options(ChunkSecurity::kSign);
  o.endpoint_url = strict.url();
  auto c = Client::connect(o);
  ASSERT_FALSE(c);
  const auto& m = c.error().message();
  // node-opcua answers the OPN with a ServiceFault BadSecurityChecksFailed.
  EXPECT_NE(m.find("opening the secure channel"), std::string::npos) << m;
  EXPECT_NE(m.find("0x80130000 BadSecurityChecksFailed"), std::string::npos) << m;
}

// 4096-bit RSA on both sides in SignAndEncrypt: 512-byte asymmetric blocks in the OPN, the
// ExtraPaddingSize byte in every symmetric chunk both ways (keys above 2048 bits), the session
// signatures and the RSA-OAEP encrypted password with the server's 4096-bit key.
TEST_F(NodeOpcuaSecure, FourThousandNinetySixBitKeysSignAndEncrypt) {
  ASSERT_TRUE(make_certificate(dir_, "server4096", "urn:resonance:test-server", 4096));
  ASSERT_TRUE(make_certificate(dir_, "client4096", "urn:resonance:opcua-client", 4096));
  NodeOpcuaServer big(NodeServerOptions{
      .user_name = "operator",
      .password = "s3cret",
      .env = {"SECURE=1", "CERT=" + (dir_ / "server4096.pem").string(), "KEY=" + (dir_ / "server4096.key").string(),
              "PKI_DIR=" + (dir_ / "server4096-pki").string()}});
  std::string why;
  ASSERT_TRUE(big.start(why)) << why;
  auto o = options(ChunkSecurity::kSignAndEncrypt);
  o.endpoint_url = big.url();
  o.security.certificate_file = (dir_ / "client4096.pem").string();
  o.security.private_key_file = (dir_ / "client4096.key").string();
  o.security.trust_dir.clear();
  o.security.server_certificate_file = (dir_ / "server4096.pem").string();
  o.user = UserIdentity{"operator", "s3cret"};
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message();
  for (const char* name : {"client4096.pem", "server4096.pem"}) {
    auto cert = load_certificate_file(dir_ / name);
    ASSERT_TRUE(cert);
    EXPECT_EQ(cert->key_bytes(), 512u) << name;
  }
  // Read and a subscription that delivers data over the 4096-bit channel.
  auto values = (*c)->read({ReadValueId{NodeId::string(1, "CNC1.SpindleSpeed")}});
  ASSERT_TRUE(values) << values.error().message();
  ASSERT_TRUE((*values)[0].value && (*values)[0].value->as_double());
  CreateSubscriptionRequest req;
  req.requested_publishing_interval_ms = 100;
  auto sub = (*c)->create_subscription(req);
  ASSERT_TRUE(sub) << sub.error().message();
  std::vector<MonitoredItemCreateRequest> items(1);
  items[0].item_to_monitor.node_id = NodeId::string(1, "CNC1.PartCount");
  items[0].requested_parameters.client_handle = 9;
  items[0].requested_parameters.sampling_interval_ms = 50;
  ASSERT_TRUE((*c)->create_monitored_items(sub->subscription_id, items));
  std::vector<DataChange> changes;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && changes.size() < 5)
    ASSERT_TRUE((*c)->poll_notifications(500ms, changes));
  ASSERT_GE(changes.size(), 5u);
  EXPECT_EQ(changes.back().client_handle, 9u);
  EXPECT_TRUE((*c)->close());
}

TEST_F(NodeOpcuaSecure, MissingKeyFileIsAClearError) {
  auto o = options(ChunkSecurity::kSign);
  o.security.private_key_file = (dir_ / "no-such.key").string();
  auto c = Client::connect(o);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("no-such.key"), std::string::npos) << c.error().message();
}

}  // namespace
}  // namespace resonance::opcua

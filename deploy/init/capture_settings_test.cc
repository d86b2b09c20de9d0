// Settings from App Mesh's and Trellis's environment variables: defaults, each variable, both
// names, and every kind of bad value (the message names the variable, the value and what is allowed).
#include "deploy/init/capture_settings.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace trellis::deploy {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

CaptureSettings parsed(std::map<std::string, std::string> vars) {
  auto s = parseCaptureSettings(env(std::move(vars)));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : CaptureSettings{};
}

std::string refused(std::map<std::string, std::string> vars) {
  auto s = parseCaptureSettings(env(std::move(vars)));
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(CaptureSettingsTest, Defaults) {
  CaptureSettings s = parsed({});
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.ignore_uid, 1337u);
  EXPECT_FALSE(s.ignore_gid.has_value());
  EXPECT_TRUE(s.app_ports.empty());
  EXPECT_EQ(s.ingress_port, 15000);
  EXPECT_EQ(s.egress_port, 15001);
  EXPECT_TRUE(s.egress_ignored_networks.empty());
  EXPECT_THAT(s.egress_ignored_ports, ElementsAre(22));
  EXPECT_EQ(s.ipv6, Ipv6Mode::kAuto);
}

TEST(CaptureSettingsTest, EveryAppMeshVariable) {
  CaptureSettings s = parsed({{"APPMESH_START_ENABLED", "1"},
                              {"APPMESH_IGNORE_UID", "1500"},
                              {"APPMESH_IGNORE_GID", "1501"},
                              {"APPMESH_APP_PORTS", "8080,9090"},
                              {"APPMESH_ENVOY_INGRESS_PORT", "16000"},
                              {"APPMESH_ENVOY_EGRESS_PORT", "16001"},
                              {"APPMESH_EGRESS_IGNORED_IP", "169.254.169.254,169.254.170.2,fd00::/8"},
                              {"APPMESH_EGRESS_IGNORED_PORTS", "443,5432"}});
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.ignore_uid, 1500u);
  EXPECT_EQ(s.ignore_gid, 1501u);
  EXPECT_THAT(s.app_ports, ElementsAre(8080, 9090));
  EXPECT_EQ(s.ingress_port, 16000);
  EXPECT_EQ(s.egress_port, 16001);
  EXPECT_THAT(s.egress_ignored_networks,
              ElementsAre(Network{false, "169.254.169.254/32"}, Network{false, "169.254.170.2/32"},
                          Network{true, "fd00::/8"}));
  EXPECT_THAT(s.egress_ignored_ports, ElementsAre(22, 443, 5432));
}

TEST(CaptureSettingsTest, EveryTrellisVariable) {
  CaptureSettings s = parsed({{"TRELLIS_CAPTURE_ENABLED", "1"},
                              {"TRELLIS_IGNORE_UID", "0"},
                              {"TRELLIS_IGNORE_GID", "4294967294"},
                              {"TRELLIS_APP_PORTS", "80"},
                              {"TRELLIS_INGRESS_PORT", "1"},
                              {"TRELLIS_EGRESS_PORT", "65535"},
                              {"TRELLIS_EGRESS_IGNORED_IPS", "10.1.2.3/8"},
                              {"TRELLIS_EGRESS_IGNORED_PORTS", "22,2222"},
                              {"TRELLIS_ENABLE_IPV6", "1"}});
  EXPECT_EQ(s.ignore_uid, 0u);
  EXPECT_EQ(s.ignore_gid, 4294967294u);
  EXPECT_THAT(s.app_ports, ElementsAre(80));
  EXPECT_EQ(s.ingress_port, 1);
  EXPECT_EQ(s.egress_port, 65535);
  // Host bits cleared, as iptables stores it.
  EXPECT_THAT(s.egress_ignored_networks, ElementsAre(Network{false, "10.0.0.0/8"}));
  // 22 given explicitly is the one always added, not a duplicate.
  EXPECT_THAT(s.egress_ignored_ports, ElementsAre(22, 2222));
  EXPECT_EQ(s.ipv6, Ipv6Mode::kOn);
  EXPECT_EQ(parsed({{"TRELLIS_ENABLE_IPV6", "0"}}).ipv6, Ipv6Mode::kOff);
  EXPECT_EQ(parsed({{"TRELLIS_ENABLE_IPV6", "auto"}}).ipv6, Ipv6Mode::kAuto);
}

TEST(CaptureSettingsTest, DisabledReadsNothingElse) {
  CaptureSettings s = parsed({{"APPMESH_START_ENABLED", "0"}, {"APPMESH_ENVOY_EGRESS_PORT", "70000"}});
  EXPECT_FALSE(s.enabled);
  EXPECT_FALSE(parsed({{"TRELLIS_CAPTURE_ENABLED", "0"}}).enabled);
}

TEST(CaptureSettingsTest, EmptyAndSpacedValues) {
  // Empty counts as unset; spaces around values and items are ignored.
  CaptureSettings s = parsed({{"APPMESH_ENVOY_EGRESS_PORT", ""},
                              {"APPMESH_IGNORE_GID", ""},
                              {"APPMESH_APP_PORTS", " 8080, 9090 "}});
  EXPECT_EQ(s.egress_port, 15001);
  EXPECT_FALSE(s.ignore_gid.has_value());
  EXPECT_THAT(s.app_ports, ElementsAre(8080, 9090));
}

TEST(CaptureSettingsTest, BothNamesAgreeing) {
  EXPECT_EQ(parsed({{"APPMESH_IGNORE_UID", "1400"}, {"TRELLIS_IGNORE_UID", "1400"}}).ignore_uid, 1400u);
}

TEST(CaptureSettingsTest, BothNamesDisagreeing) {
  EXPECT_THAT(refused({{"APPMESH_ENVOY_EGRESS_PORT", "15001"}, {"TRELLIS_EGRESS_PORT", "16001"}}),
              AllOf(HasSubstr("APPMESH_ENVOY_EGRESS_PORT=\"15001\""), HasSubstr("TRELLIS_EGRESS_PORT=\"16001\""),
                    HasSubstr("disagree")));
  EXPECT_THAT(refused({{"APPMESH_START_ENABLED", "1"}, {"TRELLIS_CAPTURE_ENABLED", "0"}}),
              AllOf(HasSubstr("APPMESH_START_ENABLED"), HasSubstr("TRELLIS_CAPTURE_ENABLED")));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.0.0.1"}, {"TRELLIS_EGRESS_IGNORED_IPS", "10.0.0.2"}}),
              AllOf(HasSubstr("APPMESH_EGRESS_IGNORED_IP"), HasSubstr("TRELLIS_EGRESS_IGNORED_IPS")));
}

TEST(CaptureSettingsTest, BadEnabled) {
  EXPECT_THAT(refused({{"APPMESH_START_ENABLED", "yes"}}),
              AllOf(HasSubstr("APPMESH_START_ENABLED=\"yes\""), HasSubstr("allowed: 1")));
  EXPECT_THAT(refused({{"TRELLIS_CAPTURE_ENABLED", "true"}}), HasSubstr("TRELLIS_CAPTURE_ENABLED=\"true\""));
}

TEST(CaptureSettingsTest, BadPorts) {
  for (const char* bad : {"70000", "0", "-1", "+80", "80a", "0x50", "15001.0", "123456"}) {
    EXPECT_THAT(refused({{"APPMESH_ENVOY_EGRESS_PORT", bad}}),
                AllOf(HasSubstr(std::string("APPMESH_ENVOY_EGRESS_PORT=\"") + bad + "\""),
                      HasSubstr("allowed: a number from 1 to 65535")))
        << bad;
  }
  EXPECT_THAT(refused({{"TRELLIS_INGRESS_PORT", "99999"}}), HasSubstr("TRELLIS_INGRESS_PORT=\"99999\""));
}

TEST(CaptureSettingsTest, IngressEqualsEgress) {
  EXPECT_THAT(refused({{"APPMESH_ENVOY_INGRESS_PORT", "15001"}}),
              AllOf(HasSubstr("APPMESH_ENVOY_INGRESS_PORT"), HasSubstr("TRELLIS_EGRESS_PORT (by default)"),
                    HasSubstr("both 15001"), HasSubstr("two different ports")));
  EXPECT_THAT(refused({{"TRELLIS_INGRESS_PORT", "9000"}, {"TRELLIS_EGRESS_PORT", "9000"}}),
              AllOf(HasSubstr("TRELLIS_INGRESS_PORT"), HasSubstr("TRELLIS_EGRESS_PORT")));
}

TEST(CaptureSettingsTest, AppPortIsAProxyPort) {
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "8080,15000"}}),
              AllOf(HasSubstr("APPMESH_APP_PORTS=\"8080,15000\""), HasSubstr("ingress port")));
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "15001"}}), HasSubstr("egress port"));
}

TEST(CaptureSettingsTest, BadPortLists) {
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "8080,,9090"}}),
              AllOf(HasSubstr("APPMESH_APP_PORTS=\"8080,,9090\""), HasSubstr("empty item")));
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "8080,"}}), HasSubstr("empty item"));
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "8080,http"}}),
              AllOf(HasSubstr("\"http\" is not a port"), HasSubstr("1 to 65535")));
  EXPECT_THAT(refused({{"APPMESH_APP_PORTS", "8080,8080"}}), HasSubstr("port 8080 is listed twice"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_PORTS", "443,443"}}),
              AllOf(HasSubstr("APPMESH_EGRESS_IGNORED_PORTS"), HasSubstr("listed twice")));
  EXPECT_THAT(refused({{"TRELLIS_EGRESS_IGNORED_PORTS", "65536"}}),
              AllOf(HasSubstr("TRELLIS_EGRESS_IGNORED_PORTS=\"65536\""), HasSubstr("not a port")));
}

TEST(CaptureSettingsTest, BadIds) {
  for (const char* bad : {"4294967295", "99999999999", "-1", "root", "13.5"}) {
    EXPECT_THAT(refused({{"APPMESH_IGNORE_UID", bad}}),
                AllOf(HasSubstr(std::string("APPMESH_IGNORE_UID=\"") + bad + "\""), HasSubstr("not a UID"),
                      HasSubstr("0 to 4294967294")))
        << bad;
  }
  EXPECT_THAT(refused({{"TRELLIS_IGNORE_GID", "wheel"}}),
              AllOf(HasSubstr("TRELLIS_IGNORE_GID=\"wheel\""), HasSubstr("not a GID")));
}

TEST(CaptureSettingsTest, BadNetworks) {
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "169.254.169.254,metadata"}}),
              AllOf(HasSubstr("APPMESH_EGRESS_IGNORED_IP=\"169.254.169.254,metadata\""),
                    HasSubstr("\"metadata\" is not an IP address"), HasSubstr("allowed: IPv4 or IPv6")));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.0.0.0/33"}}),
              AllOf(HasSubstr("\"10.0.0.0/33\" has a bad prefix length"), HasSubstr("/0 to /32")));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "fd00::/129"}}), HasSubstr("/0 to /128"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.0.0.0/"}}), HasSubstr("bad prefix length"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.0.0.0/-1"}}), HasSubstr("bad prefix length"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "256.1.1.1"}}), HasSubstr("not an IP address"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.0.0.1,,10.0.0.2"}}), HasSubstr("empty item"));
  EXPECT_THAT(refused({{"APPMESH_EGRESS_IGNORED_IP", "10.1.0.0/16,10.1.2.3/16"}}),
              AllOf(HasSubstr("listed twice"), HasSubstr("10.1.0.0/16")));
}

TEST(CaptureSettingsTest, BadIpv6Mode) {
  EXPECT_THAT(refused({{"TRELLIS_ENABLE_IPV6", "yes"}}),
              AllOf(HasSubstr("TRELLIS_ENABLE_IPV6=\"yes\""), HasSubstr("auto, 1")));
}

TEST(CaptureSettingsTest, ParseNetworkNormalises) {
  EXPECT_EQ(parseNetwork("X", "192.168.1.77/24")->cidr, "192.168.1.0/24");
  EXPECT_EQ(parseNetwork("X", "0.0.0.0/0")->cidr, "0.0.0.0/0");
  EXPECT_EQ(parseNetwork("X", "FD00:0::1")->cidr, "fd00::1/128");
  EXPECT_TRUE(parseNetwork("X", "fd00:1:2:3::9/63")->ipv6);
  EXPECT_EQ(parseNetwork("X", "fd00:1:2:3::9/63")->cidr, "fd00:1:2:2::/63");
}

TEST(CaptureSettingsTest, DescribeSettings) {
  std::string text = describeSettings(parsed({{"APPMESH_APP_PORTS", "8080"}, {"APPMESH_IGNORE_GID", "7"}}));
  EXPECT_THAT(text, AllOf(HasSubstr("TRELLIS_APP_PORTS=8080\n"), HasSubstr("TRELLIS_IGNORE_GID=7\n"),
                          HasSubstr("TRELLIS_EGRESS_IGNORED_PORTS=22\n"), HasSubstr("TRELLIS_ENABLE_IPV6=auto\n")));
}

TEST(CaptureSettingsTest, EveryVariableIsListed) {
  std::vector<std::string> names;
  for (const SettingVariable& v : settingVariables()) names.push_back(v.trellis_name);
  EXPECT_THAT(names, ElementsAre("TRELLIS_CAPTURE_ENABLED", "TRELLIS_IGNORE_UID", "TRELLIS_IGNORE_GID",
                                 "TRELLIS_APP_PORTS", "TRELLIS_INGRESS_PORT", "TRELLIS_EGRESS_PORT",
                                 "TRELLIS_EGRESS_IGNORED_IPS", "TRELLIS_EGRESS_IGNORED_PORTS", "TRELLIS_ENABLE_IPV6"));
}

}  // namespace
}  // namespace trellis::deploy

// Cluster mode: CRC16 hash slots (vectors captured from redis-server 7.0.15's
// CLUSTER KEYSLOT), CLUSTER NODES lines, and the redirection decision.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "server/cluster/cluster_state.h"
#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/config.h"

using namespace distcache::server;

TEST_CASE("cluster: key hash slots match redis-server's CLUSTER KEYSLOT", "[cluster]") {
  const std::vector<std::pair<std::string, unsigned>> vectors = {
    {std::string("", 0), 0},
    {std::string("foo", 3), 12182},
    {std::string("bar", 3), 5061},
    {std::string("hello", 5), 866},
    {std::string("123456789", 9), 12739},
    {std::string("{user1000}.following", 20), 3443},
    {std::string("{user1000}.followers", 20), 3443},
    {std::string("foo{}{bar}", 10), 8363},
    {std::string("foo{{bar}}zap", 13), 4015},
    {std::string("foo{bar}{zap}", 13), 5061},
    {std::string("{}", 2), 15257},
    {std::string("{", 1), 4092},
    {std::string("}", 1), 12090},
    {std::string("a{b", 3), 13340},
    {std::string("{a}", 3), 15495},
    {std::string("x{}y", 4), 16116},
    {std::string("key:1", 5), 6657},
    {std::string("key:10000", 9), 910},
    {std::string("\000", 1), 0},
    {std::string("\377\376", 2), 3374},
    {std::string("{tag}rest", 9), 8338},
    {std::string("prefix{tag}", 11), 8338},
    {std::string("longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong", 200), 3595},
    {std::string("w4b0pdkhx", 9), 14231},
    {std::string("py5g7pan{rlykei:", 16), 3744},
    {std::string("iaann", 5), 6096},
    {std::string("ksum5n", 6), 16364},
    {std::string("mytbx{", 6), 5922},
    {std::string("jqevt9", 6), 533},
    {std::string("9", 1), 10106},
    {std::string("etwt1ul11ld", 11), 3887},
    {std::string("bwzb6{xy8", 9), 787},
    {std::string(":", 1), 5913},
    {std::string("lm", 2), 13132},
    {std::string("p0w3", 4), 4142},
    {std::string("4q0g8xsc}fnv", 12), 1054},
    {std::string("jvr5ftutlfjt", 12), 6417},
    {std::string("kdf95zcp9wq0{jdc", 16), 15773},
    {std::string("vni7i{gk}xjd{sj0", 16), 3952},
    {std::string("402u1r", 6), 16331},
    {std::string("1zjhy5l2vl", 10), 10969},
    {std::string("2r3", 3), 974},
    {std::string("ew8ctx6r2qsv", 12), 9208},
  };
  for (const auto& [key, slot] : vectors) {
    INFO(key);
    CHECK(key_hash_slot(key) == slot);
  }
  CHECK(crc16("123456789", 9) == 0x31c3);  // CRC-16/XMODEM check value
}

namespace {

struct TempClusterState {
  Config config;
  std::string path;
  TempClusterState() {
    path = "/tmp/distcache-unit-nodes-" + std::to_string(getpid()) + ".conf";
    std::remove(path.c_str());
    config.cluster_config_file = path;
    std::string error;
    REQUIRE(cluster::init(config, 7000, &error));
  }
  ~TempClusterState() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("cluster: CLUSTER NODES lines and the config file", "[cluster]") {
  TempClusterState t;
  cluster::ClusterState& st = *cluster::state();
  std::lock_guard lock(st.mutex());
  cluster::Node* me = st.myself();
  REQUIRE(me->id.size() == 40);
  CHECK(st.nodes_text(1000) == me->id + " :7000@17000 myself,master - 0 1000 0 connected\n");
  me->ip = "127.0.0.1";
  me->config_epoch = 1;
  for (unsigned s = 0; s <= 5460; ++s) st.assign_slot(s, me);
  st.assign_slot(6000, me);
  std::string other(40, 'b');
  cluster::Node* b = st.add_node(other, "127.0.0.1", 7001, 17001, cluster::kMaster);
  b->config_epoch = 2;
  b->pong_received = 1795626120456;
  for (unsigned s = 5461; s <= 5999; ++s) st.assign_slot(s, b);
  st.set_migrating(100, b);
  st.set_importing(5500, b);
  CHECK(st.node_line(*me, 1795626119123, false) ==
        me->id + " 127.0.0.1:7000@17000 myself,master - 0 1795626119000 1 connected 0-5460 6000 [100->-" + other +
            "] [5500-<-" + other + "]\n");
  CHECK(st.node_line(*b, 0, false) == other + " 127.0.0.1:7001@17001 master - 0 1795626120456 2 disconnected 5461-5999\n");
  b->flags |= cluster::kPfail;
  CHECK(st.node_line(*b, 0, false).find(" master,fail? - ") != std::string::npos);
  b->flags = cluster::kMaster | cluster::kFail;
  CHECK(st.node_line(*b, 0, false).find(" master,fail - ") != std::string::npos);
  st.update_state(0);
  CHECK_FALSE(st.ok());  // slots uncovered (and a failed master)
  CHECK(st.info_text().rfind("cluster_state:fail\r\ncluster_slots_assigned:6001\r\n", 0) == 0);
}

namespace {

cluster::Decision route(std::vector<std::string> keys, bool write, int missing, std::string& error,
                        bool asking = false) {
  cluster::RouteInput in;
  in.has_keys = !keys.empty();
  if (in.has_keys) in.slot = key_hash_slot(keys[0]);
  for (auto& k : keys) in.cross_slot |= key_hash_slot(k) != in.slot;
  in.is_write = write;
  in.asking = asking;
  in.key_count = static_cast<int>(keys.size());
  in.missing = missing;
  error.clear();
  return cluster::decide(in, error);
}

}  // namespace

TEST_CASE("cluster: redirections", "[cluster]") {
  TempClusterState t;
  cluster::ClusterState& st = *cluster::state();
  std::string other(40, 'c');
  cluster::Node* me;
  cluster::Node* b;
  {
    std::lock_guard lock(st.mutex());
    me = st.myself();
    me->ip = "127.0.0.1";
    b = st.add_node(other, "127.0.0.1", 7001, 17001, cluster::kMaster);
  }
  std::string error;
  using D = cluster::Decision;
  CHECK(route({"foo"}, false, -1, error) == D::kError);
  CHECK(error == "CLUSTERDOWN Hash slot not served");
  CHECK(route({}, false, -1, error) == D::kRun);  // no keys: runs anywhere
  {
    std::lock_guard lock(st.mutex());
    for (unsigned s = 0; s < 8192; ++s) st.assign_slot(s, me);
    for (unsigned s = 8192; s < kClusterSlots; ++s) st.assign_slot(s, b);
    st.update_state(0);
  }
  // "bar" is slot 5061 (ours), "foo" 12182 (b's).
  CHECK(route({"bar"}, true, -1, error) == D::kRun);
  CHECK(route({"foo"}, false, -1, error) == D::kError);
  CHECK(error == "MOVED 12182 127.0.0.1:7001");
  CHECK(route({"bar", "foo"}, true, -1, error) == D::kError);
  CHECK(error == "CROSSSLOT Keys in request don't hash to the same slot");
  CHECK(route({"{bar}1", "{bar}2"}, true, -1, error) == D::kRun);
  // Migrating "bar"'s slot to b: present keys are served, missing ones ASK.
  {
    std::lock_guard lock(st.mutex());
    st.set_migrating(5061, b);
  }
  CHECK(route({"bar"}, false, -1, error) == D::kNeedKeyLookup);
  CHECK(route({"bar"}, false, 0, error) == D::kRun);
  CHECK(route({"bar"}, false, 1, error) == D::kError);
  CHECK(error == "ASK 5061 127.0.0.1:7001");
  CHECK(route({"{bar}1", "{bar}2"}, false, 1, error) == D::kError);
  CHECK(error == "TRYAGAIN Multiple keys request during rehashing of slot");
  CHECK(route({"{bar}1", "{bar}2"}, false, 2, error) == D::kError);
  CHECK(error == "ASK 5061 127.0.0.1:7001");
  // Importing "foo"'s slot from b: only with ASKING.
  {
    std::lock_guard lock(st.mutex());
    st.set_importing(12182, b);
  }
  CHECK(route({"foo"}, false, -1, error) == D::kError);
  CHECK(error == "MOVED 12182 127.0.0.1:7001");
  CHECK(route({"foo"}, false, -1, error, true) == D::kRun);
  CHECK(route({"{foo}1", "{foo}2"}, false, 1, error, true) == D::kError);
  CHECK(error == "TRYAGAIN Multiple keys request during rehashing of slot");
  // A failed master: the cluster is down.
  {
    std::lock_guard lock(st.mutex());
    b->flags |= cluster::kFail;
    st.update_state(0);
  }
  CHECK(route({"bar"}, false, 0, error) == D::kError);
  CHECK(error == "CLUSTERDOWN The cluster is down");
}

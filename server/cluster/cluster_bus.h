#pragma once
// The cluster bus: node-to-node messages on cluster-port (default port+10000),
// on a thread of its own. The protocol is distcache's own (not Redis's binary
// bus): one text line per message,
//
//   DCB1 <type> <sender-id> <ip|-> <port> <cport> <config-epoch> <current-epoch> <slots|-> <n>
//        [<id> <ip|-> <port> <cport> <flags>]*n [<failing-id>]
//
// type is MEET, PING, PONG or FAIL; slots is a comma list of ranges ("0-5460,6000");
// the gossip entries describe other known nodes (flags: ok, pfail or fail).
// A node keeps one outbound link per known node and answers PING/MEET with PONG.
#include <string>

namespace distcache::server {

class Server;

namespace cluster {

// Loads the cluster state (cluster_state.h) and starts the bus. Returns false with *error.
bool start(Server& server, std::string* error);
void stop();

// CLUSTER MEET: starts a handshake with ip:cport. Requires the state's mutex NOT held.
void meet(const std::string& ip, int port, int cport);

// Sends our configuration (a PONG) to every linked node now (after SETSLOT NODE).
void broadcast_config();

// Sends a FAIL broadcast etc. are internal; CLUSTER LINKS reads link data from the nodes.

}  // namespace cluster
}  // namespace distcache::server

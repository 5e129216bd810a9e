#include "connectors/opcua/signal_nodes.h"

#include <algorithm>

namespace resonance::opcua {
namespace {

constexpr std::uint32_t kNoRemainingPath = 0xFFFFFFFF;  // BrowsePathTarget: the path ended here

Result<std::uint16_t> index_of(std::string_view uri, const std::vector<std::string>& namespaces) {
  const auto it = std::find(namespaces.begin(), namespaces.end(), uri);
  if (it == namespaces.end() || it - namespaces.begin() > 0xFFFF)
    return error(resonance::StatusCode::kNotFound,
                 "namespace \"" + std::string(uri) + "\" is not on the server");
  return static_cast<std::uint16_t>(it - namespaces.begin());
}

std::string shown_path(const OpcuaSignalMapping& s) {
  return "browse path \"" + s.browse_path_text + "\" from " +
         (s.start.empty() ? std::string("i=85") : s.start);
}

}  // namespace

Result<NodeId> node_id_on_server(std::string_view text,
                                 const std::vector<std::string>& namespaces) {
  if (!text.starts_with("nsu=")) return parse_node_id(text);
  const auto semi = text.find(';');
  if (semi == std::string_view::npos)
    return error(resonance::StatusCode::kInvalidArgument,
                 "node \"" + std::string(text) + "\": no ';' after nsu=");
  auto index = index_of(text.substr(4, semi - 4), namespaces);
  if (!index) return error(index.error());
  return parse_node_id("ns=" + std::to_string(*index) + ";" + std::string(text.substr(semi + 1)));
}

Result<std::vector<SignalNode>> find_signal_nodes(Client& client,
                                                  std::span<const OpcuaSignalMapping> signals,
                                                  std::size_t paths_per_request) {
  std::vector<SignalNode> out(signals.size());
  const bool needs_namespaces = std::any_of(signals.begin(), signals.end(), [](const auto& s) {
    return s.node_id.starts_with("nsu=") || s.start.starts_with("nsu=") || !s.browse_path.empty();
  });
  std::vector<std::string> namespaces;
  if (needs_namespaces) {
    auto all = client.namespace_array();
    if (!all) return error(all.error());
    namespaces = std::move(*all);
  }
  std::vector<BrowsePath> paths;
  std::vector<std::size_t> path_owner;  // index into signals of each entry of `paths`
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const auto& s = signals[i];
    if (s.browse_path.empty()) {
      auto node = node_id_on_server(s.node_id, namespaces);
      if (node)
        out[i].node = *node;
      else
        out[i].why_not = "node " + s.node_id + ": " + node.error().message();
      continue;
    }
    BrowsePath bp;
    auto start = s.start.empty() ? Result<NodeId>(NodeId::numeric(0, 85))
                                 : node_id_on_server(s.start, namespaces);
    if (!start) {
      out[i].why_not = shown_path(s) + ": start node: " + start.error().message();
      continue;
    }
    bp.starting_node = *start;
    std::string why;
    for (std::size_t k = 0; k < s.browse_path.size() && why.empty(); ++k) {
      auto ns = index_of(s.browse_path[k].namespace_uri, namespaces);
      if (!ns) {
        why = shown_path(s) + ": step " + std::to_string(k + 1) + " \"" + s.browse_path[k].name +
              "\": " + ns.error().message();
        break;
      }
      RelativePathElement e;
      e.target_name = QualifiedName{*ns, s.browse_path[k].name};
      bp.relative_path.elements.push_back(std::move(e));
    }
    if (!why.empty()) {
      out[i].why_not = std::move(why);
      continue;
    }
    paths.push_back(std::move(bp));
    path_owner.push_back(i);
  }
  for (std::size_t first = 0; first < paths.size(); first += paths_per_request) {
    const std::size_t n = std::min(paths_per_request, paths.size() - first);
    std::vector<BrowsePath> batch(std::make_move_iterator(paths.begin() + first),
                                  std::make_move_iterator(paths.begin() + first + n));
    auto results = client.translate(std::move(batch));
    if (!results) return error(results.error());
    if (results->size() != n)
      return error(resonance::StatusCode::kInvalidArgument,
                   "TranslateBrowsePathsToNodeIds answered " + std::to_string(results->size()) +
                       " results for " + std::to_string(n) + " paths");
    for (std::size_t k = 0; k < n; ++k) {
      const auto& r = (*results)[k];
      SignalNode& target = out[path_owner[first + k]];
      const auto& signal = signals[path_owner[first + k]];
      const auto local = std::find_if(r.targets.begin(), r.targets.end(), [](const auto& t) {
        return t.remaining_path_index == kNoRemainingPath && t.target_id.server_index == 0;
      });
      if (r.status.is_bad() || local == r.targets.end()) {
        target.why_not =
            shown_path(signal) + ": " +
            (r.status.is_bad() ? describe_status(r.status) : "no target on this server");
        continue;
      }
      target.node = local->target_id.node;
      // A target may name its namespace by URI instead of index.
      if (!local->target_id.namespace_uri.is_null()) {
        auto ns = index_of(local->target_id.namespace_uri.view(), namespaces);
        if (!ns) {
          target.node.reset();
          target.why_not = shown_path(signal) + ": target " + ns.error().message();
          continue;
        }
        target.node->ns = *ns;
      }
    }
  }
  return out;
}

}  // namespace resonance::opcua

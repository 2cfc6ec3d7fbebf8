// fs.listdir and napari.load_zarr: browsing the data root and switching datasets.
#include "server_core.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/zarr.hpp"
#include "voxcast/server/data_root.hpp"

namespace voxcast::server {

using protocol::Json;
namespace type = protocol::type;

void Server::Core::handle_listdir(ControlSession& s, const std::string& fid, const protocol::CallCommand& call) {
  const Json& kw = call.kwargs;
  std::string path;
  if (kw.contains("path") && !kw["path"].is_null()) {
    if (!kw["path"].is_string()) return s.send(command_error(fid, "command.invalid", "path must be a string or null"));
    path = kw["path"].get<std::string>();
  }
  ListOptions options;
  options.only = dataset_suffixes();
  if (kw.contains("show_hidden")) {
    if (!kw["show_hidden"].is_boolean()) return s.send(command_error(fid, "command.invalid", "show_hidden must be a boolean"));
    options.show_hidden = kw["show_hidden"].get<bool>();
  }
  if (kw.contains("only") && !kw["only"].is_null()) {
    if (!kw["only"].is_array()) return s.send(command_error(fid, "command.invalid", "only must be an array of suffixes"));
    options.only.clear();
    for (const auto& v : kw["only"]) {
      if (!v.is_string()) return s.send(command_error(fid, "command.invalid", "only must be an array of suffixes"));
      options.only.push_back(v.get<std::string>());
    }
  }
  auto listed = list_directory(config.data_root, path, options);
  if (!listed) return s.send(command_error(fid, listed.error().code, listed.error().message, listed.error().details));
  s.send(make(type::kReplyCommand, protocol::to_json(protocol::ReplyCommand{fid, listed.value()}), "reply"));
}

void Server::Core::handle_load(const std::shared_ptr<ControlSession>& sp, const std::string& fid,
                               const protocol::CallCommand& call) {
  ControlSession& s = *sp;
  const Json& kw = call.kwargs;
  if (!kw.contains("path") || !kw["path"].is_string() || kw["path"].get<std::string>().empty())
    return s.send(command_error(fid, "command.invalid", "path must be a non-empty string"));
  std::string requested = kw["path"].get<std::string>();
  std::string label, spec, root;
  if (data::is_remote_url(requested)) {
    if (!remote_url_allowed(config.remote_allow, requested))
      return s.send(command_error(fid, "remote.refused",
                                  "this server opens remote stores only under the prefixes it was started with (--allow-remote)",
                                  {{"path", requested}}));
    label = spec = requested;
  } else {
    auto resolved = resolve_in_root(config.data_root, requested);
    if (!resolved) return s.send(command_error(fid, resolved.error().code, resolved.error().message, resolved.error().details));
    std::error_code ec;
    if (std::filesystem::is_directory(resolved->absolute, ec) && !data::looks_like_zarr(resolved->absolute.string())) {
      auto options = dataset_children(resolved.value());
      if (options.empty())
        return s.send(command_error(fid, "fs.not_found", "no dataset at this path", {{"path", resolved->relative}}));
      return s.send(command_error(fid, "zarr.disambiguate", "the directory holds several datasets: pick one",
                                  {{"path", resolved->relative}, {"options", options}}));
    }
    label = resolved->relative;
    spec = resolved->absolute.string();
    root = resolved->root.string();
  }
  std::weak_ptr<ControlSession> who = sp;
  // Opening reads metadata and estimates contrast: off the network thread.
  const bool started = loader.start([this, who, fid, label, spec, root] {
    data::OpenOptions options;
    options.cache = config.cache;
    options.confine_root = root;  // a symlink inside the dataset must not lead out of the root
    options.remote = config.remote;
    auto opened = data::open_dataset(spec, options);
    std::shared_ptr<const data::VolumeSource> source;
    std::optional<data::DataError> error;
    if (auto* err = std::get_if<data::DataError>(&opened)) {
      error = *err;
    } else {
      source = std::move(std::get<std::unique_ptr<data::VolumeSource>>(opened));
    }
    asio::post(io, [this, who, fid, label, source, error] {
      loader.done();
      auto s = who.lock();
      if (error) {
        // Name the file relative to the root: clients never see server paths.
        std::string file = shown_path(error->source);
        log_info("data", "cannot open " + label + ": " + error->message);
        const std::string why = shown_server_text(config.data_root, error->message);
        if (s) s->send(command_error(fid, "zarr.invalid", file + ": " + why, {{"path", label}, {"file", file}}));
        return;
      }
      if (stopping) return;
      install_dataset(source, label);
      if (s) s->send(make(type::kReplyCommand, protocol::to_json(protocol::ReplyCommand{fid, Json{{"ok", true}}}), "reply"));
    });
  });
  if (!started) return s.send(command_error(fid, "command.retryable", "another dataset is still opening; try again"));
  log_info("data", "opening " + label);
}

void Server::Core::install_dataset(std::shared_ptr<const data::VolumeSource> src, const std::string& label) {
  source = std::move(src);
  read_error.reset();
  scene_context.source_path = label;
  render::Scene scene = render::make_initial_scene(source->info(), config.width, config.height);
  scene.source = source;
  ledger.version += 1;
  scene.version = ledger.version;
  ledger.scene = std::move(scene);
  ledger.property_versions.clear();
  counters.datasets_loaded += 1;
  publish_scene_change();
  render_loop->request_keyframe();
  // A new scene epoch: every client gets the full baseline again.
  for (const auto& c : control_sessions)
    if (c->state().welcomed) send_baseline(*c);
  log_info("data", "now serving " + label);
}

}  // namespace voxcast::server

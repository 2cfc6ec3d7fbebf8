// What control frames mean: baseline, state updates, commands, typed errors.
#include "server_core.hpp"
#include "voxcast/core/log.hpp"
#include "voxcast/protocol/base64.hpp"
#include "voxcast/protocol/json.hpp"

namespace voxcast::server {

using protocol::Envelope;
using protocol::Json;
namespace type = protocol::type;

Envelope make(const char* t, protocol::Json payload, const char* id_prefix) {
  Envelope e;
  e.type = t;
  e.frame_id = now_frame_id(id_prefix);
  e.payload = std::move(payload);
  return e;
}

namespace {
Envelope rejected_ack(const std::string& frame_id, const std::string& intent_id, const protocol::Error& err) {
  protocol::AckState ack;
  ack.intent_id = intent_id;
  ack.in_reply_to = frame_id;
  ack.accepted = false;
  ack.error = err;
  return make(type::kAckState, protocol::to_json(ack), "ack");
}
}  // namespace

Envelope command_error(const std::string& in_reply_to, const std::string& code, const std::string& message,
                       Json details) {
  return make(type::kErrorCommand, protocol::to_json(protocol::ErrorCommand{in_reply_to, code, message, std::move(details)}),
              "error");
}

Envelope Server::Core::stream_envelope() const {
  protocol::NotifyStream m;
  m.fps = config.fps;
  m.width = stream.width;
  m.height = stream.height;
  m.avcc_base64 = protocol::base64_encode(stream.avcc);
  m.latency_policy.max_buffer_ms = 1000.0 / config.fps * 2.0;
  m.latency_policy.grace_keyframe_ms = 1000.0;
  return make(type::kNotifyStream, protocol::to_json(m), "notify-stream");
}

void Server::Core::send_baseline(ControlSession& s) {
  s.send(make(type::kNotifyScene, protocol::to_json(scene_payload(ledger.scene, scene_context)), "notify-scene"));
  for (const auto& layer : ledger.scene.layers) {
    protocol::NotifyLayers m;
    m.layer_id = layer.id;
    m.controls = layer_controls(layer);
    m.metadata = layer_metadata(ledger.scene, layer);
    s.send(make(type::kNotifyLayers, protocol::to_json(m), "notify-layers"));
  }
  if (s.wants(type::kNotifyDims)) s.send(make(type::kNotifyDims, protocol::to_json(dims_payload(ledger.scene)), "dims"));
  if (s.wants(type::kNotifyCamera)) {
    protocol::NotifyCamera cam{"pose", "server.baseline", std::nullopt, camera_pose(ledger.scene)};
    s.send(make(type::kNotifyCamera, protocol::to_json(cam), "camera"));
  }
  if (stream.known()) s.send(stream_envelope());
}

void Server::Core::send_error(ControlSession& s, const std::string& code, const std::string& message, Json context) {
  log_debug("control", "session " + s.id() + ": " + code + ": " + message);
  if (!s.wants(type::kNotifyError)) return;  // a peer that did not ask never sees it
  protocol::NotifyError m{"protocol", code, message, "warning", std::move(context)};
  s.send(make(type::kNotifyError, protocol::to_json(m), "error"));
}

void Server::Core::broadcast_control(const Envelope& e, const char* feature, const ControlSession* origin,
                                     const std::optional<std::string>& intent_id) {
  for (const auto& s : control_sessions) {
    if (feature && !s->wants(feature)) continue;
    Envelope copy = e;
    if (s.get() == origin && intent_id) copy.intent_id = intent_id;  // only the originator sees its intent
    s->send(std::move(copy));
  }
}

void Server::Core::on_control_frame(const std::shared_ptr<ControlSession>& s, const std::string& text) {
  auto parsed = protocol::parse_envelope(text);
  if (parsed && parsed->session && *parsed->session != s->id())
    parsed = protocol::make_error("invalid_envelope", "session id does not match this connection");
  if (!parsed) {
    // Answer in the lane the sender used when its ids can be recovered.
    // Only the top-level fields are kept (iterative parse, nothing nested is built), so
    // this is safe on text nested too deep for parse_json.
    Json j = Json::parse(
        text, [](int depth, Json::parse_event_t, Json&) { return depth <= 1; }, false);
    auto str = [&](const char* k) -> std::string {
      if (!j.is_object() || !j.contains(k) || !j[k].is_string()) return "";
      const auto& v = j[k].get_ref<const std::string&>();
      return v.size() <= protocol::kMaxIdBytes ? v : "";  // an oversized id is not echoed
    };
    std::string t = str("type"), fid = str("frame_id"), iid = str("intent_id");
    const auto& err = parsed.error();
    if (t == type::kStateUpdate && !fid.empty() && !iid.empty()) {
      s->send(rejected_ack(fid, iid, protocol::make_error("state.invalid", err.message, err.details)));
    } else if (t == type::kCallCommand) {
      s->send(command_error(fid.empty() ? "unknown" : fid, "command.invalid", err.message, err.details));
    } else {
      const std::string code = err.code == "invalid_json"    ? "protocol.invalid_json"
                               : err.code == "json_too_deep" ? "protocol.json_too_deep"
                                                             : "protocol.invalid_envelope";
      send_error(*s, code, err.message, {{"received_type", protocol::quote_prefix(t)}});
    }
    return;
  }
  const Envelope& e = parsed.value();
  if (e.type == type::kStateUpdate) return handle_state_update(*s, e);
  if (e.type == type::kCallCommand) return handle_command(s, e);
  if (e.type == type::kSessionAck) {
    s->state().awaiting_heartbeat_ack = false;
    s->state().missed_heartbeats = 0;
    return;
  }
  if (e.type == type::kSessionHeartbeat) {
    s->send(make(type::kSessionAck, Json::object(), "sack"));
    return;
  }
  if (e.type == type::kSessionGoodbye) {
    auto bye = protocol::parse_session_goodbye(e.payload);
    protocol::SessionGoodbye reply;
    reply.code = bye && bye->code ? *bye->code : "goodbye";
    reply.message = bye && bye->message ? *bye->message : "client requested shutdown";
    reply.reason = bye && bye->reason ? *bye->reason : "client_goodbye";
    s->send(make(type::kSessionGoodbye, protocol::to_json(reply), "goodbye"));
    s->close(websocket::close_code::normal, "goodbye");
    return;
  }
  if (e.type == type::kSessionHello) return send_error(*s, "protocol.unexpected", "session is already established");
  send_error(*s, "protocol.unknown_type", "unknown or server-only frame type",
             {{"received_type", protocol::quote_prefix(e.type)}});
}

void Server::Core::handle_state_update(ControlSession& s, const Envelope& e) {
  const std::string& fid = *e.frame_id;
  const std::string& iid = *e.intent_id;
  auto update = protocol::parse_state_update(e.payload);
  if (!update) return s.send(rejected_ack(fid, iid, protocol::make_error("state.invalid", update.error().message)));
  auto reduced = reduce_state_update(ledger.scene, update.value());
  if (!reduced) return s.send(rejected_ack(fid, iid, reduced.error()));
  Reduction r = std::move(reduced).value();
  NotifyTopic topic = r.topic;
  bool changed = r.changed;
  bool is_ndisplay = r.property == "view:ndisplay";
  std::string layer_id = r.layer_id;
  Json controls = r.layer_controls;
  protocol::AckState ack;
  ack.intent_id = iid;
  ack.in_reply_to = fid;
  ack.accepted = true;
  ack.applied_value = r.applied_value;
  ack.version = static_cast<int64_t>(commit(&ledger, std::move(r)));
  // Ack first, then the notifies (a defined order; the reference has none).
  s.send(make(type::kAckState, protocol::to_json(ack), "ack"));
  if (!changed) return;
  publish_scene_change();
  switch (topic) {
    case NotifyTopic::dims:
      broadcast_control(make(type::kNotifyDims, protocol::to_json(dims_payload(ledger.scene)), "dims"),
                        type::kNotifyDims, &s, iid);
      if (is_ndisplay) {
        // The camera in use changed with the mode: publish its pose (dims first, then camera).
        protocol::NotifyCamera cam{"pose", "state.update", std::nullopt, camera_pose(ledger.scene)};
        broadcast_control(make(type::kNotifyCamera, protocol::to_json(cam), "camera"), type::kNotifyCamera, &s, iid);
      }
      break;
    case NotifyTopic::camera: {
      protocol::NotifyCamera cam{"pose", "state.update", std::nullopt, camera_pose(ledger.scene)};
      broadcast_control(make(type::kNotifyCamera, protocol::to_json(cam), "camera"), type::kNotifyCamera, &s, iid);
      break;
    }
    case NotifyTopic::layers: {
      protocol::NotifyLayers m;
      m.layer_id = layer_id;
      m.controls = controls;
      broadcast_control(make(type::kNotifyLayers, protocol::to_json(m), "notify-layers"), type::kNotifyLayers, &s, iid);
      break;
    }
    case NotifyTopic::none:
      break;
  }
}

void Server::Core::handle_command(const std::shared_ptr<ControlSession>& sp, const Envelope& e) {
  ControlSession& s = *sp;
  const std::string& fid = *e.frame_id;
  auto call = protocol::parse_call_command(e.payload);
  if (!call) return s.send(command_error(fid, "command.invalid", call.error().message));
  if (!s.wants("call.command")) return s.send(command_error(fid, "command.forbidden", "call.command feature disabled"));
  if (call->command == "napari.pixel.request_keyframe") {
    // Forces an IDR on the running encoder; the reply goes to the requester only.
    render_loop->request_keyframe();
    s.send(make(type::kReplyCommand, protocol::to_json(protocol::ReplyCommand{fid, std::nullopt}), "reply"));
    return;
  }
  if (call->command == "fs.listdir") return handle_listdir(s, fid, call.value());
  if (call->command == "napari.load_zarr") return handle_load(sp, fid, call.value());
  if (call->command == "napari.screenshot") return handle_screenshot(sp, fid, call.value());
  if (call->command == "napari.auto_contrast") return handle_auto_contrast(sp, fid, call.value());
  s.send(command_error(fid, "command.not_found", "unknown command '" + protocol::quote_prefix(call->command) + "'",
                       {{"commands", handshake.commands}}));
}

}  // namespace voxcast::server

#include "recent_connections.hpp"

namespace voxcast::viewer {

QStringList recent_connections(QSettings& settings) { return settings.value("recent").toStringList(); }

void remember_connection(QSettings& settings, const QString& connection) {
  QStringList recent = recent_connections(settings);
  recent.removeAll(connection);
  recent.prepend(connection);
  while (recent.size() > kRecentConnections) recent.removeLast();
  settings.setValue("recent", recent);
}

}  // namespace voxcast::viewer

#pragma once
// Recent connections, newest first, kept in the user's settings (QSettings "voxcast/viewer").
#include <QSettings>
#include <QStringList>

namespace voxcast::viewer {

constexpr int kRecentConnections = 10;
QStringList recent_connections(QSettings& settings);
// Puts `connection` first (once), keeping at most kRecentConnections.
void remember_connection(QSettings& settings, const QString& connection);

}  // namespace voxcast::viewer

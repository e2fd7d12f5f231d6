// PathWatcher on Linux: inotify watches on every directory below the configured paths.
#pragma once

#include "../platform.h"

#include <QElapsedTimer>
#include <QHash>
#include <QSet>

#include <chrono>
#include <memory>

namespace hotdesk::platform {

namespace detail {
class Inotify;
}

// One inotify instance (one descriptor, read through a QSocketNotifier: no
// timer, no wake-up unless something below the paths is touched). Each
// directory below a configured path has its own watch, added as directories
// appear (their contents found at that moment are reported as created, since
// files can be made before the new watch exists). Symbolic links inside the
// tree are not followed. Opening a directory (a listing) is not reported.
// Limits: fs.inotify.max_user_watches directories per user (problem() when it
// is reached), fs.inotify.max_user_instances instances.
class LinuxPathWatcher final : public PathWatcher {
    Q_OBJECT
public:
    struct Options {
        // The same path and kind within this window is reported once (an
        // editor's save is dozens of writes).
        std::chrono::milliseconds duplicateWindow {1000};
    };

    explicit LinuxPathWatcher(QObject *parent = nullptr);
    explicit LinuxPathWatcher(Options options, QObject *parent = nullptr);
    ~LinuxPathWatcher() override;

    void setPaths(const QStringList &paths) override;
    QStringList paths() const override { return m_paths; }

    // Directories watched now (tests, diagnostics).
    int watchCount() const { return int(m_watches.size()); }

private:
    struct Watch {
        QString dir;
        bool tree = false; // everything in it counts, subdirectories get watches
        QSet<QString> files; // only these entries count (a configured path that is a file)
        bool pending = false; // an ancestor of a configured path that does not exist yet
    };

    void rebuild();
    void addRoot(const QString &root);
    void addTree(const QString &dir, bool reportContents);
    Watch *addWatch(const QString &dir, quint32 mask);
    void removeTree(const QString &dir);
    void forget(int wd);
    void handle(int wd, quint32 mask, const QString &name);
    void resolvePending();
    void report(const QString &path, TouchKind kind);
    void reportProblem(const QString &message);

    Options m_options;
    QStringList m_paths;
    QStringList m_pending;
    detail::Inotify *m_inotify = nullptr; // a child
    QHash<int, Watch> m_watches;
    QHash<QString, int> m_wdByDir;
    QHash<QString, qint64> m_lastReported;
    QSet<QString> m_problems;
    QElapsedTimer m_clock;
    quint64 m_generation = 0;
};

} // namespace hotdesk::platform

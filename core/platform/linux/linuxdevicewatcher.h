// DeviceWatcher on Linux: who holds a camera (/dev/video*) or a capture PCM (/dev/snd/pcmC*D*c) open, from /proc/*/fd.
#pragma once

#include "../platform.h"

#include <QMap>
#include <QRegularExpression>
#include <QSet>

#include <chrono>
#include <memory>
#include <utility>

class QTimer;

namespace hotdesk::platform {

namespace detail {
class Inotify;
}

// Who holds a device open is read from the symbolic links in procRoot/PID/fd
// (only the user's own processes are readable unless the agent runs as root).
// When to read them: in Auto mode an inotify watch on each device node wakes
// the watcher when a node is opened or closed (no timer at all while nobody
// uses a camera or microphone), and a watch on the device directories follows
// devices being plugged in; in Periodic mode, or when a node or directory
// cannot be watched, every scanInterval.
//
// With PipeWire or PulseAudio the capture device is opened by the sound
// server, so the process reported for a microphone is the server, not the
// program that records.
class LinuxDeviceWatcher final : public DeviceWatcher {
    Q_OBJECT
public:
    struct DeviceClass {
        DeviceKind kind = DeviceKind::Camera;
        QString directory; // where the nodes live, e.g. /dev
        QRegularExpression name; // file names in it that are this kind
    };
    enum class Mode { Auto, Periodic };

    struct Options {
        QString procRoot = QStringLiteral("/proc");
        QList<DeviceClass> classes = defaultClasses();
        std::chrono::milliseconds scanInterval {3000};
        // After an open or close, so the process's descriptor table shows it.
        std::chrono::milliseconds settleDelay {100};
        Mode mode = Mode::Auto;
    };

    // video<N> in devRoot (cameras, V4L2) and pcmC<card>D<device>c in devRoot/snd (ALSA capture).
    static QList<DeviceClass> defaultClasses(const QString &devRoot = QStringLiteral("/dev"));

    explicit LinuxDeviceWatcher(QObject *parent = nullptr);
    explicit LinuxDeviceWatcher(Options options, QObject *parent = nullptr);
    ~LinuxDeviceWatcher() override;

    void setKinds(const QList<DeviceKind> &kinds) override;
    QList<DeviceKind> kinds() const override { return m_kinds; }
    QList<DeviceUse> inUse() const override { return m_inUse.values(); }
    // "inotify", "inotify+scan" (some node unwatchable), "scan"; empty while stopped.
    QString backend() const override { return m_backend; }

    // One scan at once (tests, diagnostics); signals go out before it returns.
    void scanNow();

private:
    void start();
    void stop();
    bool refreshWatches();
    void scheduleScan();
    bool isDeviceEntry(const QString &name) const;
    void scan();
    std::optional<DeviceKind> classify(const QByteArray &target) const;

    Options m_options;
    QByteArray m_procRoot;
    QList<DeviceKind> m_kinds;
    QString m_backend;
    // (pid, kind) -> the use reported
    QMap<std::pair<qint64, int>, DeviceUse> m_inUse;
    detail::Inotify *m_inotify = nullptr; // a child
    QSet<int> m_nodeWatches;
    QTimer *m_settle = nullptr;
    QTimer *m_periodic = nullptr;
};

} // namespace hotdesk::platform

// MachineWatchers: the Linux path and device watchers run by root, their events handed to logind sessions.
#include "machinewatchers.h"

#include "core/platform/linux/linuxdevicewatcher.h"
#include "core/platform/linux/linuxpathwatcher.h"
#include "core/platform/linux/procfs.h"

#include <QFile>
#include <QRegularExpression>

namespace hotdesk::daemon {

QStringList sessionsOfProcess(const QString &procRoot, qint64 pid, const QList<platform::LoginSession> &sessions)
{
    const QByteArray root = QFile::encodeName(procRoot);
    const QByteArray cgroup = platform::detail::readSmallFile(root + '/' + QByteArray::number(pid) + "/cgroup");
    static const QRegularExpression scope(QStringLiteral("/session-([A-Za-z0-9_-]+)\\.scope"));
    const QString id = scope.match(QString::fromUtf8(cgroup)).captured(1);
    for (const platform::LoginSession &session : sessions)
        if (!id.isEmpty() && session.id == id)
            return {id};
    const qint64 owner = platform::detail::processOwner(root, pid);
    QStringList ids;
    for (const platform::LoginSession &session : sessions)
        if (owner >= 0 && session.uid == uid_t(owner))
            ids << session.id;
    return ids;
}

QStringList activeSeatSessions(const QList<platform::LoginSession> &sessions)
{
    // logind calls a session without a seat (ssh, su -l) always active: nobody sits in front of it.
    QStringList ids;
    for (const platform::LoginSession &session : sessions)
        if (session.active && !session.seat.isEmpty())
            ids << session.id;
    return ids;
}

namespace {

policy::SensitiveDevice sensitiveDevice(platform::DeviceKind kind)
{
    return kind == platform::DeviceKind::Camera ? policy::SensitiveDevice::Camera : policy::SensitiveDevice::Microphone;
}

} // namespace

MachineWatchers::MachineWatchers(Options options, SessionList sessions, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_sessions(std::move(sessions))
{
    // The default duplicate window: an editor's save is dozens of events, one counts.
    m_paths = std::make_unique<platform::LinuxPathWatcher>();
    connect(m_paths.get(), &platform::PathWatcher::touched, this, [this](const QString &path, platform::TouchKind) {
        for (const QString &id : activeSeatSessions(m_sessions()))
            Q_EMIT pathTouched(id, path);
    });
    connect(m_paths.get(), &platform::PathWatcher::problem, this, &MachineWatchers::problem);

    // Auto: inotify on the device nodes wakes the watcher only when one is opened or closed.
    platform::LinuxDeviceWatcher::Options devices;
    devices.procRoot = m_options.procRoot;
    devices.classes = platform::LinuxDeviceWatcher::defaultClasses(m_options.devRoot);
    m_devices = std::make_unique<platform::LinuxDeviceWatcher>(devices);
    connect(m_devices.get(), &platform::DeviceWatcher::deviceInUse, this,
        [this](platform::DeviceKind kind, qint64 pid, const QString &) {
            for (const QString &id : holderSessions(pid, m_sessions()))
                Q_EMIT deviceInUse(id, sensitiveDevice(kind));
        });
    connect(m_devices.get(), &platform::DeviceWatcher::problem, this, &MachineWatchers::problem);
}

MachineWatchers::~MachineWatchers() = default;

QStringList MachineWatchers::holderSessions(qint64 pid, const QList<platform::LoginSession> &followed) const
{
    const QStringList ids = sessionsOfProcess(m_options.procRoot, pid, followed);
    return ids.isEmpty() ? activeSeatSessions(followed) : ids;
}

void MachineWatchers::sessionStarted(const QString &id)
{
    // Read again first: a holder that ended a moment ago no longer counts, and
    // one the scan finds only now is reported by the scan's own signal.
    const QList<platform::DeviceUse> before = m_devices->inUse();
    m_devices->scanNow();
    const QList<platform::LoginSession> followed = m_sessions();
    for (const platform::DeviceUse &use : m_devices->inUse())
        if (before.contains(use) && holderSessions(use.pid, followed).contains(id))
            Q_EMIT deviceInUse(id, sensitiveDevice(use.kind));
}

void MachineWatchers::configure(const QStringList &paths, const QList<policy::SensitiveDevice> &devices)
{
    m_wantedPaths = paths;
    m_wantedDevices = devices;
    if (m_started)
        apply();
}

void MachineWatchers::start()
{
    m_started = true;
    apply();
}

void MachineWatchers::apply()
{
    m_paths->setPaths(m_wantedPaths);
    QList<platform::DeviceKind> kinds;
    for (const policy::SensitiveDevice device : std::as_const(m_wantedDevices))
        kinds << (device == policy::SensitiveDevice::Camera ? platform::DeviceKind::Camera : platform::DeviceKind::Microphone);
    m_devices->setKinds(kinds);
}

} // namespace hotdesk::daemon

// LinuxDeviceWatcher: camera and microphone holders from /proc/*/fd, scanned when a device node is opened or closed.
#include "linuxdevicewatcher.h"

#include "inotify.h"
#include "procfs.h"

#include <QDir>
#include <QFile>
#include <QTimer>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace hotdesk::platform {

namespace {

constexpr quint32 kNodeMask = IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
constexpr quint32 kDirMask = IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MOVED_TO | IN_ONLYDIR;

QString parentOf(const QString &path)
{
    const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
    return slash <= 0 ? QStringLiteral("/") : path.left(slash);
}

} // namespace

QList<LinuxDeviceWatcher::DeviceClass> LinuxDeviceWatcher::defaultClasses(const QString &devRoot)
{
    return {
        {DeviceKind::Camera, devRoot, QRegularExpression(QStringLiteral("^video[0-9]+$"))},
        {DeviceKind::Microphone, QString(devRoot + QStringLiteral("/snd")),
            QRegularExpression(QStringLiteral("^pcmC[0-9]+D[0-9]+c$"))},
    };
}

LinuxDeviceWatcher::LinuxDeviceWatcher(QObject *parent)
    : LinuxDeviceWatcher(Options {}, parent)
{
}

LinuxDeviceWatcher::LinuxDeviceWatcher(Options options, QObject *parent)
    : DeviceWatcher(parent)
    , m_options(std::move(options))
    , m_procRoot(QFile::encodeName(m_options.procRoot))
{
    for (auto &deviceClass : m_options.classes)
        deviceClass.directory = QDir::cleanPath(deviceClass.directory);
}

LinuxDeviceWatcher::~LinuxDeviceWatcher()
{
    stop();
}

void LinuxDeviceWatcher::setKinds(const QList<DeviceKind> &kinds)
{
    QList<DeviceKind> cleaned;
    for (const DeviceKind kind : kinds) {
        if (!cleaned.contains(kind))
            cleaned << kind;
    }
    std::sort(cleaned.begin(), cleaned.end());
    if (cleaned == m_kinds && (!m_backend.isEmpty() || cleaned.isEmpty()))
        return;
    stop();
    m_kinds = cleaned;
    // Uses of kinds no longer watched are dropped without a release.
    for (auto it = m_inUse.begin(); it != m_inUse.end();)
        it = m_kinds.contains(it->kind) ? std::next(it) : m_inUse.erase(it);
    if (!m_kinds.isEmpty())
        start();
}

void LinuxDeviceWatcher::start()
{
    m_settle = new QTimer(this);
    m_settle->setSingleShot(true);
    connect(m_settle, &QTimer::timeout, this, &LinuxDeviceWatcher::scan);

    bool everythingWatched = false;
    if (m_options.mode == Mode::Auto) {
        m_inotify = new detail::Inotify(this);
        if (m_inotify->isValid()) {
            connect(m_inotify, &detail::Inotify::events, this, [this](const QList<detail::Inotify::Event> &batch) {
                bool devicesChanged = false;
                bool nodeUsed = false;
                for (const auto &event : batch) {
                    if (event.mask & IN_Q_OVERFLOW) {
                        devicesChanged = nodeUsed = true; // events were lost
                    } else if (event.mask & IN_IGNORED) {
                        m_nodeWatches.remove(event.wd);
                    } else if (m_nodeWatches.contains(event.wd)) {
                        nodeUsed = true;
                    } else if (isDeviceEntry(QFile::decodeName(event.name))) {
                        // A camera or sound card came or went; other entries
                        // of /dev (terminals changing owner, …) do not matter.
                        devicesChanged = nodeUsed = true;
                    }
                }
                if (devicesChanged && !refreshWatches() && !m_periodic) {
                    // A node appeared that cannot be watched: fall back to scanning.
                    m_backend = QStringLiteral("inotify+scan");
                    m_periodic = new QTimer(this);
                    m_periodic->setTimerType(Qt::CoarseTimer);
                    connect(m_periodic, &QTimer::timeout, this, &LinuxDeviceWatcher::scan);
                    m_periodic->start(m_options.scanInterval);
                }
                if (nodeUsed)
                    scheduleScan();
            });
            everythingWatched = refreshWatches();
        }
    }
    if (everythingWatched) {
        m_backend = QStringLiteral("inotify");
    } else {
        m_backend = m_inotify && m_inotify->isValid() ? QStringLiteral("inotify+scan") : QStringLiteral("scan");
        m_periodic = new QTimer(this);
        m_periodic->setTimerType(Qt::CoarseTimer);
        connect(m_periodic, &QTimer::timeout, this, &LinuxDeviceWatcher::scan);
        m_periodic->start(m_options.scanInterval);
    }
    scan(); // devices already in use when watching starts count too
}

// Later deletion: stop() may run inside a receiver of these objects' signals.
template <typename T> static void dispose(T *&object)
{
    if (!object)
        return;
    object->disconnect();
    object->deleteLater();
    object = nullptr;
}

void LinuxDeviceWatcher::stop()
{
    if (m_settle)
        m_settle->stop();
    if (m_periodic)
        m_periodic->stop();
    dispose(m_settle);
    dispose(m_periodic);
    dispose(m_inotify);
    m_nodeWatches.clear();
    m_backend.clear();
}

// Watches every node of a watched kind and the directories they appear in;
// false when something could not be watched (then only scanning sees it).
bool LinuxDeviceWatcher::refreshWatches()
{
    if (!m_inotify || !m_inotify->isValid())
        return false;
    bool all = true;
    for (const auto &deviceClass : std::as_const(m_options.classes)) {
        if (!m_kinds.contains(deviceClass.kind))
            continue;
        const QByteArray dir = QFile::encodeName(deviceClass.directory);
        if (m_inotify->addWatch(dir, kDirMask) < 0) {
            // No such directory yet (no sound card so far): wait for it from its parent.
            if (m_inotify->addWatch(QFile::encodeName(parentOf(deviceClass.directory)), kDirMask) < 0)
                all = false;
            continue;
        }
        const QStringList nodes = QDir(deviceClass.directory).entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot);
        for (const QString &node : nodes) {
            if (!deviceClass.name.match(node).hasMatch())
                continue;
            const int wd
                = m_inotify->addWatch(QFile::encodeName(QString(deviceClass.directory + QLatin1Char('/') + node)), kNodeMask);
            if (wd < 0)
                all = false;
            else
                m_nodeWatches.insert(wd);
        }
    }
    return all;
}

// A device node of a watched kind, or a device directory (e.g. snd) appearing.
bool LinuxDeviceWatcher::isDeviceEntry(const QString &name) const
{
    for (const auto &deviceClass : m_options.classes) {
        if (!m_kinds.contains(deviceClass.kind))
            continue;
        if (deviceClass.name.match(name).hasMatch() || deviceClass.directory.endsWith(QString(QLatin1Char('/') + name)))
            return true;
    }
    return false;
}

void LinuxDeviceWatcher::scheduleScan()
{
    // Several opens and closes in a row make one scan.
    if (m_settle && !m_settle->isActive())
        m_settle->start(m_options.settleDelay);
}

void LinuxDeviceWatcher::scanNow()
{
    if (!m_kinds.isEmpty())
        scan();
}

std::optional<DeviceKind> LinuxDeviceWatcher::classify(const QByteArray &target) const
{
    for (const auto &deviceClass : m_options.classes) {
        if (!m_kinds.contains(deviceClass.kind))
            continue;
        const QString path = QFile::decodeName(target);
        if (parentOf(path) == deviceClass.directory
            && deviceClass.name.match(path.mid(deviceClass.directory.size() + 1)).hasMatch())
            return deviceClass.kind;
    }
    return std::nullopt;
}

void LinuxDeviceWatcher::scan()
{
    // Device paths all start with one of these; other descriptors (files,
    // sockets, pipes: nearly all of them) are skipped without a QString.
    QList<QByteArray> prefixes;
    for (const auto &deviceClass : std::as_const(m_options.classes)) {
        if (m_kinds.contains(deviceClass.kind))
            prefixes << QFile::encodeName(QString(deviceClass.directory + QLatin1Char('/')));
    }
    QMap<std::pair<qint64, int>, DeviceUse> found;
    char target[4096];
    for (const qint64 pid : detail::listPids(m_procRoot)) {
        const QByteArray fdPath = m_procRoot + '/' + QByteArray::number(pid) + "/fd";
        DIR *fds = opendir(fdPath.constData());
        if (!fds)
            continue; // gone, or another user's process
        QList<DeviceKind> kindsHere;
        while (const dirent *entry = readdir(fds)) {
            if (entry->d_name[0] == '.')
                continue;
            const ssize_t n = readlinkat(dirfd(fds), entry->d_name, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            const QByteArray link(target, n);
            if (std::none_of(prefixes.cbegin(), prefixes.cend(), [&](const QByteArray &p) { return link.startsWith(p); }))
                continue;
            if (const auto kind = classify(link); kind && !kindsHere.contains(*kind))
                kindsHere << *kind;
        }
        closedir(fds);
        if (kindsHere.isEmpty())
            continue;
        const QString name = detail::readComm(m_procRoot, pid);
        for (const DeviceKind kind : std::as_const(kindsHere))
            found.insert({pid, int(kind)}, DeviceUse {kind, pid, name});
    }
    const auto before = m_inUse;
    m_inUse = found;
    for (auto it = before.cbegin(); it != before.cend(); ++it) {
        if (!found.contains(it.key()))
            Q_EMIT deviceReleased(it->kind, it->pid);
    }
    for (auto it = found.cbegin(); it != found.cend(); ++it) {
        if (!before.contains(it.key()))
            Q_EMIT deviceInUse(it->kind, it->pid, it->processName);
    }
}

} // namespace hotdesk::platform

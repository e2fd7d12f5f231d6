// LinuxPathWatcher: recursive inotify watches below the sensitive paths, with duplicate reports folded.
#include "linuxpathwatcher.h"

#include "inotify.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace hotdesk::platform {

namespace {

constexpr quint32 kTreeMask = IN_OPEN | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE
    | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
// A missing path's nearest existing ancestor: only its appearance matters.
constexpr quint32 kPendingMask = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

QString join(const QString &dir, const QString &name)
{
    return dir.endsWith(QLatin1Char('/')) ? QString(dir + name) : QString(dir + QLatin1Char('/') + name);
}

bool isBelowOrSame(const QString &path, const QString &dir)
{
    return path == dir || path.startsWith(dir.endsWith(QLatin1Char('/')) ? dir : QString(dir + QLatin1Char('/')));
}

QString parentOf(const QString &path)
{
    const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
    return slash <= 0 ? QStringLiteral("/") : path.left(slash);
}

QString clean(const QString &path)
{
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

} // namespace

LinuxPathWatcher::LinuxPathWatcher(QObject *parent)
    : LinuxPathWatcher(Options {}, parent)
{
}

LinuxPathWatcher::LinuxPathWatcher(Options options, QObject *parent)
    : PathWatcher(parent)
    , m_options(options)
{
    m_clock.start();
}

LinuxPathWatcher::~LinuxPathWatcher() = default;

void LinuxPathWatcher::setPaths(const QStringList &paths)
{
    QStringList cleaned;
    for (const QString &path : paths) {
        if (path.isEmpty())
            continue;
        const QString c = clean(path);
        if (!cleaned.contains(c))
            cleaned << c;
    }
    if (cleaned == m_paths && (m_inotify || cleaned.isEmpty()))
        return;
    m_paths = cleaned;
    rebuild();
}

void LinuxPathWatcher::rebuild()
{
    ++m_generation;
    if (m_inotify) {
        // Closing the descriptor drops every watch at once; later, since this
        // may run inside a receiver of the old instance's events.
        m_inotify->disconnect(this);
        m_inotify->deleteLater();
        m_inotify = nullptr;
    }
    m_watches.clear();
    m_wdByDir.clear();
    m_pending.clear();
    m_lastReported.clear();
    m_problems.clear();
    if (m_paths.isEmpty())
        return;
    m_inotify = new detail::Inotify(this);
    if (!m_inotify->isValid()) {
        reportProblem(tr("Sensitive paths cannot be watched: inotify failed (%1). Raise fs.inotify.max_user_instances or "
                         "close programs that use many inotify instances.")
                          .arg(m_inotify->error()));
        delete m_inotify;
        m_inotify = nullptr;
        return;
    }
    const quint64 generation = m_generation;
    connect(m_inotify, &detail::Inotify::events, this, [this, generation](const QList<detail::Inotify::Event> &batch) {
        const bool hadPending = !m_pending.isEmpty();
        bool appeared = false;
        for (const auto &event : batch) {
            if (generation != m_generation)
                return; // a receiver of touched() changed the paths
            if (event.wd >= 0 && hadPending && (event.mask & (IN_CREATE | IN_MOVED_TO)) && m_watches.value(event.wd).pending)
                appeared = true;
            handle(event.wd, event.mask, QFile::decodeName(event.name));
        }
        if (appeared)
            resolvePending();
    });
    for (const QString &root : std::as_const(m_paths))
        addRoot(root);
}

void LinuxPathWatcher::addRoot(const QString &root)
{
    struct stat st { };
    if (stat(QFile::encodeName(root).constData(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            addTree(root, false);
        } else if (Watch *watch = addWatch(parentOf(root), kTreeMask)) {
            watch->files.insert(root.mid(parentOf(root).size() + (parentOf(root) == QLatin1String("/") ? 0 : 1)));
        }
        return;
    }
    // Not there (yet): wait for it from the nearest ancestor that is.
    if (!m_pending.contains(root))
        m_pending << root;
    QString ancestor = parentOf(root);
    while (ancestor != QLatin1String("/") && stat(QFile::encodeName(ancestor).constData(), &st) != 0)
        ancestor = parentOf(ancestor);
    if (Watch *watch = addWatch(ancestor, kPendingMask))
        watch->pending = true;
}

LinuxPathWatcher::Watch *LinuxPathWatcher::addWatch(const QString &dir, quint32 mask)
{
    const int wd = m_inotify->addWatch(QFile::encodeName(dir), mask | IN_MASK_ADD);
    if (wd < 0) {
        const int error = errno;
        if (error == ENOSPC) {
            reportProblem(tr("Not every directory below the sensitive paths is watched: the inotify watch limit is reached. "
                             "Raise fs.inotify.max_user_watches (sysctl)."));
        } else if (error != ENOENT && error != ENOTDIR) {
            reportProblem(tr("The directory %1 cannot be watched (%2); files in it are not noticed. Give this user read "
                             "access to it.")
                              .arg(dir, QString::fromLocal8Bit(strerror(error))));
        }
        return nullptr;
    }
    auto it = m_watches.find(wd);
    if (it == m_watches.end()) {
        it = m_watches.insert(wd, Watch {dir, false, {}, false});
        m_wdByDir.insert(dir, wd);
    }
    return &it.value();
}

void LinuxPathWatcher::addTree(const QString &dir, bool reportContents)
{
    const quint64 generation = m_generation;
    QStringList todo {dir};
    while (!todo.isEmpty() && generation == m_generation) {
        const QString current = todo.takeLast();
        Watch *watch = addWatch(current, kTreeMask);
        if (!watch)
            continue;
        watch->tree = true;
        QDirIterator entries(current, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System);
        while (entries.hasNext()) {
            const QString path = entries.next();
            const QFileInfo info = entries.fileInfo();
            // Made before its directory's watch existed: reported here or never.
            if (reportContents)
                report(path, TouchKind::Created);
            if (generation != m_generation)
                return;
            if (info.isDir() && !info.isSymLink())
                todo << path;
        }
    }
}

void LinuxPathWatcher::removeTree(const QString &dir)
{
    const QList<int> wds = m_watches.keys();
    for (const int wd : wds) {
        if (isBelowOrSame(m_watches.value(wd).dir, dir)) {
            m_inotify->removeWatch(wd);
            forget(wd);
        }
    }
}

void LinuxPathWatcher::forget(int wd)
{
    const auto it = m_watches.constFind(wd);
    if (it == m_watches.constEnd())
        return;
    if (m_wdByDir.value(it->dir, -1) == wd)
        m_wdByDir.remove(it->dir);
    m_watches.erase(it);
}

void LinuxPathWatcher::handle(int wd, quint32 mask, const QString &name)
{
    if (mask & IN_Q_OVERFLOW) {
        // Events were lost: anything below any path may have been touched.
        const QStringList roots = m_paths;
        for (const QString &root : roots)
            report(root, TouchKind::Unknown);
        return;
    }
    const auto it = m_watches.constFind(wd);
    if (it == m_watches.constEnd())
        return; // a watch removed a moment ago
    const Watch watch = *it;
    if (mask & IN_IGNORED) {
        forget(wd);
        // A root, a file root's directory or a pending root's ancestor went
        // away: wait for the root to come back.
        for (const QString &root : std::as_const(m_paths)) {
            if ((watch.tree && root == watch.dir) || (!watch.files.isEmpty() && parentOf(root) == watch.dir)
                || (watch.pending && m_pending.contains(root)))
                addRoot(root);
        }
        return;
    }
    if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        if (watch.tree && m_paths.contains(watch.dir)) {
            const quint64 generation = m_generation;
            report(watch.dir, (mask & IN_DELETE_SELF) ? TouchKind::Deleted : TouchKind::MovedFrom);
            if ((mask & IN_MOVE_SELF) && generation == m_generation) {
                // The watch would follow the directory to wherever it went.
                removeTree(watch.dir);
                addRoot(watch.dir);
            }
        }
        return;
    }
    if (name.isEmpty())
        return;
    if (!watch.tree && !watch.files.contains(name))
        return;
    const QString path = join(watch.dir, name);
    const bool isDir = mask & IN_ISDIR;
    // A receiver of touched() may change the paths; then this event is done.
    const quint64 generation = m_generation;
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
        report(path, (mask & IN_CREATE) ? TouchKind::Created : TouchKind::MovedTo);
        if (isDir && watch.tree && generation == m_generation)
            addTree(path, true);
    } else if (mask & IN_MOVED_FROM) {
        report(path, TouchKind::MovedFrom);
        if (isDir && generation == m_generation)
            removeTree(path);
    } else if (mask & IN_DELETE) {
        report(path, TouchKind::Deleted);
    } else if ((mask & IN_OPEN) && !isDir) {
        report(path, TouchKind::Opened);
    } else if (mask & IN_MODIFY) {
        report(path, TouchKind::Modified);
    } else if (mask & IN_CLOSE_WRITE) {
        report(path, TouchKind::Written);
    }
}

void LinuxPathWatcher::resolvePending()
{
    const QStringList pending = m_pending;
    m_pending.clear();
    struct stat st { };
    const quint64 generation = m_generation;
    for (const QString &root : pending) {
        if (generation != m_generation)
            return;
        const bool exists = stat(QFile::encodeName(root).constData(), &st) == 0;
        addRoot(root); // watches it, or waits for it again from a nearer ancestor
        if (exists)
            report(root, TouchKind::Created);
    }
}

void LinuxPathWatcher::report(const QString &path, TouchKind kind)
{
    const qint64 now = m_clock.elapsed();
    const qint64 window = m_options.duplicateWindow.count();
    if (window > 0) {
        const QString key = QString(QString::number(int(kind)) + QLatin1Char('|') + path);
        const auto it = m_lastReported.constFind(key);
        if (it != m_lastReported.constEnd() && now - *it < window)
            return;
        if (m_lastReported.size() > 4096) {
            for (auto old = m_lastReported.begin(); old != m_lastReported.end();)
                old = now - *old >= window ? m_lastReported.erase(old) : std::next(old);
        }
        m_lastReported.insert(key, now);
    }
    Q_EMIT touched(path, kind);
}

void LinuxPathWatcher::reportProblem(const QString &message)
{
    if (m_problems.contains(message))
        return;
    m_problems.insert(message);
    Q_EMIT problem(message);
}

} // namespace hotdesk::platform

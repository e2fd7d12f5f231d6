// LinuxProcessWatcher: program starts from the kernel's proc connector or from comparing /proc between scans.
#include "linuxprocesswatcher.h"

#include "procfs.h"

#include <QFile>
#include <QSocketNotifier>
#include <QTimer>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace hotdesk::platform {

namespace {

constexpr int kCommLength = 15; // TASK_COMM_LEN - 1

// Sends the netlink message that (un)subscribes from process events: a
// netlink header, a connector header, then the operation. Assembled in bytes
// because cn_msg ends in a flexible array.
bool sendMcast(int fd, proc_cn_mcast_op op)
{
    constexpr size_t size = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
    alignas(nlmsghdr) char buffer[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    auto *header = reinterpret_cast<nlmsghdr *>(buffer);
    header->nlmsg_len = size;
    header->nlmsg_type = NLMSG_DONE;
    header->nlmsg_pid = 0;
    auto *message = static_cast<cn_msg *>(NLMSG_DATA(header));
    message->id.idx = CN_IDX_PROC;
    message->id.val = CN_VAL_PROC;
    message->len = sizeof(proc_cn_mcast_op);
    std::memcpy(message->data, &op, sizeof(op));
    return send(fd, buffer, size, 0) == ssize_t(size);
}

// Calls onEvent for every proc_event in one datagram.
template <typename F> void forEachEvent(const char *buffer, ssize_t length, F onEvent)
{
    auto *header = reinterpret_cast<const nlmsghdr *>(buffer);
    for (int left = int(length); NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
        if (header->nlmsg_type == NLMSG_NOOP || header->nlmsg_type == NLMSG_ERROR || header->nlmsg_type == NLMSG_OVERRUN)
            continue;
        auto *message = static_cast<const cn_msg *>(NLMSG_DATA(header));
        if (message->id.idx != CN_IDX_PROC || message->id.val != CN_VAL_PROC || message->len < sizeof(proc_event))
            continue;
        proc_event event;
        std::memcpy(&event, message->data, sizeof(event));
        onEvent(event);
    }
}

} // namespace

LinuxProcessWatcher::LinuxProcessWatcher(QObject *parent)
    : LinuxProcessWatcher(Options {}, parent)
{
}

LinuxProcessWatcher::LinuxProcessWatcher(Options options, QObject *parent)
    : ProcessWatcher(parent)
    , m_options(std::move(options))
    , m_procRoot(QFile::encodeName(m_options.procRoot))
    , m_uid(qint64(getuid()))
{
}

LinuxProcessWatcher::~LinuxProcessWatcher()
{
    stop();
}

void LinuxProcessWatcher::setNames(const QStringList &names)
{
    QStringList cleaned;
    for (const QString &name : names) {
        if (!name.isEmpty() && !cleaned.contains(name))
            cleaned << name;
    }
    m_names = cleaned;
    if (m_names.isEmpty()) {
        stop();
        return;
    }
    if (!m_backend.isEmpty())
        return; // already running: the new names apply from the next event or scan
    QString why;
    if (m_options.mode != Mode::Scan && startConnector(&why))
        return;
    if (m_options.mode == Mode::ProcConnector)
        Q_EMIT problem(
            tr("Program starts are watched by scanning /proc: the kernel's process events are not available (%1).").arg(why));
    startScan();
}

void LinuxProcessWatcher::stop()
{
    // Later deletion: stop() may run inside a receiver of processStarted().
    if (m_timer) {
        m_timer->stop();
        m_timer->disconnect(this);
        m_timer->deleteLater();
        m_timer = nullptr;
    }
    if (m_notifier) {
        m_notifier->setEnabled(false);
        m_notifier->disconnect(this);
        m_notifier->deleteLater();
        m_notifier = nullptr;
    }
    if (m_socket >= 0) {
        sendMcast(m_socket, PROC_CN_MCAST_IGNORE);
        close(m_socket);
        m_socket = -1;
    }
    m_seen.clear();
    m_reported.clear();
    m_backend.clear();
}

bool LinuxProcessWatcher::startConnector(QString *why)
{
    const int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (fd < 0) {
        *why = QString::fromLocal8Bit(strerror(errno));
        return false;
    }
    sockaddr_nl address {};
    address.nl_family = AF_NETLINK;
    address.nl_groups = CN_IDX_PROC;
    address.nl_pid = 0; // the kernel picks a unique port
    // Room for bursts (a build starting hundreds of compilers) while the
    // event loop is busy; the kernel caps it at net.core.rmem_max.
    const int receiveBuffer = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof(receiveBuffer));
    if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 || !sendMcast(fd, PROC_CN_MCAST_LISTEN)) {
        *why = QString::fromLocal8Bit(strerror(errno));
        close(fd);
        return false;
    }
    // The kernel answers the subscription with an acknowledgement carrying an
    // error number; outside the initial PID namespace it answers nothing.
    // Other events may come first.
    alignas(nlmsghdr) char buffer[8192];
    bool acknowledged = false;
    int error = 0;
    for (int round = 0; round < 20 && !acknowledged; ++round) {
        pollfd p {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0)
            continue;
        forEachEvent(buffer, n, [&](const proc_event &event) {
            if (event.what == proc_event::PROC_EVENT_NONE) {
                acknowledged = true;
                error = int(event.event_data.ack.err);
            }
        });
    }
    if (!acknowledged || error != 0) {
        *why = acknowledged ? QString::fromLocal8Bit(strerror(error)) : tr("no answer from the kernel");
        close(fd);
        return false;
    }
    m_socket = fd;
    m_notifier = new QSocketNotifier(qintptr(fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &LinuxProcessWatcher::readConnector);
    m_backend = QStringLiteral("proc-connector");
    // What runs now is not a start; after lost events (ENOBUFS) a scan
    // against this baseline finds what started meanwhile.
    scan(true);
    return true;
}

void LinuxProcessWatcher::readConnector()
{
    alignas(nlmsghdr) char buffer[16384];
    for (;;) {
        const ssize_t n = recv(m_socket, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) {
            // The kernel dropped events: compare /proc with the last look instead.
            scan(false);
            continue;
        }
        if (n <= 0)
            return;
        forEachEvent(buffer, n, [this](const proc_event &event) {
            if (event.what == proc_event::PROC_EVENT_EXEC) {
                check(qint64(event.event_data.exec.process_tgid));
            } else if (event.what == proc_event::PROC_EVENT_EXIT
                && event.event_data.exit.process_pid == event.event_data.exit.process_tgid) {
                m_reported.remove(qint64(event.event_data.exit.process_tgid));
            }
        });
    }
}

void LinuxProcessWatcher::startScan()
{
    m_backend = QStringLiteral("proc-scan");
    scan(true);
    m_timer = new QTimer(this);
    m_timer->setTimerType(Qt::CoarseTimer);
    connect(m_timer, &QTimer::timeout, this, [this] { scan(false); });
    m_timer->start(m_options.scanInterval);
}

void LinuxProcessWatcher::scanNow()
{
    if (m_backend == QLatin1String("proc-scan"))
        scan(false);
}

void LinuxProcessWatcher::scan(bool baseline)
{
    const QList<qint64> pids = detail::listPids(m_procRoot);
    QHash<qint64, int> seen;
    seen.reserve(pids.size());
    for (const qint64 pid : pids) {
        if (baseline) {
            seen.insert(pid, m_options.recheckScans + 1);
            continue;
        }
        const auto it = m_seen.constFind(pid);
        const int age = it == m_seen.constEnd() ? 0 : std::min(*it + 1, m_options.recheckScans + 1);
        // A process still inside exec() does not use up its second looks.
        const bool undecided = age <= m_options.recheckScans && !check(pid);
        seen.insert(pid, undecided ? 0 : age);
    }
    m_seen = std::move(seen);
    // Forget reports of processes that are gone, so a reused id counts again.
    QSet<qint64> alive(pids.cbegin(), pids.cend());
    for (auto it = m_reported.begin(); it != m_reported.end();) {
        if (alive.contains(it.key()))
            ++it;
        else
            it = m_reported.erase(it);
    }
}

bool LinuxProcessWatcher::check(qint64 pid)
{
    if (m_options.ownProcessesOnly && detail::processOwner(m_procRoot, pid) != m_uid)
        return true;
    bool decided = true;
    const QString name = matchingName(pid, &decided);
    if (!name.isEmpty() && m_reported.value(pid) != name) {
        m_reported.insert(pid, name);
        Q_EMIT processStarted(name, pid);
    }
    return decided;
}

QString LinuxProcessWatcher::matchingName(qint64 pid, bool *decided) const
{
    const QString comm = detail::readComm(m_procRoot, pid);
    if (comm.isEmpty())
        return {};
    // For names longer than comm: the program file's name (set before comm
    // during exec), else argv[0] or, for a script, argv[1] (the command line
    // is only readable once exec has finished).
    std::optional<QStringList> longNames;
    for (const QString &name : m_names) {
        if (name == comm)
            return name;
        if (name.toUtf8().size() > kCommLength && name.startsWith(comm) && comm.toUtf8().size() >= kCommLength - 1) {
            if (!longNames)
                longNames = QStringList {detail::readExeName(m_procRoot, pid)} + detail::readArgvNames(m_procRoot, pid);
            if (longNames->contains(name))
                return name;
            // No command line yet: exec() is still loading the program.
            if (longNames->size() == 1)
                *decided = false;
        }
    }
    // Not by name: perhaps by content (a copy under another name).
    return matchProgramIdentity(m_procRoot, pid, m_programs).value_or(QString());
}

} // namespace hotdesk::platform

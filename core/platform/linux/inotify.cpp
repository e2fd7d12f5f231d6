// Inotify: one inotify descriptor, its events decoded in batches on the event loop.
#include "inotify.h"

#include <QList>
#include <QSocketNotifier>

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hotdesk::platform::detail {

Inotify::Inotify(QObject *parent)
    : QObject(parent)
    , m_fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
{
    if (m_fd < 0) {
        m_error = QString::fromLocal8Bit(strerror(errno));
        return;
    }
    m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Inotify::read);
}

Inotify::~Inotify()
{
    delete m_notifier;
    if (m_fd >= 0)
        close(m_fd);
}

int Inotify::addWatch(const QByteArray &path, quint32 mask)
{
    if (m_fd < 0) {
        errno = EBADF;
        return -1;
    }
    return inotify_add_watch(m_fd, path.constData(), mask);
}

void Inotify::removeWatch(int wd)
{
    if (m_fd >= 0 && wd >= 0)
        inotify_rm_watch(m_fd, wd);
}

void Inotify::read()
{
    alignas(inotify_event) char buffer[65536];
    QList<Event> batch;
    for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t offset = 0; offset + ssize_t(sizeof(inotify_event)) <= n;) {
            inotify_event header;
            std::memcpy(&header, buffer + offset, sizeof(header));
            Event event;
            event.wd = header.wd;
            event.mask = header.mask;
            if (header.len > 0)
                event.name = QByteArray(buffer + offset + sizeof(inotify_event),
                    qstrnlen(buffer + offset + sizeof(inotify_event), header.len)); // NUL-padded
            batch << event;
            offset += ssize_t(sizeof(inotify_event) + header.len);
        }
    }
    if (!batch.isEmpty())
        Q_EMIT events(batch);
}

} // namespace hotdesk::platform::detail

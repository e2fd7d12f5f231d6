// A non-blocking inotify instance read through a QSocketNotifier, shared by the path and device watchers.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

#include <sys/inotify.h>

class QSocketNotifier;

namespace hotdesk::platform::detail {

class Inotify final : public QObject {
    Q_OBJECT
public:
    struct Event {
        int wd = -1;
        quint32 mask = 0;
        QByteArray name; // empty for events on the watched directory itself
    };

    explicit Inotify(QObject *parent = nullptr);
    ~Inotify() override;

    bool isValid() const { return m_fd >= 0; }
    QString error() const { return m_error; }

    // The watch descriptor, or -1 with errno set.
    int addWatch(const QByteArray &path, quint32 mask);
    void removeWatch(int wd);

Q_SIGNALS:
    // All events of one read (one wake-up) at once.
    void events(const QList<hotdesk::platform::detail::Inotify::Event> &batch);

private:
    void read();

    int m_fd = -1;
    QString m_error;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace hotdesk::platform::detail

// The account password checked through PAM (service "hotdesk-offline") on a worker thread, with a timeout.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace hotdesk::daemon {

enum class PasswordVerdict {
    Accepted, // pam_authenticate and pam_acct_mgmt said yes
    Rejected, // a wrong password, an unknown user, an expired or barred account
    Unavailable, // PAM could not decide (no service file, a module that failed)
    TimedOut, // PAM did not answer within the timeout
};

struct PasswordOutcome {
    PasswordVerdict verdict = PasswordVerdict::Unavailable;
    QString detail; // PAM's word for it (pam_strerror); never the password
};

// The PAM service hotdeskd's offline unlock uses (packaging/pam/hotdesk-offline).
inline constexpr char kOfflinePamService[] = "hotdesk-offline";

class PasswordCheck : public QObject {
    Q_OBJECT
public:
    // confDir: a directory of PAM service files (pam_start_confdir), test builds
    // only; empty: the system's (/etc/pam.d).
    explicit PasswordCheck(
        QString confDir = {}, std::chrono::milliseconds timeout = std::chrono::seconds(20), QObject *parent = nullptr);

    // Checks user's password off the event loop; done runs once, on this
    // object's thread, unless this object is gone. The password is zeroed
    // after PAM has it. While kMaxWorkers checks are still inside PAM (a
    // module that never returns outlives its timeout), the next one is
    // Unavailable at once instead of leaving one more thread behind.
    void check(const QString &user, QByteArray password, std::function<void(const PasswordOutcome &)> done);

    // Workers still inside PAM, answered or not.
    int workersRunning() const { return m_workers->load(); }
    static constexpr int kMaxWorkers = 4;

private:
    QString m_confDir;
    std::chrono::milliseconds m_timeout;
    // Shared with the workers, which may outlive this object.
    std::shared_ptr<std::atomic<int>> m_workers = std::make_shared<std::atomic<int>>(0);
};

// Overwrites the bytes (not optimised away).
void wipe(QByteArray &bytes);
void wipe(QString &text);

} // namespace hotdesk::daemon

// PAM on a worker thread: modules block (pam_faildelay, a slow directory), the daemon's event loop must not.
#include "passwordcheck.h"

#include <QFile>
#include <QTimer>

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace hotdesk::daemon {
namespace {

struct Conversation {
    const char *password = nullptr;
    bool answered = false;
};

void freeResponses(pam_response *responses, int count)
{
    for (int i = 0; i < count; ++i) {
        if (char *text = responses[i].resp) {
            explicit_bzero(text, std::strlen(text));
            std::free(text);
        }
    }
    std::free(responses);
}

// The password for the one hidden prompt; anything else asked for (a visible
// prompt, a second password) is more than this check can answer.
int converse(int count, const pam_message **messages, pam_response **answers, void *data)
{
    auto *conversation = static_cast<Conversation *>(data);
    if (count <= 0 || count > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    auto *responses = static_cast<pam_response *>(std::calloc(size_t(count), sizeof(pam_response)));
    if (!responses)
        return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        switch (messages[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            if (!conversation->answered) {
                conversation->answered = true;
                responses[i].resp = strdup(conversation->password);
                if (responses[i].resp)
                    break;
            }
            freeResponses(responses, count);
            return PAM_CONV_ERR;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            break;
        default:
            freeResponses(responses, count);
            return PAM_CONV_ERR;
        }
    }
    *answers = responses;
    return PAM_SUCCESS;
}

PasswordVerdict verdictOf(int code)
{
    switch (code) {
    case PAM_SUCCESS:
        return PasswordVerdict::Accepted;
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_MAXTRIES:
    case PAM_ACCT_EXPIRED:
    case PAM_NEW_AUTHTOK_REQD:
    case PAM_PERM_DENIED:
    case PAM_CRED_INSUFFICIENT:
        return PasswordVerdict::Rejected;
    default:
        return PasswordVerdict::Unavailable;
    }
}

PasswordOutcome runPam(const QByteArray &user, const QByteArray &confDir, const char *password)
{
    Conversation conversation {password, false};
    const pam_conv conv {converse, &conversation};
    pam_handle_t *handle = nullptr;
    int code = confDir.isEmpty() ? pam_start(kOfflinePamService, user.constData(), &conv, &handle)
                                 : pam_start_confdir(kOfflinePamService, user.constData(), &conv, confDir.constData(), &handle);
    if (code != PAM_SUCCESS || !handle)
        return {PasswordVerdict::Unavailable, QStringLiteral("pam_start failed (%1)").arg(code)};
    const int flags = PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK;
    code = pam_authenticate(handle, flags);
    // An expired or barred account is no way in either.
    if (code == PAM_SUCCESS)
        code = pam_acct_mgmt(handle, flags);
    const QString detail = QString::fromLocal8Bit(pam_strerror(handle, code));
    pam_end(handle, code);
    return {verdictOf(code), detail};
}

// One check's result on its way back: the receiver lives on the event loop, the worker may outlive it.
struct Delivery {
    std::mutex mutex;
    QObject *receiver = nullptr; // null once the check was answered (timeout) or its owner went away
    std::function<void(const PasswordOutcome &)> done;

    void deliver(const PasswordOutcome &outcome)
    {
        std::function<void(const PasswordOutcome &)> call;
        {
            std::lock_guard lock(mutex);
            if (!receiver)
                return;
            receiver = nullptr;
            call = std::move(done);
        }
        call(outcome);
    }
};

} // namespace

void wipe(QByteArray &bytes)
{
    if (!bytes.isEmpty())
        explicit_bzero(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

void wipe(QString &text)
{
    if (!text.isEmpty())
        explicit_bzero(text.data(), size_t(text.size()) * sizeof(QChar));
    text.clear();
}

PasswordCheck::PasswordCheck(QString confDir, std::chrono::milliseconds timeout, QObject *parent)
    : QObject(parent)
    , m_confDir(std::move(confDir))
    , m_timeout(timeout)
{
}

void PasswordCheck::check(const QString &user, QByteArray password, std::function<void(const PasswordOutcome &)> done)
{
    if (m_workers->load() >= kMaxWorkers) {
        wipe(password);
        const PasswordOutcome busy {
            PasswordVerdict::Unavailable, QStringLiteral("%1 earlier PAM checks have not returned yet").arg(m_workers->load())};
        QMetaObject::invokeMethod(
            this, [done = std::move(done), busy] { done(busy); }, Qt::QueuedConnection);
        return;
    }
    // The answer comes through a timer object that dies with this PasswordCheck: a worker
    // that finishes after that (or after the timeout) finds no one to tell.
    auto *answer = new QTimer(this);
    answer->setSingleShot(true);
    auto delivery = std::make_shared<Delivery>();
    delivery->receiver = answer;
    delivery->done = [answer, done = std::move(done)](const PasswordOutcome &outcome) {
        answer->deleteLater();
        done(outcome);
    };
    connect(answer, &QObject::destroyed, [delivery] {
        std::lock_guard lock(delivery->mutex);
        delivery->receiver = nullptr;
    });
    connect(answer, &QTimer::timeout, answer, [delivery, timeout = m_timeout] {
        delivery->deliver(
            {PasswordVerdict::TimedOut, QStringLiteral("PAM did not answer within %1 ms").arg(qint64(timeout.count()))});
    });
    answer->start(m_timeout);
    ++*m_workers;
    std::thread([delivery, workers = m_workers, user = user.toUtf8(), confDir = QFile::encodeName(m_confDir),
                    password = std::move(password)]() mutable {
        const PasswordOutcome outcome = runPam(user, confDir, password.constData());
        wipe(password);
        --*workers;
        std::lock_guard lock(delivery->mutex);
        if (QObject *receiver = delivery->receiver)
            QMetaObject::invokeMethod(
                receiver, [delivery, outcome] { delivery->deliver(outcome); }, Qt::QueuedConnection);
    }).detach();
}

} // namespace hotdesk::daemon

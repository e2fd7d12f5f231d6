// "Enroll this PC…" in the tray: an administrator signs in with their phone in a window of Hotdesk, and the PC enrolls (flow 3 without a token).
#pragma once

#include "agentcontext.h"
#include "core/result.h"

#include <QInputDialog>
#include <QObject>
#include <QPointer>

#include <memory>

namespace hotdesk::flow {
class AuthorizationFrontend;
}

namespace hotdesk::cli {

class AgentContext;

// One enrollment at a time. It keeps a context of its own, apart from the
// agent's, whose DAS client holds the credential being replaced. Progress and
// the outcome are signals; the agent audits them and tells the person.
class TrayEnrollment : public QObject {
    Q_OBJECT
public:
    TrayEnrollment(QString policyFile, QString stateDir, AgentEnvironment environment, QObject *parent = nullptr);
    ~TrayEnrollment() override;

    // Asks for the administrator's user name, then signs them in and enrolls.
    void start();
    // The same without asking, for an administrator already named.
    void enrollAs(const QString &admin);
    bool isRunning() const { return m_running; }
    // The dialog that asks for the name while it is open (for tests and keyboard focus).
    QInputDialog *nameDialog() const { return m_dialog; }

Q_SIGNALS:
    void progress(const QString &line);
    void enrolled(const QString &admin, const QString &deviceId, const QString &dasUrl);
    void failed(const QString &admin, const hotdesk::Error &error);

private:
    void finish(const QString &admin, Result<std::pair<QString, QString>> outcome);

    QString m_policyFile;
    QString m_stateDir;
    AgentEnvironment m_environment;
    bool m_running = false;
    QPointer<QInputDialog> m_dialog;
    std::unique_ptr<AgentContext> m_context;
    std::unique_ptr<flow::AuthorizationFrontend> m_frontend;
};

} // namespace hotdesk::cli

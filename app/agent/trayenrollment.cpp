// "Enroll this PC…": the administrator's name, their sign-in in a window of Hotdesk, then the key exchange.
#include "trayenrollment.h"

#include "agentcontext.h"
#include "enrollcommand.h"
#include "flowrunner.h"
#include "core/flow/frontend.h"
#include "core/trustoverrides.h"

#include <QInputDialog>

namespace hotdesk::cli {

TrayEnrollment::TrayEnrollment(QString policyFile, QString stateDir, AgentEnvironment environment, QObject *parent)
    : QObject(parent)
    , m_policyFile(std::move(policyFile))
    , m_stateDir(std::move(stateDir))
    , m_environment(std::move(environment))
{
}

TrayEnrollment::~TrayEnrollment()
{
    if (m_frontend)
        m_frontend->close();
    delete m_dialog;
}

void TrayEnrollment::start()
{
    if (m_running)
        return;
    if (m_dialog) {
        m_dialog->raise();
        m_dialog->activateWindow();
        return;
    }
    auto *dialog = new QInputDialog;
    dialog->setObjectName(QStringLiteral("enroll-admin-dialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Enroll this PC"));
    dialog->setLabelText(tr("An administrator enrolls this PC with the device authentication server: "
                            "sign in with your phone as you always do.\n\nAdministrator's user name:"));
    dialog->setOkButtonText(tr("&Sign in"));
    dialog->setInputMode(QInputDialog::TextInput);
    dialog->setAccessibleName(tr("Enroll this PC"));
    m_dialog = dialog;
    connect(dialog, &QInputDialog::textValueSelected, this, [this](const QString &name) {
        if (!name.trimmed().isEmpty())
            enrollAs(name.trimmed());
    });
    dialog->open();
}

void TrayEnrollment::enrollAs(const QString &admin)
{
    if (m_running)
        return;
    m_running = true;
    // The device key belongs to hotdeskd, in a file only root reads; the tray runs as the user.
    if (enrollsForDaemon(false, isTestBuild()))
        return finish(admin,
            fail(ErrorCode::AccessDenied,
                tr("This PC is enrolled by an administrator with root rights: sudo hotdesk enroll (see hotdesk enroll --help).")));
    // A fresh context: the policy and the keychain as they are now.
    auto context = AgentContext::create(m_policyFile, m_stateDir, m_environment);
    if (!context)
        return finish(admin, tl::unexpected(context.error()));
    m_context = std::move(*context);
    auto target = das::enrollTargetFor(m_context->policy(), std::nullopt);
    if (!target)
        return finish(admin, tl::unexpected(target.error()));
    auto frontend = makeFrontend(BrowserMode::Embedded, *m_context);
    if (!frontend)
        return finish(admin, tl::unexpected(frontend.error()));
    m_frontend = std::move(*frontend);
    Q_EMIT progress(tr("%1 signs in to enroll this PC").arg(admin));
    QPointer<TrayEnrollment> self(this);
    enrollByAdminSignIn(*m_context, *target, *m_frontend, admin, [self, admin](Result<store::EnrollmentRecord> record) {
        if (!self)
            return;
        if (!record)
            return self->finish(admin, tl::unexpected(record.error()));
        self->finish(admin, std::pair {record->deviceId, record->dasUrl});
    });
}

void TrayEnrollment::finish(const QString &admin, Result<std::pair<QString, QString>> outcome)
{
    m_running = false;
    if (m_frontend)
        m_frontend->close();
    // Later: this may run inside a callback of what it deletes.
    if (m_frontend)
        m_frontend.release()->deleteLater();
    if (m_context)
        m_context.release()->deleteLater();
    if (outcome)
        Q_EMIT enrolled(admin, outcome->first, outcome->second);
    else
        Q_EMIT failed(admin, outcome.error());
}

} // namespace hotdesk::cli

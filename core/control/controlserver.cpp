// The control socket's server side: one JSON request per line (jsonlines.h), per-user.
#include "controlserver.h"

#include "jsonlines.h"

#include "../jose/strictjson.h"
#include "../platform/platform.h"
#include "../trustoverrides.h"

#include <QDir>
#include <QLocalServer>
#include <QLocalSocket>

#if defined(Q_OS_UNIX)
#include <unistd.h>
#endif

namespace hotdesk::control {
namespace {

QJsonObject errorAnswer(const char *code)
{
    return {{QStringLiteral("ok"), false}, {QStringLiteral("error"), QLatin1String(code)}};
}

} // namespace

QString agentStateName(AgentState state)
{
    switch (state) {
    case AgentState::Ok: return QStringLiteral("ok");
    case AgentState::ReauthSoon: return QStringLiteral("reauth_soon");
    case AgentState::Locked: return QStringLiteral("locked");
    case AgentState::Offline: return QStringLiteral("offline");
    case AgentState::Error: return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

QString defaultServerName()
{
    const QString override = trustedOverrideVariable("HOTDESK_CONTROL_SOCKET");
    if (!override.isEmpty())
        return override;
#if defined(Q_OS_UNIX)
    const QString name = QStringLiteral("hotdesk-%1").arg(::getuid());
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QDir::isAbsolutePath(runtime))
        return runtime + QLatin1Char('/') + name;
    return name;
#else
    return QStringLiteral("hotdesk-%1").arg(platform::loginName());
#endif
}

ControlServer::ControlServer(QObject *parent)
    : QObject(parent)
    , m_server(new QLocalServer(this))
{
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    connect(m_server, &QLocalServer::newConnection, this, &ControlServer::accept);
}

ControlServer::~ControlServer() = default;

QString ControlServer::fullServerName() const
{
    return m_server->fullServerName();
}

Status ControlServer::listen(const QString &name)
{
    // With access options, Qt binds elsewhere and renames over the name, so it
    // would silently take the socket of a running agent: ask first. A socket
    // file left by a killed agent refuses connections and is replaced.
    QLocalSocket probe;
    probe.connectToServer(name);
    if (probe.waitForConnected(500))
        return fail(ErrorCode::Io,
            QStringLiteral("another Hotdesk agent is already running for this user (%1); use it, or quit it first")
                .arg(name));
    QLocalServer::removeServer(name);
    if (m_server->listen(name))
        return {};
    return fail(ErrorCode::Io,
        QStringLiteral("cannot open the control socket %1: %2; check that its directory is writable")
            .arg(name, m_server->errorString()));
}

void ControlServer::accept()
{
    const JsonLineLimits limits {kMaxRequestBytes, m_idleTimeoutMs};
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        serveJsonLines(socket, limits,
            {[this](QByteArrayView line) {
                 JsonLineReply reply;
                 reply.answer = answer(line, &reply.close);
                 return reply;
             },
                errorAnswer("too_large"), {}});
    }
}

QJsonObject ControlServer::answer(QByteArrayView line, bool *close)
{
    jose::StrictJsonLimits limits;
    const auto request = jose::parseStrictJsonObject(QByteArrayView(line).trimmed(), limits);
    if (!request || !request->value(QLatin1String("command")).isString()) {
        *close = true;
        return errorAnswer("malformed");
    }
    const QString command = request->value(QLatin1String("command")).toString();
    if (command == QLatin1String("status")) {
        AgentStatus status;
        if (m_statusProvider) {
            status = m_statusProvider();
        } else {
            status.state = AgentState::Error;
            status.detail = QStringLiteral("the agent is starting");
        }
        return {{QStringLiteral("ok"), true}, {QStringLiteral("state"), agentStateName(status.state)},
            {QStringLiteral("user"), status.user}, {QStringLiteral("detail"), status.detail}};
    }
    if (command == QLatin1String("reauth")) {
        Q_EMIT reauthRequested();
        return {{QStringLiteral("ok"), true}};
    }
    return errorAnswer("unknown_command");
}

} // namespace hotdesk::control

// hotdesk recovery-codes with hotdeskd: a client of its socket that relays the sign-in and prints the codes.
#include "daemonrecoverycodes.h"

#include "agentcontext.h"
#include "cli.h"

#include "core/control/daemonlink.h"
#include "core/control/jsonlines.h"
#include "core/jose/strictjson.h"
#include "core/policy/policy.h"
#include "core/trustoverrides.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QLocalSocket>
#include <QPointer>
#include <QQueue>
#include <QTimer>

#include <cstdio>

namespace hotdesk::cli {
namespace {

// The daemon closes a connection silent for its client timeout (10 s): a "hello" keeps it while the person signs in.
constexpr int kKeepAliveMs = 4000;
constexpr qsizetype kMaxLineBytes = 64 * 1024;

class DaemonCodesClient : public QObject {
public:
    DaemonCodesClient(std::unique_ptr<flow::AuthorizationFrontend> frontend, std::function<void(int)> done)
        : m_frontend(std::move(frontend))
        , m_done(std::move(done))
    {
        m_keepAlive.setInterval(kKeepAliveMs);
        connect(&m_keepAlive, &QTimer::timeout, this, [this] { send({{QStringLiteral("command"), QStringLiteral("hello")}}); });
        connect(m_frontend.get(), &flow::AuthorizationFrontend::redirected, this, [this](const QUrl &redirect) {
            printErr(QStringLiteral("hotdesk: handing the sign-in to hotdeskd to check"));
            send({{QStringLiteral("command"), QStringLiteral("sign_in_response")}, {QStringLiteral("sign_in"), m_signIn},
                {QStringLiteral("url"), redirect.toString(QUrl::FullyEncoded)}});
        });
        connect(m_frontend.get(), &flow::AuthorizationFrontend::failed, this, [this](const Error &error) {
            send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), m_signIn}});
            finish(reject(error));
        });
    }

    void start(const QString &socketPath, const QString &session)
    {
        const auto redirectUri = m_frontend->prepare();
        if (!redirectUri) {
            finish(reject(redirectUri.error()));
            return;
        }
        connect(&m_socket, &QLocalSocket::readyRead, this, &DaemonCodesClient::readLines);
        connect(&m_socket, &QLocalSocket::disconnected, this, [this] {
            finish(reject(Error {ErrorCode::Unreachable, QStringLiteral("hotdeskd closed the connection")}));
        });
        connect(&m_socket, &QLocalSocket::errorOccurred, this, [this, socketPath] {
            finish(reject(Error {ErrorCode::Unreachable,
                QStringLiteral("cannot reach hotdeskd at %1: %2").arg(socketPath, m_socket.errorString())}));
        });
        connect(&m_socket, &QLocalSocket::connected, this, [this, session, uri = *redirectUri] {
            send({{QStringLiteral("command"), QStringLiteral("sign_in")},
                {QStringLiteral("purpose"), QStringLiteral("recovery_codes")}, {QStringLiteral("session"), session},
                {QStringLiteral("redirect_uri"), uri}});
            m_keepAlive.start();
        });
        m_socket.connectToServer(socketPath);
    }

private:
    void send(QJsonObject request)
    {
        m_sent.enqueue(request.value(QLatin1String("command")).toString());
        request.insert(QStringLiteral("v"), 1);
        m_socket.write(control::encodeJsonLine(request));
    }

    void readLines()
    {
        m_pending += m_socket.readAll();
        qsizetype newline;
        while (!m_finished && (newline = m_pending.indexOf('\n')) >= 0) {
            const auto line = jose::parseStrictJsonObject(m_pending.left(newline));
            m_pending.remove(0, newline + 1);
            if (!line) {
                finish(reject(Error {ErrorCode::MalformedAnswer, QStringLiteral("hotdeskd sent a line that is not JSON")}));
                return;
            }
            if (line->contains(QLatin1String("event")))
                onEvent(*line);
            else
                onReply(*line);
        }
        if (!m_finished && m_pending.size() > kMaxLineBytes)
            finish(reject(Error {ErrorCode::MalformedAnswer, QStringLiteral("hotdeskd sent an over-long line")}));
    }

    void onReply(const QJsonObject &reply)
    {
        const QString command = m_sent.isEmpty() ? QString() : m_sent.dequeue();
        const QString message = reply.value(QLatin1String("message")).toString();
        if (reply.value(QLatin1String("ok")).toBool()) {
            if (command == u"sign_in")
                m_signIn = reply.value(QLatin1String("sign_in")).toString();
            return;
        }
        if (command == u"sign_in" || command == u"sign_in_response" || command == u"sign_in_code")
            finish(reject(Error {ErrorCode::AccessDenied,
                QStringLiteral("hotdeskd refused (%1): %2").arg(reply.value(QLatin1String("error")).toString(), message)}));
    }

    void onEvent(const QJsonObject &event)
    {
        const QString name = event.value(QLatin1String("event")).toString();
        if (event.value(QLatin1String("sign_in")).toString() != m_signIn)
            return;
        if (name == u"sign_in_url") {
            m_frontend->open(QUrl(event.value(QLatin1String("url")).toString(), QUrl::StrictMode));
        } else if (name == u"sign_in_progress") {
            printErr(QStringLiteral("hotdesk: %1").arg(event.value(QLatin1String("message")).toString()));
        } else if (name == u"sign_in_approval_needed") {
            printErr(QStringLiteral("hotdesk: approval request %1 is waiting for an administrator")
                         .arg(event.value(QLatin1String("request")).toString()));
        } else if (name == u"sign_in_code_needed") {
            QTimer::singleShot(0, this, [this] { askForCode(); });
        } else if (name == u"sign_in_failed") {
            finish(reject(Error {ErrorCode::AccessDenied,
                QStringLiteral("the sign-in failed (%1): %2")
                    .arg(event.value(QLatin1String("error")).toString(), event.value(QLatin1String("message")).toString())}));
        } else if (name == u"recovery_codes") {
            printCodes(event);
        }
    }

    void askForCode()
    {
        printErr(QStringLiteral("hotdesk: enter the one-time code: "));
        char buffer[256];
        if (!std::fgets(buffer, sizeof buffer, stdin)) {
            send({{QStringLiteral("command"), QStringLiteral("sign_in_cancel")}, {QStringLiteral("sign_in"), m_signIn}});
            return;
        }
        send({{QStringLiteral("command"), QStringLiteral("sign_in_code")}, {QStringLiteral("sign_in"), m_signIn},
            {QStringLiteral("code"), QString::fromLocal8Bit(buffer).trimmed()}});
    }

    void printCodes(const QJsonObject &event)
    {
        const QString user = event.value(QLatin1String("user")).toString();
        QByteArray lines;
        for (const QJsonValue &code : event.value(QLatin1String("codes")).toArray())
            lines += code.toString().toLatin1() + '\n';
        printErr(QStringLiteral("Recovery codes for %1, kept by hotdeskd (only their hashes). Each unlocks this PC's lock "
                                "screen once. Keep them somewhere safe, away from the phone; they are not shown again.")
                     .arg(user));
        printOut(lines);
        finish(ExitOk);
    }

    void finish(int code)
    {
        if (m_finished)
            return;
        m_finished = true;
        m_keepAlive.stop();
        m_frontend->close();
        m_socket.disconnect(this);
        m_socket.abort();
        m_done(code);
    }

    std::unique_ptr<flow::AuthorizationFrontend> m_frontend;
    std::function<void(int)> m_done;
    QLocalSocket m_socket;
    QTimer m_keepAlive;
    QByteArray m_pending;
    QQueue<QString> m_sent; // replies come in the order of the requests
    QString m_signIn;
    bool m_finished = false;
};

Result<std::unique_ptr<flow::AuthorizationFrontend>> frontendFor(const DaemonCodesRequest &request)
{
    if (request.mode != BrowserMode::Embedded)
        return makeFrontend(request.mode, net::TlsTrust {}, {}, {});
    // The embedded browser goes to the policy's identity provider only, trusting the policy's CA certificates.
    auto policy = policy::loadPolicy(request.policyFile);
    if (!policy)
        return tl::unexpected(policy.error());
    net::TlsTrust trust;
    if (!policy->servers.caBundle.isEmpty()) {
        auto bundle = net::TlsTrust::fromBundle(policy->servers.caBundle);
        if (!bundle)
            return tl::unexpected(bundle.error());
        trust = *bundle;
    }
    return makeFrontend(request.mode, trust, policy->servers.idpIssuer, request.screenshotFile);
}

} // namespace

bool recoveryCodesThroughDaemon()
{
    return control::daemonInUse();
}

int runDaemonRecoveryCodes(const DaemonCodesRequest &request)
{
    if (request.session.isEmpty())
        return usageError(QStringLiteral("hotdeskd makes the codes for the user of a desktop session: run this in your "
                                         "session, or name it with --session (its logind id)"),
            QStringLiteral("recovery-codes"));
    auto frontend = frontendFor(request);
    if (!frontend)
        return reject(frontend.error());
    std::unique_ptr<DaemonCodesClient> client;
    return runUntilDone([&](std::function<void(int)> done) {
        client = std::make_unique<DaemonCodesClient>(std::move(*frontend), std::move(done));
        client->start(control::defaultDaemonSocket(), request.session);
    });
}

} // namespace hotdesk::cli

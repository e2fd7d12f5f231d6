// hotdesk doctor: the administrator's check of policy, TLS, DAS, IdP and enrollment.
#include "doctorcommand.h"

#include "agentcontext.h"
#include "cli.h"
#include "doctordaemon.h"

#include "core/control/daemonlink.h"
#include "core/das/enroller.h"
#include "core/jose/jwk.h"
#include "core/oidc/jwkscache.h"
#include "core/store/agentstate.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QCommandLineParser>
#include <QDateTime>
#include <QLocale>


namespace hotdesk::cli {

namespace {

// More skew than this and device tokens (60 s lifetime, 30 s leeway) fail.
constexpr qint64 kMaxClockSkewSeconds = 30;

// The doctor's three kinds of line: what passed and notes on stderr, each problem on stdout.
void printOk(const QString &what)
{
    printErr(QStringLiteral("ok       %1").arg(what));
}
void printNote(const QString &what)
{
    printErr(QStringLiteral("note     %1").arg(what));
}
void printProblem(const QString &what, const QString &message)
{
    printOut(QStringLiteral("%1: %2\n").arg(what, message).toUtf8());
}

// Runs the checks one after another and collects what failed.
class Doctor : public QObject {
public:
    Doctor(AgentContext &context, std::function<void(int)> done)
        : m_ctx(context)
        , m_done(std::move(done))
    {
    }

    void run()
    {
        const auto &servers = m_ctx.servers();
        ok(QStringLiteral("policy %1").arg(m_ctx.policy().sourceFile));
        if (servers.activationKeys.isEmpty())
            problem(QStringLiteral("policy"),
                QStringLiteral("servers.das_activation_keys is missing: 'hotdesk enroll' cannot verify an activation; "
                               "pin the DAS's GET /v1/activation-key set"));
        // Where hotdeskd enforces, its enrollment counts, not one in this user's keychain (docs/agent-flow.md).
        m_daemon = control::daemonInUse();
        if (m_daemon)
            checkDaemonMode();
        m_pendingDas = servers.dasUrls;
        nextDas();
    }

private:
    void ok(const QString &what) { printOk(what); }
    void problem(const QString &what, const QString &message)
    {
        ++m_problems;
        printProblem(what, message);
    }

    void checkDaemonMode()
    {
        const DoctorLines lines {printOk, printNote, [this](const QString &what, const QString &message) { problem(what, message); }};
        checkDaemon(lines, control::defaultDaemonSocket(), qEnvironmentVariable("XDG_SESSION_ID"));
        checkPolicyTrust(lines, m_ctx.policy().sourceFile);
        checkPamProfile(lines, QStringLiteral("/etc/pam.d/common-auth"), QStringLiteral(HOTDESK_PAM_MODULE_PATH));
    }

    void nextDas()
    {
        if (m_pendingDas.isEmpty()) {
            discovery();
            return;
        }
        const QUrl das = m_pendingDas.takeFirst();
        const QString name = QStringLiteral("das %1").arg(das.toString());
        QUrl jwks = das;
        jwks.setPath(das.path() + QStringLiteral("/jwks"));
        m_ctx.http().send(net::HttpRequest::get(jwks), [this, name](Result<net::HttpResponse> response) {
            if (!response) {
                problem(name, response.error().message);
            } else if (response->status != 200) {
                problem(name, net::describeAnswer(*response));
            } else if (auto keys = jose::JwkSet::fromJson(response->body); !keys || keys->isEmpty()) {
                problem(name, QStringLiteral("GET /jwks gave no usable key set"));
            } else {
                ok(QStringLiteral("%1 (TLS, %2 signing key(s))").arg(name).arg(keys->keys().size()));
                checkClock(name, *response);
            }
            nextDas();
        });
    }

    void checkClock(const QString &name, const net::HttpResponse &response)
    {
        const QDateTime date = QLocale::c().toDateTime(
            QString::fromLatin1(response.header("Date")), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"));
        if (!date.isValid())
            return;
        const QDateTime utc(date.date(), date.time(), Qt::UTC);
        const qint64 skew = utc.toSecsSinceEpoch() - m_ctx.clock().secondsSinceEpoch();
        if (std::abs(skew) > kMaxClockSkewSeconds)
            problem(name,
                QStringLiteral("this PC's clock is %1 s off the server's; device tokens will be refused. Fix the time "
                               "synchronisation (NTP).")
                    .arg(skew));
    }

    // failure.alternate_methods are asked for after a failed attempt; an IdP
    // that has none of them would leave that user unable to sign in at all.
    void alternateMethods(const oidc::ProviderMetadata &metadata)
    {
        QStringList wanted;
        const QJsonValue methods = m_ctx.policy().document.value(QLatin1String("failure")).toObject().value(QLatin1String("alternate_methods"));
        for (const QJsonValue &v : methods.toArray())
            wanted << v.toString();
        if (wanted.isEmpty())
            return;
        const QJsonValue listed = metadata.document.value(QLatin1String("acr_values_supported"));
        if (!listed.isArray()) {
            ok(QStringLiteral("alternate methods: the identity provider does not list acr_values_supported, so %1 cannot be "
                              "checked here").arg(wanted.join(u' ')));
            return;
        }
        QStringList supported;
        for (const QJsonValue &v : listed.toArray())
            supported << v.toString();
        QStringList usable;
        for (const QString &method : std::as_const(wanted)) {
            if (supported.contains(method))
                usable << method;
        }
        if (usable.isEmpty())
            problem(QStringLiteral("alternate methods"),
                QStringLiteral("none of failure.alternate_methods (%1) is in the identity provider's acr_values_supported (%2): "
                               "after a failed attempt nobody could sign in; change the policy")
                    .arg(wanted.join(u' '), supported.join(u' ')));
        else
            ok(QStringLiteral("alternate methods: the identity provider offers %1").arg(usable.join(u' ')));
    }

    void discovery()
    {
        const QString issuer = m_ctx.servers().idpIssuer;
        const QString name = QStringLiteral("idp %1").arg(issuer);
        // The agent's own provider session: the same discovery and JWKS cache a sign-in uses.
        m_ctx.provider().metadata([this, name](Result<oidc::ProviderMetadata> metadata) {
            if (!metadata) {
                problem(name, metadata.error().message);
                enrollment();
                return;
            }
            ok(QStringLiteral("%1 (discovery)").arg(name));
            alternateMethods(*metadata);
            m_ctx.provider().jwks()->keysFor(QString(), [this, name, uri = metadata->jwksUri](Result<jose::JwkSet> keys) {
                if (!keys)
                    problem(QStringLiteral("idp jwks %1").arg(uri.toString()), keys.error().message);
                else if (keys->isEmpty())
                    problem(QStringLiteral("idp jwks %1").arg(uri.toString()), QStringLiteral("no usable signing key"));
                else
                    ok(QStringLiteral("%1 (JWKS, %2 key(s))").arg(name).arg(keys->keys().size()));
                enrollment();
            });
        });
    }

    void enrollment()
    {
        if (m_daemon) {
            finish();
            return;
        }
        das::loadCredential(m_ctx.secrets(), m_ctx.state(), m_ctx.servers().dasUrls,
            [this](Result<das::LoadedCredential> loaded) {
                if (!loaded)
                    problem(QStringLiteral("enrollment"), loaded.error().message);
                else
                    ok(QStringLiteral("enrolled as %1 with %2 (device key in the keychain)")
                            .arg(loaded->record.deviceId, loaded->record.dasUrl));
                finish();
            });
    }

    void finish()
    {
        if (m_problems == 0)
            printErr(QStringLiteral("hotdesk: every check passed"));
        else
            printErr(QStringLiteral("hotdesk: %1 problem(s)").arg(m_problems));
        m_done(m_problems == 0 ? ExitOk : ExitRejected);
    }

    AgentContext &m_ctx;
    std::function<void(int)> m_done;
    QList<QUrl> m_pendingDas;
    int m_problems = 0;
    bool m_daemon = false; // hotdeskd enforces: its enrollment is checked instead of the keychain's
};

// The doctor's lines when only the daemon's checks run: the exit status is already a failure.
DoctorLines daemonOnlyLines()
{
    return {printOk, printNote, printProblem};
}

} // namespace

int runDoctor(const QStringList &args, const AgentEnvironment &environment)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Checks what re-authentication needs under the policy: the policy itself, TLS and\n"
        "the DAS services, the identity provider's discovery document and keys, this PC's\n"
        "enrollment and its clock. Prints one line per problem on standard output."));
    parser.addHelpOption();
    CommonOptions common;
    common.addTo(parser);
    if (auto done = parseCommandLine(parser, QStringLiteral("doctor"), args))
        return *done;
    auto context = AgentContext::create(common.policyFile(parser), common.stateDirectory(parser, environment), environment);
    if (!context) {
        printOut(QStringLiteral("policy: %1\n").arg(context.error().message).toUtf8());
        // Without a policy the servers cannot be checked, but the daemon can: it may say more (docs/agent-flow.md).
        if (control::daemonInUse()) {
            checkDaemon(daemonOnlyLines(), control::defaultDaemonSocket(), qEnvironmentVariable("XDG_SESSION_ID"));
            checkPamProfile(daemonOnlyLines(), QStringLiteral("/etc/pam.d/common-auth"), QStringLiteral(HOTDESK_PAM_MODULE_PATH));
        }
        return ExitRejected;
    }
    return runUntilDone([&](std::function<void(int)> done) {
        auto *doctor = new Doctor(**context, std::move(done));
        doctor->setParent(context->get());
        doctor->run();
    });
}

} // namespace hotdesk::cli

// hotdesk-flowbench: consecutive embedded-browser sign-ins in one agent process, each timed from start() to succeeded(), for "hotdesk-bench flow".
#include "app/agent/agentcontext.h"
#include "app/agent/cli.h"
#include "app/agent/devicefingerprint.h"
#include "app/agent/embeddedfrontend.h"
#include "core/flow/reauthflow.h"
#include "ui/uiinit.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <memory>

namespace hotdesk::bench {
namespace {

// The key of each step in the printed breakdown: the step's name, the IdP's page as "browser".
QString stepKey(flow::Step step)
{
    return step == flow::Step::WaitingForUser ? QStringLiteral("browser") : flow::stepName(step);
}

// One flow: total time, and the time from each progress() to the next (the
// last step ends at succeeded()), so the report can say where the time went.
struct Timing {
    double totalMs = 0;
    QJsonObject stepsMs;
};

class Runner {
public:
    Runner(cli::AgentContext &context, flow::AuthorizationFrontend &frontend, QString user)
        : m_ctx(context)
        , m_frontend(frontend)
        , m_user(std::move(user))
    {
    }

    // Runs one flow to its end; the event loop turns until then.
    Result<Timing> runOne()
    {
        Result<Timing> outcome = fail(ErrorCode::Cancelled, QStringLiteral("the flow did not finish"));
        cli::runUntilDone([&](std::function<void(int)> done) {
            auto *reauth = new flow::ReauthFlow(m_ctx.servers(), m_ctx.http(), *m_ctx.das(), m_ctx.provider(), m_ctx.state(),
                m_frontend, cli::localFingerprint, m_ctx.clock(), m_ctx.random(), &m_ctx);
            auto timing = std::make_shared<Timing>();
            auto clock = std::make_shared<QElapsedTimer>();
            auto current = std::make_shared<std::pair<QString, qint64>>();
            auto closeStep = [timing, clock, current] {
                if (current->first.isEmpty())
                    return;
                const double ms = double(clock->nsecsElapsed() - current->second) / 1e6;
                timing->stepsMs.insert(current->first, timing->stepsMs.value(current->first).toDouble() + ms);
            };
            QObject::connect(reauth, &flow::ReauthFlow::progress, reauth, [clock, current, closeStep](flow::Step step, const QString &) {
                closeStep();
                *current = {stepKey(step), clock->nsecsElapsed()};
            });
            QObject::connect(reauth, &flow::ReauthFlow::succeeded, reauth,
                [&outcome, done, reauth, timing, clock, closeStep](const flow::FlowResult &result) {
                    const qint64 elapsed = clock->nsecsElapsed();
                    closeStep();
                    timing->totalMs = double(elapsed) / 1e6;
                    // What "hotdesk login" prints is the proof the token was validated; check it is there.
                    if (result.idToken.claims().value(QLatin1String("sub")).toString().isEmpty())
                        outcome = fail(ErrorCode::Malformed, QStringLiteral("the flow succeeded without a subject claim"));
                    else
                        outcome = *timing;
                    reauth->deleteLater();
                    done(0);
                });
            QObject::connect(reauth, &flow::ReauthFlow::failed, reauth, [&outcome, done, reauth](const Error &error) {
                outcome = tl::unexpected(error);
                reauth->deleteLater();
                done(1);
            });
            flow::FlowOptions options;
            options.user = m_user;
            // An unrecognized PC would wait for an administrator: that is not what is measured.
            options.unrecognizedDevice = policy::UnrecognizedDevice::Deny;
            clock->start();
            reauth->start(options);
        });
        return outcome;
    }

private:
    cli::AgentContext &m_ctx;
    flow::AuthorizationFrontend &m_frontend;
    QString m_user;
};

int fatal(const QString &what, const Error &error)
{
    std::fprintf(stderr, "hotdesk-flowbench: %s: %s: %s\n", qPrintable(what), qPrintable(error.codeName()),
        qPrintable(error.message));
    return 1;
}

} // namespace
} // namespace hotdesk::bench

int main(int argc, char *argv[])
{
    using namespace hotdesk;
    using namespace hotdesk::bench;
    ui::prepareApplication();
    QApplication app(argc, argv);
    // The agent's names: the keychain entries and data locations are the agent's own.
    QCoreApplication::setApplicationName(QStringLiteral("hotdesk"));
    QCoreApplication::setOrganizationName(QStringLiteral("Hotdesk"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs --flows sign-ins one after the other in this process with the embedded browser and prints\n"
        "{\"flows\":[{\"total_ms\":..,\"steps_ms\":{..}},..]} on stdout. Needs an enrolled PC, a display\n"
        "and stubs whose phones approve by themselves; hotdesk-bench flow sets that up."));
    parser.addHelpOption();
    const QCommandLineOption user(QStringLiteral("user"), QStringLiteral("Who signs in (default alice)."), QStringLiteral("U"),
        QStringLiteral("alice"));
    const QCommandLineOption flows(QStringLiteral("flows"), QStringLiteral("How many flows (default 2)."), QStringLiteral("N"),
        QStringLiteral("2"));
    cli::CommonOptions common;
    parser.addOptions({user, flows});
    common.addTo(parser);
    parser.process(app);
    bool ok = false;
    const int count = parser.value(flows).toInt(&ok);
    if (!ok || count < 1 || count > 100) {
        std::fprintf(stderr, "hotdesk-flowbench: --flows takes a number from 1 to 100\n");
        return 2;
    }

    const cli::AgentEnvironment environment = cli::AgentEnvironment::fromProcess();
    auto context = cli::AgentContext::create(common.policyFile(parser), common.stateDirectory(parser, environment), environment);
    if (!context)
        return fatal(QStringLiteral("setting up"), context.error());
    cli::AgentContext &ctx = **context;
    auto frontend = cli::makeEmbeddedFrontend(ctx.http().trust(), ctx.servers().idpIssuer, environment.screenshotFile);
    if (!frontend)
        return fatal(QStringLiteral("the embedded browser"), frontend.error());

    Status loaded = fail(ErrorCode::Cancelled, QStringLiteral("the credential did not load"));
    cli::runUntilDone([&](std::function<void(int)> done) {
        ctx.loadCredential([&, done](Status result) {
            loaded = result;
            done(0);
        });
    });
    if (!loaded)
        return fatal(QStringLiteral("loading the device credential"), loaded.error());

    Runner runner(ctx, **frontend, parser.value(user));
    QJsonArray results;
    for (int i = 0; i < count; ++i) {
        auto timing = runner.runOne();
        if (!timing)
            return fatal(QStringLiteral("flow %1 of %2").arg(i + 1).arg(count), timing.error());
        results.append(QJsonObject{{QStringLiteral("total_ms"), timing->totalMs}, {QStringLiteral("steps_ms"), timing->stepsMs}});
    }
    std::printf("%s\n", QJsonDocument(QJsonObject{{QStringLiteral("flows"), results}}).toJson(QJsonDocument::Compact).constData());
    return 0;
}

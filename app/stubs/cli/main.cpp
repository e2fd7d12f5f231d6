// Entry point of hotdesk-stubs: the companion servers and their administration commands.
#include "../common/keyring.h"
#include "admincommand.h"
#include "phonecommand.h"
#include "stubsserver.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSaveFile>
#include <QStandardPaths>

#include <cstdio>
#include <optional>
#include <span>

using namespace hotdesk;
using namespace hotdesk::stubs;
using namespace hotdesk::stubs::cli;

namespace {

const char kUsage[] = "Usage: hotdesk-stubs COMMAND [--data DIR] [OPTIONS]\n"
                      "\n"
                      "  all [--env FILE] [--port-base N]   start every role on loopback over TLS\n"
                      "  das|idp|push|enterprise [--port-base N]   start one role\n"
                      "  idp rotate-key                    make a new ID-token signing key (the old one stays published)\n"
                      "  phone ...                         play a user's phone (see 'hotdesk-stubs phone --help')\n"
                      "  admin ...                         administration (see 'hotdesk-stubs admin --help')\n"
                      "\n"
                      "all and push take --auto-approve[=DELAY_MS]: simulated phones approve every challenge.\n"
                      "all, das and idp take --fault NAME (repeatable): wrong-key, wrong-iss, wrong-aud, expired,\n"
                      "    wrong-nonce, no-nonce, slow=SECONDS, garbage, 500, ciba-slow-down (see docs/faults.md).\n"
                      "all and idp take --ciba-interval SECONDS: the CIBA poll interval (default 5; see docs/ciba.md).\n"
                      "all and das take --issuer URL (the OpenID Provider request objects are for) and --client-id ID.\n"
                      "das takes --public-url URL: the one URL of several DAS processes behind a load balancer.\n"
                      "all and das take --smtp smtp://HOST:PORT|smtps://HOST:PORT[?from=ADDRESS][&ca=PEM_FILE]: also mail one-time codes\n"
                      "    (STARTTLS is required unless HOST is loopback; the outbox file is written either way).\n"
                      "Across hosts: --listen ADDRESS, --hostname NAME (in the URLs and the server certificate) and\n"
                      "    --peer ROLE=https://HOST:PORT for each role that runs elsewhere (see docs/stubs.md).\n"
                      "\n"
                      "--data DIR holds the CA, keys and database (default: the user's data directory).\n"
                      "--db postgres://USER:PASSWORD@HOST:PORT/DBNAME[?host=/socket/dir] keeps the tables in PostgreSQL\n"
                      "    instead of DIR/stubs.db, so several processes can share them ($HOTDESK_STUBS_DB: the same,\n"
                      "    without the password in the process list).\n";

void err(const QString &line)
{
    std::fprintf(stderr, "hotdesk-stubs: %s\n", qPrintable(line));
}

void out(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

// One option of the servers' command line and how its value goes into StubsOptions.
struct ServerOption {
    const char *name;
    const char *valueName;
    const char *description;
    // Checks what the parser holds for the option (also when it is absent) and records it for
    // command; returns the usage error, or an empty string.
    QString (*apply)(const QCommandLineParser &parser, const QString &command, StubsOptions &options);
};

QString listenAddress(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (parser.isSet(QStringLiteral("listen"))) {
        options.listenAddress = QHostAddress(parser.value(QStringLiteral("listen")));
        if (options.listenAddress.isNull())
            return QStringLiteral("--listen takes an IP address such as 192.0.2.10 or 0.0.0.0, not '%1'")
                .arg(parser.value(QStringLiteral("listen")));
    }
    return {};
}

QString hostName(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    options.hostName = parser.value(QStringLiteral("hostname")).trimmed();
    const bool anyAddress = options.listenAddress == QHostAddress(QHostAddress::AnyIPv4)
        || options.listenAddress == QHostAddress(QHostAddress::AnyIPv6)
        || options.listenAddress == QHostAddress(QHostAddress::Any);
    if (anyAddress && options.hostName.isEmpty())
        return QStringLiteral("--listen %1 needs --hostname: the name other hosts reach this one by")
            .arg(parser.value(QStringLiteral("listen")));
    if (options.hostName.isEmpty() && options.listenAddress != QHostAddress(QHostAddress::LocalHost))
        options.hostName = options.listenAddress.toString();
    return {};
}

QString peers(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    for (const QString &value : parser.values(QStringLiteral("peer"))) {
        const QString role = value.section(QLatin1Char('='), 0, 0);
        const QUrl url(value.section(QLatin1Char('='), 1), QUrl::StrictMode);
        QUrl *slot = options.peers.forRole(role);
        if (!slot || !url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty() || url.port() <= 0
            || !url.path().isEmpty())
            return QStringLiteral("--peer takes ROLE=https://HOST:PORT with ROLE das, idp, push or enterprise, not '%1'")
                .arg(value);
        *slot = url;
    }
    return {};
}

QString portBase(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("port-base")))
        return {};
    bool ok = false;
    const uint base = parser.value(QStringLiteral("port-base")).toUInt(&ok);
    if (!ok || base == 0 || base > 65532)
        return QStringLiteral("--port-base takes a port number");
    options.portBase = quint16(base);
    return {};
}

QString autoApprove(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("auto-approve")))
        return {};
    bool ok = false;
    const int delay = parser.value(QStringLiteral("auto-approve")).toInt(&ok);
    if (!ok || delay < 0 || delay > 600000)
        return QStringLiteral("--auto-approve takes a delay in milliseconds (0 to 600000)");
    options.autoApprove = std::chrono::milliseconds(delay);
    return {};
}

QString cibaInterval(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("ciba-interval")))
        return {};
    bool ok = false;
    const int seconds = parser.value(QStringLiteral("ciba-interval")).toInt(&ok);
    if (!ok || seconds < 1 || seconds > 60)
        return QStringLiteral("--ciba-interval takes whole seconds (1 to 60)");
    options.cibaInterval = std::chrono::seconds(seconds);
    return {};
}

QString faults(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    static const QStringList knownFaults {QStringLiteral("wrong-key"), QStringLiteral("wrong-iss"), QStringLiteral("wrong-aud"),
        QStringLiteral("expired"), QStringLiteral("wrong-nonce"), QStringLiteral("no-nonce"), QStringLiteral("slow"),
        QStringLiteral("garbage"), QStringLiteral("500"), QStringLiteral("ciba-slow-down")};
    for (const QString &f : parser.values(QStringLiteral("fault"))) {
        const QString name = f.section(QLatin1Char('='), 0, 0);
        bool ok = knownFaults.contains(name);
        if (name == QLatin1String("slow")) {
            const double seconds = f.section(QLatin1Char('='), 1).toDouble(&ok);
            ok = ok && seconds > 0 && seconds <= 600;
        }
        if (!ok)
            return QStringLiteral("unknown --fault '%1' (known: %2; slow takes =SECONDS)")
                .arg(f, knownFaults.join(QStringLiteral(", ")));
        options.faults << f;
    }
    return {};
}

QString issuer(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("issuer")))
        return {};
    const QUrl url(parser.value(QStringLiteral("issuer")), QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty() || url.hasQuery() || url.hasFragment())
        return QStringLiteral("--issuer takes the provider's https issuer URL, without query or fragment");
    options.issuer = parser.value(QStringLiteral("issuer"));
    return {};
}

QString clientId(const QCommandLineParser &parser, const QString &, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("client-id")))
        return {};
    if (parser.value(QStringLiteral("client-id")).isEmpty())
        return QStringLiteral("--client-id takes the client_id registered at the provider");
    options.clientId = parser.value(QStringLiteral("client-id"));
    return {};
}

QString publicUrl(const QCommandLineParser &parser, const QString &command, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("public-url")))
        return {};
    const QUrl url(parser.value(QStringLiteral("public-url")), QUrl::StrictMode);
    if (command != QLatin1String("das") || !url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty()
        || url.hasQuery() || url.hasFragment())
        return QStringLiteral("--public-url goes with das and takes its https URL, without query or fragment");
    options.dasPublicUrl = parser.value(QStringLiteral("public-url"));
    return {};
}

QString smtp(const QCommandLineParser &parser, const QString &command, StubsOptions &options)
{
    if (!parser.isSet(QStringLiteral("smtp")))
        return {};
    auto settings = parseSmtpUrl(parser.value(QStringLiteral("smtp")));
    if (!settings || (command != QLatin1String("all") && command != QLatin1String("das")))
        return settings ? QStringLiteral("--smtp goes with all or das") : settings.error().message;
    options.smtp = *settings;
    return {};
}

// Where this process listens and where the roles it does not run are; read before the command's roles.
const ServerOption kPlacementOptions[] = {
    {"listen", "ADDRESS", "Listen on this address (default 127.0.0.1; a split deployment across hosts).", listenAddress},
    {"hostname", "NAME", "The name other hosts reach these roles by (in the URLs and the server certificate).", hostName},
    {"peer", "ROLE=URL", "A role that runs on another host: das|idp|push|enterprise=https://HOST:PORT (repeatable).", peers},
};

// How the command's roles behave.
const ServerOption kRoleOptions[] = {
    {"port-base", "N", "Listen on N (das), N+1 (idp), N+2 (push), N+3 (enterprise).", portBase},
    {"auto-approve", "DELAY", "Simulated phones approve every challenge after DELAY ms (default 500).", autoApprove},
    {"fault", "NAME", "Misbehave on purpose (repeatable; see docs/faults.md).", faults},
    {"ciba-interval", "SECONDS", "The IdP's CIBA poll interval (default 5; docs/ciba.md).", cibaInterval},
    {"issuer", "URL", "OpenID Provider the DAS writes request objects for.", issuer},
    {"client-id", "ID", "client_id of the DAS at that provider.", clientId},
    {"public-url", "URL", "The URL agents reach the DAS at.", publicUrl},
    {"smtp", "URL", "Mail one-time codes through this SMTP server.", smtp},
};

void addOptions(QCommandLineParser &parser)
{
    parser.addHelpOption();
    parser.addOption({QStringLiteral("data"), QStringLiteral("Data directory."), QStringLiteral("DIR"),
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)});
    parser.addOption({QStringLiteral("env"), QStringLiteral("Also write KEY=VALUE lines to FILE."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("db"), QStringLiteral("PostgreSQL database URL (postgres://...)."), QStringLiteral("URL")});
    for (std::span<const ServerOption> table :
        {std::span<const ServerOption>(kPlacementOptions), std::span<const ServerOption>(kRoleOptions)}) {
        for (const ServerOption &option : table)
            parser.addOption({QLatin1String(option.name), QLatin1String(option.description), QLatin1String(option.valueName)});
    }
}

QString applyOptions(
    std::span<const ServerOption> table, const QCommandLineParser &parser, const QString &command, StubsOptions &options)
{
    for (const ServerOption &option : table) {
        if (QString problem = option.apply(parser, command, options); !problem.isEmpty())
            return problem;
    }
    return {};
}

// The roles of command into options; 0, or the exit code of a usage error.
int chooseRoles(const QString &command, StubsOptions &options)
{
    if (command == QLatin1String("all"))
        return 0; // all four roles
    if (!QStringList {QStringLiteral("das"), QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("enterprise")}
             .contains(command)) {
        err(QStringLiteral("unknown command '%1'").arg(command));
        std::fputs(kUsage, stderr);
        return 2;
    }
    options.roles = {command};
    if (options.peers.forRole(command)->isValid()) {
        err(QStringLiteral("--peer %1=... names the role this process runs").arg(command));
        return 2;
    }
    return 0;
}

// The StubsOptions of a server command; 0, or the exit code of a usage error.
int serverOptions(const QCommandLineParser &parser, const QString &command, StubsOptions &options)
{
    if (QString problem = applyOptions(kPlacementOptions, parser, command, options); !problem.isEmpty()) {
        err(problem);
        return 2;
    }
    if (int usage = chooseRoles(command, options))
        return usage;
    if (QString problem = applyOptions(kRoleOptions, parser, command, options); !problem.isEmpty()) {
        err(problem);
        return 2;
    }
    return 0;
}

// hotdesk-stubs idp rotate-key
int rotateIdpKey(const QString &dataDir, const QString &database)
{
    auto store = openStore(dataDir, database, QStringLiteral("rotate"));
    if (!store) {
        err(store.error().message);
        return 1;
    }
    SystemClock clock;
    Keyring keys(*store, QStringLiteral("idp"), jose::Algorithm::ES256, clock);
    auto key = keys.rotate(StubsContext().tokenLifetime);
    if (!key) {
        err(key.error().message);
        return 1;
    }
    out(QStringLiteral("idp signing key is now %1; the previous key stays published for %2 s")
            .arg(key->kid())
            .arg(StubsContext().tokenLifetime.count()));
    return 0;
}

bool writeEnvironmentFile(const QString &path, const StubsServer &server)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        err(QStringLiteral("cannot write %1").arg(file.fileName()));
        return false;
    }
    file.write(server.environmentLines().join(QLatin1Char('\n')).toUtf8() + '\n');
    if (!file.commit()) {
        err(QStringLiteral("cannot write %1").arg(file.fileName()));
        return false;
    }
    return true;
}

// Starts the roles, writes --env FILE and the summary, and serves until the process is stopped.
int serve(QCoreApplication &app, const StubsOptions &options, const std::optional<QString> &envFile)
{
    auto server = StubsServer::start(options);
    if (!server) {
        err(server.error().message);
        return 1;
    }
    if (envFile && !writeEnvironmentFile(*envFile, **server))
        return 1;
    for (const QString &line : (*server)->summaryLines())
        out(line);
    return app.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    // Qt's own event loop rather than GLib's: a server has no GLib sources to
    // serve, and GLib's wakes itself with an eventfd write for every event
    // posted, several per request. An empty QT_NO_GLIB keeps GLib.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hotdesk-stubs"));
    QCoreApplication::setOrganizationName(QStringLiteral("Hotdesk"));

    QStringList args = app.arguments();
    const QString command = args.value(1);
    if (command == QLatin1String("phone"))
        return runPhoneCommand(args.mid(2));
    if (command == QLatin1String("admin"))
        return runAdminCommand(args.mid(2));
    const bool rotate = command == QLatin1String("idp") && args.value(2) == QLatin1String("rotate-key");
    QCommandLineParser parser;
    addOptions(parser);
    // "--auto-approve" alone means the default delay; QCommandLineParser wants a value, so supply it.
    for (QString &a : args) {
        if (a == QLatin1String("--auto-approve"))
            a = QStringLiteral("--auto-approve=500");
    }
    if (args.size() < 2 || command.startsWith(QLatin1Char('-'))) {
        std::fputs(kUsage, command == QLatin1String("--help") || command == QLatin1String("-h") ? stdout : stderr);
        return command == QLatin1String("--help") || command == QLatin1String("-h") ? 0 : 2;
    }
    args.remove(1, rotate ? 2 : 1);
    if (!parser.parse(args)) {
        err(parser.errorText());
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    const QString dataDir = parser.value(QStringLiteral("data"));
    const QString database = parser.value(QStringLiteral("db"));
    if (!database.isEmpty()) {
        // Checked here so that a mistyped URL is a usage error, not a failure to start.
        if (auto url = parsePostgresUrl(database); !url) {
            err(url.error().message);
            return 2;
        }
    }
    if (rotate)
        return rotateIdpKey(dataDir, database);

    StubsOptions options;
    options.dataDir = dataDir;
    options.database = database;
    if (int usage = serverOptions(parser, command, options))
        return usage;
    std::optional<QString> envFile;
    if (parser.isSet(QStringLiteral("env")))
        envFile = parser.value(QStringLiteral("env"));
    return serve(app, options, envFile);
}

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
                      "    wrong-nonce, no-nonce, slow=SECONDS, garbage, 500 (see docs/faults.md).\n"
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
    parser.addHelpOption();
    const QCommandLineOption data(QStringLiteral("data"), QStringLiteral("Data directory."), QStringLiteral("DIR"),
                                  QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    const QCommandLineOption env(QStringLiteral("env"), QStringLiteral("Also write KEY=VALUE lines to FILE."), QStringLiteral("FILE"));
    const QCommandLineOption portBase(QStringLiteral("port-base"), QStringLiteral("Listen on N (das), N+1 (idp), N+2 (push), N+3 (enterprise)."), QStringLiteral("N"));
    const QCommandLineOption autoApprove(QStringLiteral("auto-approve"), QStringLiteral("Simulated phones approve every challenge after DELAY ms (default 500)."), QStringLiteral("DELAY"));
    const QCommandLineOption issuer(QStringLiteral("issuer"), QStringLiteral("OpenID Provider the DAS writes request objects for."), QStringLiteral("URL"));
    const QCommandLineOption clientId(QStringLiteral("client-id"), QStringLiteral("client_id of the DAS at that provider."), QStringLiteral("ID"));
    const QCommandLineOption fault(QStringLiteral("fault"), QStringLiteral("Misbehave on purpose (repeatable; see docs/faults.md)."), QStringLiteral("NAME"));
    const QCommandLineOption db(
        QStringLiteral("db"), QStringLiteral("PostgreSQL database URL (postgres://...)."), QStringLiteral("URL"));
    const QCommandLineOption publicUrl(
        QStringLiteral("public-url"), QStringLiteral("The URL agents reach the DAS at."), QStringLiteral("URL"));
    const QCommandLineOption smtp(
        QStringLiteral("smtp"), QStringLiteral("Mail one-time codes through this SMTP server."), QStringLiteral("URL"));
    const QCommandLineOption listenOn(QStringLiteral("listen"),
        QStringLiteral("Listen on this address (default 127.0.0.1; a split deployment across hosts)."), QStringLiteral("ADDRESS"));
    const QCommandLineOption hostName(QStringLiteral("hostname"),
        QStringLiteral("The name other hosts reach these roles by (in the URLs and the server certificate)."), QStringLiteral("NAME"));
    const QCommandLineOption peer(QStringLiteral("peer"),
        QStringLiteral("A role that runs on another host: das|idp|push|enterprise=https://HOST:PORT (repeatable)."),
        QStringLiteral("ROLE=URL"));
    parser.addOptions({data, env, portBase, autoApprove, issuer, clientId, fault, db, publicUrl, smtp, listenOn, hostName, peer});
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
    const QString dataDir = parser.value(data);
    const QString database = parser.value(db);
    if (!database.isEmpty()) {
        // Checked here so that a mistyped URL is a usage error, not a failure to start.
        if (auto url = parsePostgresUrl(database); !url) {
            err(url.error().message);
            return 2;
        }
    }

    if (rotate) {
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

    StubsOptions options;
    options.dataDir = dataDir;
    options.database = database;
    if (parser.isSet(listenOn)) {
        options.listenAddress = QHostAddress(parser.value(listenOn));
        if (options.listenAddress.isNull()) {
            err(QStringLiteral("--listen takes an IP address such as 192.0.2.10 or 0.0.0.0, not '%1'").arg(parser.value(listenOn)));
            return 2;
        }
    }
    options.hostName = parser.value(hostName).trimmed();
    const bool anyAddress = options.listenAddress == QHostAddress(QHostAddress::AnyIPv4)
        || options.listenAddress == QHostAddress(QHostAddress::AnyIPv6) || options.listenAddress == QHostAddress(QHostAddress::Any);
    if (anyAddress && options.hostName.isEmpty()) {
        err(QStringLiteral("--listen %1 needs --hostname: the name other hosts reach this one by").arg(parser.value(listenOn)));
        return 2;
    }
    if (options.hostName.isEmpty() && options.listenAddress != QHostAddress(QHostAddress::LocalHost))
        options.hostName = options.listenAddress.toString();
    for (const QString &value : parser.values(peer)) {
        const QString role = value.section(QLatin1Char('='), 0, 0);
        const QUrl url(value.section(QLatin1Char('='), 1), QUrl::StrictMode);
        QUrl *slot = options.peers.forRole(role);
        if (!slot || !url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty() || url.port() <= 0
            || !url.path().isEmpty()) {
            err(QStringLiteral("--peer takes ROLE=https://HOST:PORT with ROLE das, idp, push or enterprise, not '%1'").arg(value));
            return 2;
        }
        *slot = url;
    }
    if (command == QLatin1String("all")) {
        // all four roles
    } else if (QStringList{QStringLiteral("das"), QStringLiteral("idp"), QStringLiteral("push"), QStringLiteral("enterprise")}.contains(command)) {
        options.roles = {command};
        if (options.peers.forRole(command)->isValid()) {
            err(QStringLiteral("--peer %1=... names the role this process runs").arg(command));
            return 2;
        }
    } else {
        err(QStringLiteral("unknown command '%1'").arg(command));
        std::fputs(kUsage, stderr);
        return 2;
    }
    if (parser.isSet(portBase)) {
        bool ok = false;
        const uint base = parser.value(portBase).toUInt(&ok);
        if (!ok || base == 0 || base > 65532) {
            err(QStringLiteral("--port-base takes a port number"));
            return 2;
        }
        options.portBase = quint16(base);
    }
    if (parser.isSet(autoApprove)) {
        bool ok = false;
        const int delay = parser.value(autoApprove).toInt(&ok);
        if (!ok || delay < 0 || delay > 600000) {
            err(QStringLiteral("--auto-approve takes a delay in milliseconds (0 to 600000)"));
            return 2;
        }
        options.autoApprove = std::chrono::milliseconds(delay);
    }
    static const QStringList knownFaults{QStringLiteral("wrong-key"), QStringLiteral("wrong-iss"), QStringLiteral("wrong-aud"),
                                         QStringLiteral("expired"), QStringLiteral("wrong-nonce"), QStringLiteral("no-nonce"),
                                         QStringLiteral("slow"), QStringLiteral("garbage"), QStringLiteral("500")};
    for (const QString &f : parser.values(fault)) {
        const QString name = f.section(QLatin1Char('='), 0, 0);
        bool ok = knownFaults.contains(name);
        if (name == QLatin1String("slow")) {
            const double seconds = f.section(QLatin1Char('='), 1).toDouble(&ok);
            ok = ok && seconds > 0 && seconds <= 600;
        }
        if (!ok) {
            err(QStringLiteral("unknown --fault '%1' (known: %2; slow takes =SECONDS)").arg(f, knownFaults.join(QStringLiteral(", "))));
            return 2;
        }
        options.faults << f;
    }
    if (parser.isSet(issuer)) {
        const QUrl url(parser.value(issuer), QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty() || url.hasQuery() || url.hasFragment()) {
            err(QStringLiteral("--issuer takes the provider's https issuer URL, without query or fragment"));
            return 2;
        }
        options.issuer = parser.value(issuer);
    }
    if (parser.isSet(clientId)) {
        if (parser.value(clientId).isEmpty()) {
            err(QStringLiteral("--client-id takes the client_id registered at the provider"));
            return 2;
        }
        options.clientId = parser.value(clientId);
    }
    if (parser.isSet(publicUrl)) {
        const QUrl url(parser.value(publicUrl), QUrl::StrictMode);
        if (command != QLatin1String("das") || !url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty()
            || url.hasQuery() || url.hasFragment()) {
            err(QStringLiteral("--public-url goes with das and takes its https URL, without query or fragment"));
            return 2;
        }
        options.dasPublicUrl = parser.value(publicUrl);
    }
    if (parser.isSet(smtp)) {
        auto settings = parseSmtpUrl(parser.value(smtp));
        if (!settings || (command != QLatin1String("all") && command != QLatin1String("das"))) {
            err(settings ? QStringLiteral("--smtp goes with all or das") : settings.error().message);
            return 2;
        }
        options.smtp = *settings;
    }
    auto server = StubsServer::start(options);
    if (!server) {
        err(server.error().message);
        return 1;
    }
    if (parser.isSet(env)) {
        QSaveFile file(parser.value(env));
        if (!file.open(QIODevice::WriteOnly)) {
            err(QStringLiteral("cannot write %1").arg(file.fileName()));
            return 1;
        }
        file.write((*server)->environmentLines().join(QLatin1Char('\n')).toUtf8() + '\n');
        if (!file.commit()) {
            err(QStringLiteral("cannot write %1").arg(file.fileName()));
            return 1;
        }
    }
    for (const QString &line : (*server)->summaryLines())
        out(line);
    return app.exec();
}

// The administration command line of the companion servers.
#include "admincommand.h"

#include "dasstore.h"
#include "stubsserver.h"

#include <QCommandLineParser>
#include <QStandardPaths>

#include <cstdio>

namespace hotdesk::stubs {
namespace {

const char kAdminUsage[] = "Usage: hotdesk-stubs admin COMMAND [--data DIR]\n"
                           "\n"
                           "  create-token --role admin|approver [--subject NAME]\n"
                           "        makes an administrator token for the DAS and prints it as the last line;\n"
                           "        admin tokens create activations, approver tokens approve devices\n"
                           "  map-user USERNAME SHARED_ID\n"
                           "        records the IdP's id of a user (for an IdP the DAS cannot reach by SCIM);\n"
                           "        USERNAME as the agent names the user: user@domain, or user alone\n"
                           "  approve REQUEST   approves a device (arrives with device recognition)\n"
                           "\n"
                           "Every command works while the servers run on the same --data DIR.\n";

void err(const QString &line)
{
    std::fprintf(stderr, "hotdesk-stubs admin: %s\n", qPrintable(line));
}

void out(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

} // namespace

int runAdminCommand(const QStringList &args)
{
    const QString command = args.value(0);
    if (command.isEmpty() || command == QLatin1String("--help") || command == QLatin1String("-h")) {
        std::fputs(kAdminUsage, command.isEmpty() ? stderr : stdout);
        return command.isEmpty() ? 2 : 0;
    }
    QCommandLineParser parser;
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption data(QStringLiteral("data"), QStringLiteral("Data directory."), QStringLiteral("DIR"),
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    const QCommandLineOption role(QStringLiteral("role"), QStringLiteral("admin or approver."), QStringLiteral("ROLE"));
    const QCommandLineOption subject(QStringLiteral("subject"), QStringLiteral("Who holds the token."), QStringLiteral("NAME"));
    parser.addOptions({help, data, role, subject});
    // QCommandLineParser expects the program name first.
    if (!parser.parse(QStringList {QStringLiteral("hotdesk-stubs admin")} + args.mid(1))) {
        err(parser.errorText());
        return 2;
    }
    if (parser.isSet(help)) {
        std::fputs(kAdminUsage, stdout);
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    const QString dataDir = parser.value(data);
    SystemClock clock;

    if (command == QLatin1String("create-token")) {
        const auto adminRole = adminRoleFromName(parser.value(role));
        if (!adminRole || !positional.isEmpty()) {
            err(QStringLiteral("usage: create-token --role admin|approver [--subject NAME] [--data DIR]"));
            return 2;
        }
        const QString holder
            = parser.isSet(subject) ? parser.value(subject) : qEnvironmentVariable("USER", QStringLiteral("administrator"));
        auto store = openStore(dataDir, QStringLiteral("admin"));
        if (!store) {
            err(store.error().message);
            return 1;
        }
        auto token = createAdminToken(*store, *adminRole, holder, clock);
        if (!token) {
            err(QStringLiteral("cannot create the token: %1").arg(token.error().message));
            return 1;
        }
        out(QStringLiteral("%1 token for %2; it is shown only this once, keep it secret:")
                .arg(adminRoleName(*adminRole), holder));
        out(*token);
        return 0;
    }
    if (command == QLatin1String("map-user")) {
        if (positional.size() != 2) {
            err(QStringLiteral("usage: map-user USERNAME SHARED_ID [--data DIR]"));
            return 2;
        }
        auto name = canonicalUserName(positional[0]);
        if (!name) {
            err(name.error().message);
            return 2;
        }
        auto store = openStore(dataDir, QStringLiteral("admin"));
        if (!store) {
            err(store.error().message);
            return 1;
        }
        if (auto mapped = mapUser(*store, *name, positional[1], clock); !mapped) {
            err(QStringLiteral("cannot map %1: %2").arg(*name, mapped.error().message));
            return mapped.error().code == ErrorCode::Malformed ? 2 : 1;
        }
        out(QStringLiteral("%1 is now mapped to the shared id %2").arg(*name, positional[1]));
        return 0;
    }
    if (command == QLatin1String("approve")) {
        err(QStringLiteral("approvals arrive with device recognition; nothing to approve yet"));
        return 2;
    }
    err(QStringLiteral("unknown command '%1'").arg(command));
    std::fputs(kAdminUsage, stderr);
    return 2;
}

} // namespace hotdesk::stubs

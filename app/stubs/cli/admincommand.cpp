// The administration command line of the companion servers.
#include "admincommand.h"

#include "../common/serviceclient.h"
#include "../das/dasstore.h"
#include "core/das/fingerprint.h"
#include "stubsserver.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QStandardPaths>

#include <functional>
#include <optional>

#include <cstdio>

namespace hotdesk::stubs::cli {
namespace {

const char kAdminUsage[] = "Usage: hotdesk-stubs admin COMMAND [--data DIR] [--db postgres://...]\n"
                           "\n"
                           "  create-token --role admin|approver [--subject NAME]\n"
                           "        makes an administrator token for the DAS and prints it as the last line;\n"
                           "        admin tokens create activations, approver tokens approve devices\n"
                           "  map-user USERNAME SHARED_ID\n"
                           "        records the IdP's id of a user (for an IdP the DAS cannot reach by SCIM);\n"
                           "        USERNAME as the agent names the user: user@domain, or user alone\n"
                           "  grant USERNAME --role admin|approver\n"
                           "        lets USERNAME sign in at the IdP as an administrator: an admin then enrolls\n"
                           "        PCs with 'hotdesk enroll' and no token (their phone approves the sign-in)\n"
                           "  revoke USERNAME\n"
                           "        takes that role away again\n"
                           "  approve REQUEST [--deny] --token TOKEN\n"
                           "        decides on a device's approval request at the running DAS, with your own\n"
                           "        approver or admin token (--token -: read it from stdin; without --token:\n"
                           "        $HOTDESK_ADMIN_TOKEN); nobody decides on their own request\n"
                           "  drift-threshold [N]\n"
                           "        shows, or sets to N (0 to 4), how many fingerprint components of a PC may\n"
                           "        change before the DAS asks for approval again (default 1)\n"
                           "\n"
                           "Every command works while the servers run on the same --data DIR; approve needs them.\n"
                           "Servers started with --db need the same --db here (or $HOTDESK_STUBS_DB).\n";

void err(const QString &line)
{
    std::fprintf(stderr, "hotdesk-stubs admin: %s\n", qPrintable(line));
}

void out(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

// The token from --token, "-" meaning the first line of stdin (keeps it out of
// the process list and shell history), else from $HOTDESK_ADMIN_TOKEN.
QByteArray adminToken(const QString &option)
{
    if (option == QLatin1String("-")) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly))
            return {};
        return in.readLine(1024).trimmed();
    }
    if (!option.isEmpty())
        return option.toUtf8();
    return qgetenv("HOTDESK_ADMIN_TOKEN").trimmed();
}

// POST /v1/admin/approval-requests/ID at the DAS running on dataDir: the DAS
// checks the token, the self-approval rule and the expiry with its own clock.
int decideApproval(const QString &dataDir, const QString &id, const QByteArray &token, bool approve)
{
    auto endpoints = readEndpoints(dataDir);
    if (!endpoints) {
        err(endpoints.error().message);
        return 1;
    }
    if (!endpoints->das.isValid()) {
        err(QStringLiteral("no DAS runs on %1; start 'hotdesk-stubs all --data %1' or 'hotdesk-stubs das --data %1'")
                .arg(dataDir));
        return 1;
    }
    QUrl url = endpoints->das;
    url.setPath(
        QStringLiteral("/v1/admin/approval-requests/") + QString::fromLatin1(QUrl::toPercentEncoding(id)), QUrl::StrictMode);
    ServiceClient client(QDir(dataDir).filePath(QStringLiteral("ca.pem")), 15000);
    std::optional<Result<ServiceReply>> reply;
    QEventLoop loop;
    client.postJson(url, {{QStringLiteral("decision"), approve ? QStringLiteral("approve") : QStringLiteral("deny")}}, token,
        [&](Result<ServiceReply> r) {
            reply = std::move(r);
            loop.quit();
        });
    if (!reply)
        loop.exec();
    if (!*reply) {
        err(QStringLiteral("cannot reach the DAS at %1: %2").arg(endpoints->das.toString(), reply->error().message));
        return 1;
    }
    const ServiceReply &answer = **reply;
    if (answer.status != 200) {
        const QString detail = answer.body.value(QLatin1String("detail")).toString();
        err(QStringLiteral("the DAS refused (%1 %2): %3")
                .arg(answer.status)
                .arg(answer.body.value(QLatin1String("type")).toString().section(QLatin1Char(':'), -1),
                    detail.isEmpty() ? QString::fromUtf8(answer.raw.left(200)) : detail));
        return 1;
    }
    out(QStringLiteral("request %1 %2: device %3, user %4")
            .arg(id, answer.body.value(QLatin1String("status")).toString(),
                answer.body.value(QLatin1String("device_id")).toString(), answer.body.value(QLatin1String("user")).toString()));
    return 0;
}

// What every administration command reads from its command line.
struct AdminInvocation {
    const QCommandLineParser &parser;
    QStringList positional;
    QString dataDir;
    QString database;
    SystemClock clock;
};

int createTokenCommand(const AdminInvocation &in)
{
    const auto adminRole = das::adminRoleFromName(in.parser.value(QStringLiteral("role")));
    if (!adminRole || !in.positional.isEmpty()) {
        err(QStringLiteral("usage: create-token --role admin|approver [--subject NAME] [--data DIR]"));
        return 2;
    }
    const QString holder = in.parser.isSet(QStringLiteral("subject"))
        ? in.parser.value(QStringLiteral("subject"))
        : qEnvironmentVariable("USER", QStringLiteral("administrator"));
    auto store = openStore(in.dataDir, in.database, QStringLiteral("admin"));
    if (!store) {
        err(store.error().message);
        return 1;
    }
    auto token = das::createAdminToken(*store, *adminRole, holder, in.clock);
    if (!token) {
        err(QStringLiteral("cannot create the token: %1").arg(token.error().message));
        return 1;
    }
    out(QStringLiteral("%1 token for %2; it is shown only this once, keep it secret:")
            .arg(das::adminRoleName(*adminRole), holder));
    out(*token);
    return 0;
}

// The commands about one user: the name in canonical form (2 when it is
// none) and the store (1 when it cannot be opened).
int forUser(const AdminInvocation &in, const QString &username, const std::function<int(Store &, const QString &)> &work)
{
    auto name = checkedUserName(username);
    if (!name) {
        err(name.error().message);
        return 2;
    }
    auto store = openStore(in.dataDir, in.database, QStringLiteral("admin"));
    if (!store) {
        err(store.error().message);
        return 1;
    }
    return work(*store, *name);
}

int mapUserCommand(const AdminInvocation &in)
{
    if (in.positional.size() != 2) {
        err(QStringLiteral("usage: map-user USERNAME SHARED_ID [--data DIR]"));
        return 2;
    }
    return forUser(in, in.positional[0], [&](Store &store, const QString &name) {
        if (auto mapped = das::mapUser(store, name, in.positional[1], in.clock); !mapped) {
            err(QStringLiteral("cannot map %1: %2").arg(name, mapped.error().message));
            return mapped.error().code == ErrorCode::Malformed ? 2 : 1;
        }
        out(QStringLiteral("%1 is now mapped to the shared id %2").arg(name, in.positional[1]));
        return 0;
    });
}

// grant USERNAME --role ROLE, or revoke USERNAME.
int userRoleCommand(const AdminInvocation &in, bool grant)
{
    const auto adminRole = das::adminRoleFromName(in.parser.value(QStringLiteral("role")));
    if (in.positional.size() != 1 || (grant && !adminRole) || (!grant && in.parser.isSet(QStringLiteral("role")))) {
        err(grant ? QStringLiteral("usage: grant USERNAME --role admin|approver [--data DIR]")
                  : QStringLiteral("usage: revoke USERNAME [--data DIR]"));
        return 2;
    }
    return forUser(in, in.positional[0], [&](Store &store, const QString &name) {
        if (auto set = das::setUserRole(store, name, grant ? adminRole : std::nullopt, in.clock); !set) {
            err(QStringLiteral("cannot change the role of %1: %2").arg(name, set.error().message));
            return 1;
        }
        out(grant ? QStringLiteral("%1 may now sign in as %2").arg(name, das::adminRoleName(*adminRole))
                  : QStringLiteral("%1 holds no administrator role now").arg(name));
        return 0;
    });
}

int approveCommand(const AdminInvocation &in)
{
    const QByteArray bearer = adminToken(in.parser.value(QStringLiteral("token")));
    if (in.positional.size() != 1 || in.positional[0].isEmpty() || bearer.isEmpty()) {
        err(QStringLiteral("usage: approve REQUEST [--deny] --token TOKEN|- [--data DIR] (or set HOTDESK_ADMIN_TOKEN)"));
        return 2;
    }
    return decideApproval(in.dataDir, in.positional[0], bearer, !in.parser.isSet(QStringLiteral("deny")));
}

int driftThresholdCommand(const AdminInvocation &in)
{
    bool ok = in.positional.size() <= 1;
    const int threshold = in.positional.isEmpty() ? 0 : in.positional[0].toInt(&ok);
    if (!ok || threshold < 0 || threshold > hotdesk::das::kMaxDriftThreshold) {
        err(QStringLiteral("usage: drift-threshold [N] [--data DIR], N from 0 to %1").arg(hotdesk::das::kMaxDriftThreshold));
        return 2;
    }
    auto store = openStore(in.dataDir, in.database, QStringLiteral("admin"));
    if (!store) {
        err(store.error().message);
        return 1;
    }
    if (auto migrated = das::migrateDas(*store); !migrated) {
        err(migrated.error().message);
        return 1;
    }
    if (!in.positional.isEmpty()) {
        if (auto set = das::setDriftThreshold(*store, threshold, in.clock); !set) {
            err(QStringLiteral("cannot set the drift threshold: %1").arg(set.error().message));
            return 1;
        }
    }
    QSqlDatabase db = store->database();
    auto current = das::driftThreshold(db);
    if (!current) {
        err(current.error().message);
        return 1;
    }
    out(QStringLiteral("drift threshold: %1 changed component(s) accepted; a different machine id never is").arg(*current));
    return 0;
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
    parser.addOptions({
        {{QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help.")},
        {QStringLiteral("data"), QStringLiteral("Data directory."), QStringLiteral("DIR"),
            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)},
        {QStringLiteral("db"), QStringLiteral("The servers' PostgreSQL database (postgres://...)."), QStringLiteral("URL")},
        {QStringLiteral("role"), QStringLiteral("admin or approver."), QStringLiteral("ROLE")},
        {QStringLiteral("subject"), QStringLiteral("Who holds the token."), QStringLiteral("NAME")},
        {QStringLiteral("token"), QStringLiteral("Your approver or admin token (- reads stdin)."), QStringLiteral("TOKEN")},
        {QStringLiteral("deny"), QStringLiteral("Deny the request instead of approving it.")},
    });
    // QCommandLineParser expects the program name first.
    if (!parser.parse(QStringList {QStringLiteral("hotdesk-stubs admin")} + args.mid(1))) {
        err(parser.errorText());
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(kAdminUsage, stdout);
        return 0;
    }
    const AdminInvocation in {
        parser, parser.positionalArguments(), parser.value(QStringLiteral("data")), parser.value(QStringLiteral("db")), {}};
    if (command == QLatin1String("create-token"))
        return createTokenCommand(in);
    if (command == QLatin1String("map-user"))
        return mapUserCommand(in);
    if (command == QLatin1String("grant") || command == QLatin1String("revoke"))
        return userRoleCommand(in, command == QLatin1String("grant"));
    if (command == QLatin1String("approve"))
        return approveCommand(in);
    if (command == QLatin1String("drift-threshold"))
        return driftThresholdCommand(in);
    err(QStringLiteral("unknown command '%1'").arg(command));
    std::fputs(kAdminUsage, stderr);
    return 2;
}

} // namespace hotdesk::stubs::cli

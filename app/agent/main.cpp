// Entry point of hotdesk: the tray agent and the administrator's command line.
#include "cli.h"
#include "enrollcommand.h"
#include "tokencommands.h"

#include <QCoreApplication>

namespace {

const char kUsage[] =
    "Usage: hotdesk COMMAND [OPTIONS]\n"
    "\n"
    "Commands available in this build:\n"
    "  token verify --jwks FILE|URL [--issuer I] [--audience A] [--nonce N]\n"
    "               [--now EPOCH] [--leeway S] TOKEN|-\n"
    "                   validate an ID token (exit 0 and the claims; 1 and 'rejected: REASON')\n"
    "  jws verify --jwks FILE TOKEN|-\n"
    "                   check a JWS signature only (exit 0 and the payload)\n"
    "  enroll [--policy FILE] [--das URL] [--admin-token TOKEN|-] [--device-id ID]\n"
    "                   enroll this PC with a DAS (exit 0 and 'enrolled ID with URL')\n"
    "  --version        print the version\n"
    "\n"
    "Each command takes --help.\n";

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hotdesk"));
    QCoreApplication::setOrganizationName(QStringLiteral("Hotdesk"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HOTDESK_VERSION));
    using namespace hotdesk::cli;

    const QStringList args = app.arguments().mid(1);
    if (args.isEmpty() || args.constFirst() == QLatin1String("--help") || args.constFirst() == QLatin1String("-h")) {
        printOut(QByteArray(kUsage));
        // Without arguments hotdesk will run the tray agent; that part is not in this build yet.
        return args.isEmpty() ? ExitUsage : ExitOk;
    }
    if (args.constFirst() == QLatin1String("--version")) {
        printOut(QByteArrayLiteral("hotdesk " HOTDESK_VERSION "\n"));
        return ExitOk;
    }
    const QString group = args.value(0);
    const QString verb = args.value(1);
    if (group == QLatin1String("token") && verb == QLatin1String("verify"))
        return runTokenVerify(args.mid(2));
    if (group == QLatin1String("jws") && verb == QLatin1String("verify"))
        return runJwsVerify(args.mid(2));
    if (group == QLatin1String("enroll"))
        return runEnroll(args.mid(1));
    printErr(QStringLiteral("hotdesk: unknown command '%1'").arg(args.mid(0, 2).join(QLatin1Char(' '))));
    std::fputs(kUsage, stderr);
    return ExitUsage;
}

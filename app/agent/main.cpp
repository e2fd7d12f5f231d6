// Entry point of hotdesk: the tray agent and the administrator's command line.
#include "agentcontext.h"
#include "cli.h"
#include "controlcommands.h"
#include "doctorcommand.h"
#include "enrollcommand.h"
#include "flowrunner.h"
#include "logincommand.h"
#include "opencommand.h"
#include "policycommand.h"
#include "tokencommands.h"

#include "core/trustoverrides.h"
#if HOTDESK_HAVE_WEBENGINE
#include "trayagent.h"
#include "ui/translations.h"
#include "ui/uiinit.h"
#endif

#include <QApplication>
#include <QCoreApplication>

#include <memory>

namespace {

const char kUsage[] =
    "Usage: hotdesk [--policy FILE] [--state-dir DIR] [--user U] [--no-auto-sign-in]\n"
    "                   run the tray agent: enforce the policy, lock the screens, re-authenticate\n"
    "       hotdesk COMMAND [OPTIONS]\n"
    "\n"
    "Commands available in this build:\n"
    "  token verify --jwks FILE|URL [--issuer I] [--audience A] [--nonce N]\n"
    "               [--now EPOCH] [--leeway S] TOKEN|-\n"
    "                   validate an ID token (exit 0 and the claims; 1 and 'rejected: REASON')\n"
    "  jws verify --jwks FILE TOKEN|-\n"
    "                   check a JWS signature only (exit 0 and the payload)\n"
    "  enroll [--policy FILE] [--das URL] [--admin-token TOKEN|-] [--device-id ID]\n"
    "         [--admin-user NAME] [--browser embedded|system|print]\n"
    "                   enroll this PC with a DAS (exit 0 and 'enrolled ID with URL'); without\n"
    "                   a token, the administrator signs in and approves on their phone\n"
    "  login --user U [--browser embedded|system|print] [--policy FILE]\n"
    "                   re-authenticate U (exit 0 and the validated claims)\n"
    "  recovery-codes [--session ID] [--browser embedded|system|print] [--policy FILE]\n"
    "                   after a sign-in through hotdeskd, print a new set of one-time recovery\n"
    "                   codes for the session's user (--user U in test builds without hotdeskd)\n"
    "  open URL [--user U] [--browser embedded|system|print] [--admin-token TOKEN|-]\n"
    "           [--policy FILE]\n"
    "                   fetch a resource of the enterprise gateway, signing in (and enrolling\n"
    "                   this PC) when it asks (exit 0 and the resource on stdout)\n"
    "  doctor [--policy FILE]\n"
    "                   check TLS, DAS, IdP discovery and JWKS, enrollment (exit 0 all good)\n"
    "  status           ask the running tray agent for its state (exit 0; 1 when none runs)\n"
    "  reauth           ask the running tray agent to re-authenticate now (exit 0)\n"
    "  policy check FILE\n"
    "                   validate a policy file (exit 0; 2 and FILE:LINE:COL: message per problem)\n"
    "  --version        print the version, and whether this is a test build\n"
    "\n"
    "Each command takes --help.\n";

} // namespace

namespace {

// The embedded browser needs a GUI application; a command line over SSH must
// not. A display, when there is one, also lets the fingerprint list the screens.
bool wantsGui(int argc, char *argv[], const hotdesk::cli::AgentEnvironment &environment)
{
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    // The commands that can show the sign-in page.
    const QString command = args.value(0);
#if defined(Q_OS_LINUX)
    const bool display = qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY")
        || qEnvironmentVariable("QT_QPA_PLATFORM") == QLatin1String("offscreen");
#else
    const bool display = true;
#endif
    // The tray agent: no command, or only its options. Without a display it
    // stays a console application and says that it needs a desktop.
    if (command.isEmpty() || (command.startsWith(QLatin1String("--")) && command != QLatin1String("--help")
                                 && command != QLatin1String("--version")))
        return display;
    // enroll shows the sign-in page only when the administrator signs in
    // themselves, without a token or an activation.
    if (command == QLatin1String("enroll")) {
        for (const QString &arg : std::as_const(args)) {
            if (arg.startsWith(QLatin1String("--admin-token")) || arg.startsWith(QLatin1String("--activation")))
                return false;
        }
        return display && environment.adminToken.isEmpty() && hotdesk::cli::browserNeedsGui(args.mid(1));
    }
    if (command != QLatin1String("login") && command != QLatin1String("open") && command != QLatin1String("recovery-codes"))
        return false;
    // Without a display (an SSH session) no GUI application can start: login,
    // open and recovery-codes stay on the console, and the embedded browser,
    // when it is asked for, says that it needs a display and what to use instead.
    return display;
}

} // namespace

int main(int argc, char *argv[])
{
    // Read once here; the commands and the tray agent get it from main.
    const hotdesk::cli::AgentEnvironment environment = hotdesk::cli::AgentEnvironment::fromProcess();
    std::unique_ptr<QCoreApplication> application;
    if (wantsGui(argc, argv, environment)) {
#if HOTDESK_HAVE_WEBENGINE
        hotdesk::ui::prepareApplication();
#endif
        application = std::make_unique<QApplication>(argc, argv);
    } else {
        application = std::make_unique<QCoreApplication>(argc, argv);
    }
    QCoreApplication &app = *application;
#if HOTDESK_HAVE_WEBENGINE
    // The system locale chooses (LANG, LC_MESSAGES, LANGUAGE); English needs no file.
    hotdesk::ui::installTranslations();
#endif
    QCoreApplication::setApplicationName(QStringLiteral("hotdesk"));
    QCoreApplication::setOrganizationName(QStringLiteral("Hotdesk"));
    QGuiApplication::setDesktopFileName(QStringLiteral("org.hotdesk.agent")); // packaging/linux/desktop, docs/man-pages.md
    QCoreApplication::setApplicationVersion(QStringLiteral(HOTDESK_VERSION));
    using namespace hotdesk::cli;

    const QStringList args = app.arguments().mid(1);
    if (!args.isEmpty() && (args.constFirst() == QLatin1String("--help") || args.constFirst() == QLatin1String("-h"))) {
        printOut(QByteArray(kUsage));
        return ExitOk;
    }
    if (!args.isEmpty() && args.constFirst() == QLatin1String("--version")) {
        // The second line says which kind of build this is (docs/tray-agent.md, "Test builds and overrides").
        printOut(QByteArrayLiteral("hotdesk " HOTDESK_VERSION "\n")
            + (hotdesk::isTestBuild()
                    ? QByteArrayLiteral("test build: --policy, --state-dir and the HOTDESK_* overrides are honoured for "
                                        "every user\n")
                    : QByteArrayLiteral("--policy, --state-dir and the HOTDESK_* overrides are honoured for root only\n")));
        return ExitOk;
    }
    if (args.isEmpty() || (args.constFirst().startsWith(QLatin1String("--")) && args.constFirst() != QLatin1String("--version"))) {
#if HOTDESK_HAVE_WEBENGINE
        return runTrayAgent(args, environment);
#else
        printErr(QStringLiteral("hotdesk: this build has no tray agent (built without Qt WebEngine)"));
        return ExitUsage;
#endif
    }
    const QString group = args.value(0);
    const QString verb = args.value(1);
    if (group == QLatin1String("token") && verb == QLatin1String("verify"))
        return runTokenVerify(args.mid(2));
    if (group == QLatin1String("jws") && verb == QLatin1String("verify"))
        return runJwsVerify(args.mid(2));
    if (group == QLatin1String("enroll"))
        return runEnroll(args.mid(1), environment);
    if (group == QLatin1String("login"))
        return runLogin(args.mid(1), environment);
    if (group == QLatin1String("open"))
        return runOpen(args.mid(1), environment);
    if (group == QLatin1String("recovery-codes"))
        return runRecoveryCodes(args.mid(1), environment);
    if (group == QLatin1String("doctor"))
        return runDoctor(args.mid(1), environment);
    if (group == QLatin1String("status"))
        return runStatus(args.mid(1));
    if (group == QLatin1String("reauth"))
        return runReauth(args.mid(1));
    if (group == QLatin1String("policy") && verb == QLatin1String("check"))
        return runPolicyCheck(args.mid(2));
    printErr(QStringLiteral("hotdesk: unknown command '%1'").arg(args.mid(0, 2).join(QLatin1Char(' '))));
    std::fputs(kUsage, stderr);
    return ExitUsage;
}

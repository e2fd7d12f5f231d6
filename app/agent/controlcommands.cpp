// "hotdesk status" and "hotdesk reauth": one request to the agent's control socket, its answer printed.
#include "controlcommands.h"

#include "cli.h"
#include "core/control/controlclient.h"
#include "core/control/controlserver.h"

#include <QEventLoop>
#include <QJsonObject>

#include <optional>

namespace hotdesk::cli {
namespace {

// Waits for the agent's answer; an answer with "ok":false becomes an error.
Result<QJsonObject> ask(const QString &command)
{
    std::optional<Result<QJsonObject>> answer;
    QEventLoop loop;
    control::sendControlCommand(control::defaultServerName(), command, &loop, [&](Result<QJsonObject> r) {
        answer = std::move(r);
        loop.quit();
    });
    if (!answer)
        loop.exec();
    if (*answer && !(*answer)->value(QLatin1String("ok")).toBool()) {
        const QString code = (*answer)->value(QLatin1String("error")).toString();
        return fail(ErrorCode::MalformedAnswer,
            QStringLiteral("the Hotdesk agent refused the request (%1); is it the same version as this command?")
                .arg(code.isEmpty() ? QStringLiteral("no reason given") : code));
    }
    return std::move(*answer);
}

bool wantsHelp(const QStringList &args, const char *usage)
{
    if (args.contains(QLatin1String("--help")) || args.contains(QLatin1String("-h"))) {
        printOut(QByteArray(usage));
        return true;
    }
    return false;
}

} // namespace

int runStatus(const QStringList &args)
{
    static const char usage[] = "Usage: hotdesk status\n"
                                "Asks the running tray agent for its state and prints it:\n"
                                "  state: ok|reauth_soon|locked|offline|error\n"
                                "  user: NAME\n"
                                "  detail: TEXT\n"
                                "Exit 0; 1 and 'rejected: unreachable' when no agent is running.\n";
    if (wantsHelp(args, usage))
        return ExitOk;
    if (!args.isEmpty())
        return usageError(QStringLiteral("status takes no arguments"), QStringLiteral("status"));
    const auto answer = ask(QStringLiteral("status"));
    if (!answer)
        return reject(answer.error());
    QString out = QStringLiteral("state: %1\n").arg(answer->value(QLatin1String("state")).toString());
    const QString user = answer->value(QLatin1String("user")).toString();
    const QString detail = answer->value(QLatin1String("detail")).toString();
    if (!user.isEmpty())
        out += QStringLiteral("user: %1\n").arg(user);
    if (!detail.isEmpty())
        out += QStringLiteral("detail: %1\n").arg(detail);
    printOut(out.toUtf8());
    return ExitOk;
}

int runReauth(const QStringList &args)
{
    static const char usage[] = "Usage: hotdesk reauth\n"
                                "Asks the running tray agent to re-authenticate the current user now.\n"
                                "Exit 0 when the agent accepted the request; 1 and 'rejected: unreachable'\n"
                                "when no agent is running.\n";
    if (wantsHelp(args, usage))
        return ExitOk;
    if (!args.isEmpty())
        return usageError(QStringLiteral("reauth takes no arguments"), QStringLiteral("reauth"));
    const auto answer = ask(QStringLiteral("reauth"));
    if (!answer)
        return reject(answer.error());
    printOut(QByteArrayLiteral("reauth: requested\n"));
    return ExitOk;
}

} // namespace hotdesk::cli

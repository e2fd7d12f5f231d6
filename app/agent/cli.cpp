// Command-line plumbing.
#include "cli.h"

#include "core/trustoverrides.h"

#include <QEventLoop>
#include <QFile>
#include <QHostAddress>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>
#include <QUrl>

#include <cstdio>

namespace hotdesk::cli {

void printOut(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void printErr(const QString &line)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

std::optional<QString> overrideOption(const QCommandLineParser &parser, const QCommandLineOption &option)
{
    if (!parser.isSet(option))
        return std::nullopt;
    if (!overridesAllowed()) {
        printErr(overrideIgnoredMessage(QStringLiteral("--") + option.names().constFirst()));
        return std::nullopt;
    }
    return parser.value(option);
}

int reject(const Error &error)
{
    printErr(QStringLiteral("rejected: %1").arg(error.codeName()));
    if (!error.message.isEmpty())
        printErr(QStringLiteral("hotdesk: %1").arg(error.message));
    return ExitRejected;
}

int usageError(const QString &problem, const QString &command)
{
    printErr(QStringLiteral("hotdesk: %1").arg(problem));
    printErr(command.isEmpty() ? QStringLiteral("Try 'hotdesk --help'.") : QStringLiteral("Try 'hotdesk %1 --help'.").arg(command));
    return ExitUsage;
}

std::optional<int> parseCommandLine(QCommandLineParser &parser, const QString &command, const QStringList &args)
{
    if (!parser.parse(QStringList {QStringLiteral("hotdesk ") + command} + args))
        return usageError(parser.errorText(), command);
    if (parser.isSet(QStringLiteral("help"))) {
        printOut(parser.helpText().toUtf8());
        return ExitOk;
    }
    return std::nullopt;
}

Result<QByteArray> readTokenArgument(const QString &argument)
{
    QByteArray token;
    if (argument == QLatin1String("-")) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot read standard input"));
        token = in.read(1024 * 1024);
    } else {
        token = argument.toUtf8();
    }
    return token.trimmed();
}

Result<QByteArray> readFileOrUrl(const QString &location, qsizetype maxBytes, int timeoutMs)
{
    const QUrl url(location, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("https") && scheme != QLatin1String("http")) {
        QFile file(location);
        if (!file.open(QIODevice::ReadOnly))
            return fail(ErrorCode::Io, QStringLiteral("cannot read %1: %2").arg(location, file.errorString()));
        if (file.size() > maxBytes)
            return fail(ErrorCode::TooLarge, QStringLiteral("%1 is larger than %2 bytes").arg(location).arg(maxBytes));
        return file.readAll();
    }
    if (scheme == QLatin1String("http")) {
        const QHostAddress host(url.host());
        if (!(host.isLoopback() || url.host() == QLatin1String("localhost")))
            return fail(ErrorCode::Unsupported, QStringLiteral("%1: plain http is allowed only on loopback; use https").arg(location));
    }

    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    request.setTransferTimeout(timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setRawHeader("Accept", "application/jwk-set+json, application/json");
    QNetworkReply *reply = manager.get(request);
    QByteArray body;
    bool tooLarge = false;
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::readyRead, reply, [&] {
        body += reply->readAll();
        if (body.size() > maxBytes) {
            tooLarge = true;
            reply->abort();
        }
    });
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    body += reply->readAll();
    const auto networkError = reply->error();
    const QString errorText = reply->errorString();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    if (tooLarge)
        return fail(ErrorCode::TooLarge, QStringLiteral("%1 answered with more than %2 bytes").arg(location).arg(maxBytes));
    if (networkError == QNetworkReply::OperationCanceledError || networkError == QNetworkReply::TimeoutError)
        return fail(ErrorCode::Timeout, QStringLiteral("%1 did not answer within %2 ms").arg(location).arg(timeoutMs));
    if (networkError != QNetworkReply::NoError)
        return fail(ErrorCode::Io, QStringLiteral("cannot fetch %1: %2").arg(location, errorText));
    if (status != 200)
        return fail(ErrorCode::Io, QStringLiteral("%1 answered HTTP %2").arg(location).arg(status));
    return body;
}

} // namespace hotdesk::cli

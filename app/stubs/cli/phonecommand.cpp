// The phone simulator's command line: enrolls a simulated phone and answers its challenges.
#include "phonecommand.h"

#include "../common/serviceclient.h"
#include "../push/pushprotocol.h"
#include "core/jose/base64url.h"
#include "stubsserver.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QStandardPaths>
#include <QUrl>

#include <cstdio>
#include <functional>

namespace hotdesk::stubs::cli {
namespace {

const char kUsage[] = "Usage: hotdesk-stubs phone COMMAND USER [--data DIR]\n"
                      "\n"
                      "Plays USER's phone against the push provider running on DIR.\n"
                      "\n"
                      "  enroll USER                 make USER's simulated phone key (DIR/phones/) and enroll it\n"
                      "  approve USER [--number N]   approve USER's newest pending challenge with the number N shown on the PC;\n"
                      "                              without --number the simulator reads the number from the provider's\n"
                      "                              database, as a user who reads it correctly would (simulator only)\n"
                      "  deny USER                   deny USER's newest pending challenge\n"
                      "\n"
                      "With servers on PostgreSQL (--db), set $HOTDESK_STUBS_DB to the same URL for approve without --number.\n"
                      "Exit status: 0 done, 1 failed (no pending challenge, wrong number, ...), 2 usage error.\n";

constexpr int kTimeoutMs = 15000;

void err(const QString &line)
{
    std::fprintf(stderr, "hotdesk-stubs phone: %s\n", qPrintable(line));
}

void out(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

// Runs one asynchronous ServiceClient call to completion (the client's own timeout bounds it).
Result<ServiceReply> await(const std::function<void(ServiceClient::Callback)> &start)
{
    std::optional<Result<ServiceReply>> result;
    QEventLoop loop;
    start([&result, &loop](Result<ServiceReply> reply) {
        result = std::move(reply);
        loop.quit();
    });
    if (!result)
        loop.exec();
    return std::move(*result);
}

QString problemText(const ServiceReply &reply)
{
    const QString detail = reply.body.value(QLatin1String("detail")).toString();
    const QString title = reply.body.value(QLatin1String("title")).toString();
    const QString text = !detail.isEmpty() ? detail : !title.isEmpty() ? title : QString::fromUtf8(reply.raw.left(200));
    return QStringLiteral("the push provider answered %1: %2").arg(reply.status).arg(text);
}

QString problemSlug(const ServiceReply &reply)
{
    return reply.body.value(QLatin1String("type")).toString().section(QLatin1Char(':'), -1);
}

class Phone {
public:
    Phone(QString dataDir, QUrl push, QString user)
        : m_dataDir(std::move(dataDir))
        , m_push(std::move(push))
        , m_user(std::move(user))
        , m_client(QDir(m_dataDir).filePath(QStringLiteral("ca.pem")), kTimeoutMs)
    {
    }

    int enroll()
    {
        // An existing key is kept: enrolling twice must not leave the file
        // and the provider holding different keys if the second call fails.
        auto key = push::loadOrCreatePhoneKey(m_dataDir, m_user);
        if (!key) {
            err(key.error().message);
            return 1;
        }
        const QJsonObject body{{QStringLiteral("user"), m_user}, {QStringLiteral("public_key"), key->toPublicJson()}};
        auto reply = await([&](ServiceClient::Callback done) {
            m_client.postJson(url(QStringLiteral("/v1/enroll")), body, {}, std::move(done));
        });
        if (!reply) {
            err(unreachable(reply.error()));
            return 1;
        }
        if (reply->status != 201) {
            err(problemText(*reply));
            return 1;
        }
        out(QStringLiteral("enrolled the simulated phone of %1 (phone id %2, key %3)")
                .arg(m_user, reply->body.value(QLatin1String("phone_id")).toString(), push::phoneKeyPath(m_dataDir, m_user)));
        return 0;
    }

    int answer(const QString &decision, std::optional<int> number)
    {
        auto key = push::loadPhoneKey(m_dataDir, m_user);
        if (!key) {
            err(key.error().message);
            return 1;
        }
        auto listed = await([&](ServiceClient::Callback done) {
            m_client.getJson(url(QStringLiteral("/v1/phones/%1/challenges").arg(encodedUser())), {}, std::move(done));
        });
        if (!listed) {
            err(unreachable(listed.error()));
            return 1;
        }
        if (listed->status == 404 && problemSlug(*listed) == QLatin1String("no-phone")) {
            err(QStringLiteral("%1 has no phone enrolled with the push provider; run 'hotdesk-stubs phone enroll %1' first")
                    .arg(m_user));
            return 1;
        }
        if (listed->status != 200) {
            err(problemText(*listed));
            return 1;
        }
        // The provider lists pending challenges newest first.
        const QJsonArray challenges = listed->body.value(QLatin1String("challenges")).toArray();
        if (challenges.isEmpty()) {
            err(QStringLiteral("%1 has no pending challenge; start a sign-in on the PC first").arg(m_user));
            return 1;
        }
        const QJsonObject challenge = challenges.first().toObject();
        const QString id = challenge.value(QLatin1String("id")).toString();
        const QString nonce = challenge.value(QLatin1String("nonce")).toString();
        if (decision == QLatin1String(push::kDecisionApprove) && !number) {
            auto looked = numberFromStore(id);
            if (!looked) {
                err(looked.error().message);
                return 1;
            }
            number = *looked;
        }
        auto signature = push::signPushResponse(*key, id, nonce, decision, number);
        if (!signature) {
            err(signature.error().message);
            return 1;
        }
        QJsonObject body{{QStringLiteral("decision"), decision}, {QStringLiteral("signature"), QString::fromLatin1(*signature)}};
        if (number)
            body.insert(QStringLiteral("number"), *number);
        const QUrl responseUrl
            = url(QStringLiteral("/v1/challenges/%1/response").arg(QString::fromLatin1(QUrl::toPercentEncoding(id))));
        auto reply = await([&](ServiceClient::Callback done) { m_client.postJson(responseUrl, body, {}, std::move(done)); });
        if (!reply) {
            err(unreachable(reply.error()));
            return 1;
        }
        if (reply->status == 200) {
            out(QStringLiteral("%1 challenge %2 of %3").arg(reply->body.value(QLatin1String("status")).toString(), id, m_user));
            return 0;
        }
        const QString slug = problemSlug(*reply);
        if (slug == QLatin1String("number-mismatch"))
            err(QStringLiteral(
                    "wrong number: %1 is not the number shown on the PC, so challenge %2 is now denied; start the sign-in again")
                    .arg(number.value_or(0))
                    .arg(id));
        else if (slug == QLatin1String("bad-signature"))
            err(QStringLiteral("the push provider refused the signature: the key in %1 is not the one enrolled for %2; "
                               "run 'hotdesk-stubs phone enroll %2' again")
                    .arg(push::phoneKeyPath(m_dataDir, m_user), m_user));
        else
            err(problemText(*reply));
        return 1;
    }

private:
    QUrl url(const QString &encodedPath) const
    {
        QUrl u = m_push;
        u.setPath(encodedPath, QUrl::StrictMode);
        return u;
    }

    QString encodedUser() const { return QString::fromLatin1(QUrl::toPercentEncoding(m_user)); }

    QString unreachable(const Error &error) const
    {
        return QStringLiteral("cannot reach the push provider at %1 (%2); is 'hotdesk-stubs all --data %3' running?")
            .arg(m_push.toString(), error.message, m_dataDir);
    }

    // Simulator only: a real phone never learns the number except from the
    // person who reads it off the PC screen.
    Result<int> numberFromStore(const QString &id) const
    {
        auto store = openStore(m_dataDir, QString(), QStringLiteral("phone-simulator"));
        if (!store)
            return tl::unexpected(store.error());
        QSqlDatabase db = store->database();
        auto q = exec(db, QStringLiteral("SELECT number FROM push_challenges WHERE id = ?"), {id});
        if (!q)
            return tl::unexpected(q.error());
        if (!q->next())
            return fail(ErrorCode::Io,
                        QStringLiteral("challenge %1 is not in the database of %2; pass the number shown on the PC with --number")
                            .arg(id, m_dataDir));
        return q->value(0).toInt();
    }

    QString m_dataDir;
    QUrl m_push;
    QString m_user;
    ServiceClient m_client;
};

} // namespace

int runPhoneCommand(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption data(QStringLiteral("data"), QStringLiteral("Data directory."), QStringLiteral("DIR"),
                                  QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    const QCommandLineOption numberOption(QStringLiteral("number"), QStringLiteral("The number shown on the PC."),
                                          QStringLiteral("N"));
    parser.addOptions({help, data, numberOption});
    if (!parser.parse(QStringList{QStringLiteral("hotdesk-stubs phone")} + args)) {
        err(parser.errorText());
        std::fputs(kUsage, stderr);
        return 2;
    }
    if (parser.isSet(help)) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    const QString command = positional.value(0);
    if (positional.size() != 2
        || !QStringList{QStringLiteral("enroll"), QStringLiteral("approve"), QStringLiteral("deny")}.contains(command)) {
        err(positional.isEmpty()
                ? QStringLiteral("a command is required")
                : QStringLiteral("expected 'enroll|approve|deny USER', got '%1'").arg(positional.join(QLatin1Char(' '))));
        std::fputs(kUsage, stderr);
        return 2;
    }
    const QString user = positional.at(1);
    if (auto ok = push::checkPushUser(user); !ok) {
        err(ok.error().message);
        return 2;
    }
    std::optional<int> number;
    if (parser.isSet(numberOption)) {
        if (command != QLatin1String(push::kDecisionApprove)) {
            err(QStringLiteral("--number goes with approve only"));
            return 2;
        }
        bool ok = false;
        const int n = parser.value(numberOption).toInt(&ok);
        if (!ok || n < 0) {
            err(QStringLiteral("--number takes the number shown on the PC, such as 42"));
            return 2;
        }
        number = n;
    }

    const QString dataDir = parser.value(data);
    auto endpoints = readEndpoints(dataDir);
    if (!endpoints) {
        err(endpoints.error().message);
        return 1;
    }
    if (!endpoints->push.isValid() || endpoints->push.isEmpty()) {
        err(QStringLiteral("no push provider is listed in %1; start 'hotdesk-stubs all --data %2' (or 'push') first")
                .arg(QDir(dataDir).filePath(QStringLiteral("endpoints.json")), dataDir));
        return 1;
    }
    Phone phone(dataDir, endpoints->push, user);
    if (command == QLatin1String("enroll"))
        return phone.enroll();
    return phone.answer(command, number);
}

} // namespace hotdesk::stubs::cli

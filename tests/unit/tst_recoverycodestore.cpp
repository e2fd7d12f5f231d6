// Recovery codes kept per user in a secret store: generated once, each accepted once, hashes only at rest, failures kept apart.
#include "core/store/recoverycodestore.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <optional>

using namespace hotdesk;
using namespace hotdesk::store;

namespace {

template <typename T> T waitFor(std::function<void(std::function<void(T)>)> start)
{
    std::optional<T> out;
    start([&out](T value) { out = std::move(value); });
    if (!QTest::qWaitFor([&] { return out.has_value(); }, 30000))
        qFatal("no answer from the recovery code store");
    return std::move(*out);
}

} // namespace

class TestRecoveryCodeStore : public QObject {
    Q_OBJECT

    MemorySecretStore m_secrets;
    OpenSslRandom m_random;
    std::unique_ptr<RecoveryCodeStore> m_store;

    Result<QStringList> generate(const QString &user, int count)
    {
        return waitFor<Result<QStringList>>([&](auto done) { m_store->generate(user, count, done); });
    }
    Result<RecoveryCodeAccepted> consume(const QString &user, const QString &typed)
    {
        return waitFor<Result<RecoveryCodeAccepted>>([&](auto done) { m_store->consume(user, typed, done); });
    }
    int remaining(const QString &user)
    {
        auto r = waitFor<Result<int>>([&](auto done) { m_store->remaining(user, done); });
        return r ? *r : -1;
    }

private Q_SLOTS:
    void init()
    {
        m_secrets = MemorySecretStore();
        m_store = std::make_unique<RecoveryCodeStore>(m_secrets, m_random, nullptr, policy::PasswordHashCost::minimum());
    }

    void eachCodeUnlocksOnceForItsUser()
    {
        auto codes = generate(QStringLiteral("Alice"), 3);
        QVERIFY(codes);
        QCOMPARE(codes->size(), 3);
        QCOMPARE(remaining(QStringLiteral("alice")), 3);

        auto first = consume(QStringLiteral("alice"), codes->at(1).toLower());
        QVERIFY2(first, qPrintable(first ? QString() : first.error().message));
        QCOMPARE(first->user, QStringLiteral("alice"));
        QCOMPARE(first->remaining, 2);
        QCOMPARE(remaining(QStringLiteral("alice")), 2);

        auto again = consume(QStringLiteral("alice"), codes->at(1));
        QVERIFY(!again);
        QCOMPARE(again.error().code, ErrorCode::AccessDenied);

        // Another user's codes are not alice's.
        auto bobs = generate(QStringLiteral("bob"), 1);
        QVERIFY(bobs);
        auto crossed = consume(QStringLiteral("alice"), bobs->at(0));
        QVERIFY(!crossed);
        QCOMPARE(crossed.error().code, ErrorCode::AccessDenied);
        QCOMPARE(remaining(QStringLiteral("bob")), 1);
    }

    void onlyHashesAreStored()
    {
        auto codes = generate(QStringLiteral("alice"), 2);
        QVERIFY(codes);
        QVERIFY(m_secrets.contains(RecoveryCodeStore::keyFor(QStringLiteral("alice"))));
        QByteArray stored;
        m_secrets.readSecret(RecoveryCodeStore::keyFor(QStringLiteral("alice")), [&](Result<QByteArray> r) { stored = r.value_or(QByteArray()); });
        QTRY_VERIFY(!stored.isEmpty());
        for (const QString &code : *codes) {
            QVERIFY(!stored.contains(code.toLatin1()));
            QVERIFY(!stored.contains(QString(code).remove(u'-').toLatin1()));
        }
        QVERIFY(stored.contains("$argon2id$"));
    }

    void generatingAgainReplacesTheSet()
    {
        auto old = generate(QStringLiteral("alice"), 2);
        auto fresh = generate(QStringLiteral("alice"), 2);
        QVERIFY(old && fresh);
        auto stale = consume(QStringLiteral("alice"), old->at(0));
        QVERIFY(!stale);
        QCOMPARE(stale.error().code, ErrorCode::AccessDenied);
        QVERIFY(consume(QStringLiteral("alice"), fresh->at(0)));
    }

    void aUserWithoutCodesIsToldHowToMakeThem()
    {
        auto none = consume(QStringLiteral("carol"), QStringLiteral("7K3M-Q9TD"));
        QVERIFY(!none);
        QCOMPARE(none.error().code, ErrorCode::NotEnrolled);
        QVERIFY2(none.error().message.contains(QLatin1String("hotdesk recovery-codes")), qPrintable(none.error().message));
        QCOMPARE(remaining(QStringLiteral("carol")), 0);
    }

    void aDamagedSetIsAnErrorNotAnUnlock()
    {
        bool written = false;
        m_secrets.writeSecret(RecoveryCodeStore::keyFor(QStringLiteral("alice")), "{not json", [&](Status) { written = true; });
        QTRY_VERIFY(written);
        auto r = consume(QStringLiteral("alice"), QStringLiteral("7K3M-Q9TD"));
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Malformed);
    }

    void aCodeIsNotAcceptedWhenTheKeychainCannotRecordItsUse()
    {
        auto codes = generate(QStringLiteral("alice"), 2);
        QVERIFY(codes);
        // Reading works, writing back fails: the code must not count, and stays usable.
        struct WriteFails final : SecretStore {
            SecretStore &inner;
            explicit WriteFails(SecretStore &s) : inner(s) {}
            void readSecret(const QString &key, ReadCallback done) override { inner.readSecret(key, std::move(done)); }
            void writeSecret(const QString &, const QByteArray &, DoneCallback done) override
            {
                QTimer::singleShot(0, [done] { done(fail(ErrorCode::Keychain, QStringLiteral("locked"))); });
            }
            void deleteSecret(const QString &key, DoneCallback done) override { inner.deleteSecret(key, std::move(done)); }
        } failing(m_secrets);
        RecoveryCodeStore store(failing, m_random, nullptr, policy::PasswordHashCost::minimum());
        auto r = waitFor<Result<RecoveryCodeAccepted>>([&](auto done) { store.consume(QStringLiteral("alice"), codes->at(0), done); });
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Keychain);
        QVERIFY(consume(QStringLiteral("alice"), codes->at(0)));
    }

    void oneCheckAtATime()
    {
        auto codes = generate(QStringLiteral("alice"), 1);
        QVERIFY(codes);
        std::optional<Result<RecoveryCodeAccepted>> a, b;
        m_store->consume(QStringLiteral("alice"), codes->at(0), [&](Result<RecoveryCodeAccepted> r) { a = r; });
        m_store->consume(QStringLiteral("alice"), codes->at(0), [&](Result<RecoveryCodeAccepted> r) { b = r; });
        QTRY_VERIFY_WITH_TIMEOUT(a && b, 30000);
        QVERIFY(*a);
        QVERIFY(!*b);
        QCOMPARE(b->error().code, ErrorCode::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestRecoveryCodeStore)
#include "tst_recoverycodestore.moc"

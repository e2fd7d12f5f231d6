// daemon::SessionGuard's sign-in outcomes on a fake clock: what lifts the lock, what counts toward lockout, what a lockout
// refuses.
#include "fakeclock.h"

#include "app/daemon/sessionguard.h"

#include <QSignalSpy>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::test;
using namespace std::chrono_literals;

namespace {

platform::LoginSession aliceSession()
{
    platform::LoginSession session;
    session.id = QStringLiteral("7");
    session.uid = 1000;
    session.user = QStringLiteral("alice");
    session.type = QStringLiteral("x11");
    session.sessionClass = QStringLiteral("user");
    session.active = true;
    return session;
}

policy::ReauthRules rules()
{
    policy::ReauthRules r;
    r.failure.maxAttempts = 2;
    r.failure.window = 1h;
    r.failure.alternateMethods = {QStringLiteral("phr")};
    return r;
}

QStringList names(const QSignalSpy &spy)
{
    QStringList out;
    for (const QList<QVariant> &args : spy)
        out << args.at(0).toString();
    return out;
}

QStringList eventNames(const QSignalSpy &spy)
{
    QStringList out;
    for (const QList<QVariant> &args : spy)
        out << args.at(0).toJsonObject().value(QLatin1String("event")).toString();
    return out;
}

} // namespace

class TestSessionGuard : public QObject {
    Q_OBJECT

    FakeClock m_clock;

    // A guard of alice's session with its agent attached and the lock required ("reauth").
    std::unique_ptr<daemon::SessionGuard> lockedGuard(std::optional<policy::ReauthRules> with = rules())
    {
        auto guard = std::make_unique<daemon::SessionGuard>(aliceSession(), with, m_clock, policy::EngineState {}, 60s);
        guard->begin();
        guard->agentAttached();
        guard->reauthRequested();
        return guard;
    }

private Q_SLOTS:
    // A shared kiosk account: failures count for the person who tried, so bob's lockout leaves carol free to sign in.
    void aKioskCountsFailuresPerPerson()
    {
        auto guard = lockedGuard();
        guard->setEnforcement(true, false);
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        for (const char *id : {"a", "b"})
            guard->personSignInFailed(
                QLatin1String(id), QStringLiteral("bob"), Error {ErrorCode::AccessDenied, QStringLiteral("no")});
        QVERIFY(guard->personLockedOut(QStringLiteral("bob")));
        QVERIFY(!guard->personLockedOut(QStringLiteral("carol")));
        QVERIFY(!guard->personLockedOut(QStringLiteral("alice")));
        QCOMPARE(audited.first().at(1).toString(), QStringLiteral("bob"));
        QCOMPARE(audited.first().at(3).toJsonObject().value(QLatin1String("account")).toString(), QStringLiteral("alice"));
        // bob's own valid sign-in does not lift the lock while he is locked out; carol's does, and she is the person.
        guard->personSignedIn(QStringLiteral("c"), QStringLiteral("bob"), {});
        QVERIFY(guard->lockRequired());
        QVERIFY(guard->person().isEmpty());
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        guard->personSignedIn(QStringLiteral("d"), QStringLiteral("carol"), {});
        QVERIFY(!guard->lockRequired());
        QCOMPARE(guard->person(), QStringLiteral("carol"));
        QCOMPARE(events.last().at(0).toJsonObject().value(QLatin1String("person")).toString(), QStringLiteral("carol"));
        QCOMPARE(guard->toJson().value(QLatin1String("person")).toString(), QStringLiteral("carol"));
        QVERIFY(names(audited).contains(QStringLiteral("person_switched")));
    }

    void aValidatedSignInLiftsTheLock()
    {
        auto guard = lockedGuard();
        QVERIFY(guard->lockRequired());
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        guard->signInSucceeded(QStringLiteral("sid"), {{QStringLiteral("acr"), QStringLiteral("phr")}});
        QVERIFY(!guard->lockRequired());
        QCOMPARE(eventNames(events), QStringList {QStringLiteral("unlocked")});
        QVERIFY(names(audited).contains(QStringLiteral("reauth_succeeded")));
        QVERIFY(guard->engineState().users.value(QStringLiteral("alice")).lastSuccess);
    }

    void failuresCountAsTheEngineSays_data()
    {
        QTest::addColumn<ErrorCode>("error");
        QTest::addColumn<bool>("counted");
        QTest::newRow("the phone said no") << ErrorCode::AccessDenied << true;
        QTest::newRow("a forged response") << ErrorCode::StateMismatch << true;
        QTest::newRow("another subject") << ErrorCode::SubjectMismatch << true;
        QTest::newRow("cancelled") << ErrorCode::Cancelled << true;
        QTest::newRow("the servers are down") << ErrorCode::Unreachable << false;
        QTest::newRow("not enrolled") << ErrorCode::NotEnrolled << false;
    }

    void failuresCountAsTheEngineSays()
    {
        QFETCH(ErrorCode, error);
        QFETCH(bool, counted);
        auto guard = lockedGuard();
        QVERIFY(guard->acrForUser().isEmpty());
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        guard->signInFailed(QStringLiteral("a"), Error {error, QStringLiteral("first")});
        QVERIFY(guard->lockRequired());
        QCOMPARE(audited.first().at(0).toString(), QStringLiteral("reauth_failed"));
        QCOMPARE(audited.first().at(2).toString(), errorCodeName(error));
        QCOMPARE(audited.first().at(3).toJsonObject().value(QLatin1String("counted")).toBool(), counted);
        // After a counted failure the next sign-in asks for the policy's alternate methods.
        const QStringList acr = counted ? QStringList {QStringLiteral("phr")} : QStringList {};
        QCOMPARE(guard->acrForUser(), acr);
        guard->signInFailed(QStringLiteral("b"), Error {error, QStringLiteral("second")});
        // max_attempts 2: two counted failures lock alice out, and her agent is told no sign-in is possible.
        QCOMPARE(guard->userLockedOut(), counted);
        QCOMPARE(names(audited).contains(QStringLiteral("lock_out_user")), counted);
        // A counted failure asks again (a lock event with the new acr); the lockout's says: no sign-in now.
        const QStringList expected = counted ? QStringList {QStringLiteral("lock"), QStringLiteral("lock")} : QStringList {};
        QCOMPARE(eventNames(events), expected);
        if (counted) {
            QCOMPARE(events.first().at(0).toJsonObject().value(QLatin1String("sign_in")).toBool(false), true);
            QCOMPARE(events.last().at(0).toJsonObject().value(QLatin1String("sign_in")).toBool(true), false);
        }
    }

    void aLockoutIsNotLiftedByASignIn()
    {
        auto guard = lockedGuard();
        guard->signInFailed(QStringLiteral("a"), Error {ErrorCode::AccessDenied, {}});
        guard->signInFailed(QStringLiteral("b"), Error {ErrorCode::AccessDenied, {}});
        QVERIFY(guard->userLockedOut());
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        guard->signInSucceeded(QStringLiteral("c"), {});
        QVERIFY(guard->lockRequired());
        QVERIFY(!eventNames(events).contains(QStringLiteral("unlocked")));
        QVERIFY(names(audited).contains(QStringLiteral("reauth_not_applied")));
        QVERIFY(!names(audited).contains(QStringLiteral("reauth_succeeded")));
        // Once the window has passed, a sign-in counts again.
        m_clock.advance(1h + 1s);
        QVERIFY(!guard->userLockedOut());
        guard->signInSucceeded(QStringLiteral("d"), {});
        QVERIFY(!guard->lockRequired());
    }

    // A recovery code the Enforcer found right lifts the lock as the engine's RecoveryCode; a wrong one counts, a
    // missing set does not; neither a lockout nor a lock without a usable policy is lifted by a code.
    void recoveryCodesAsTheEngineSays()
    {
        auto guard = lockedGuard();
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        QSignalSpy admin(guard.get(), &daemon::SessionGuard::adminEvent);
        guard->recoveryCodeRefused(QStringLiteral("no_codes"), false);
        QVERIFY(!guard->userLockedOut());
        QVERIFY(guard->acrForUser().isEmpty()); // not counted
        guard->recoveryCodeRefused(QStringLiteral("wrong_code"), true);
        QCOMPARE(guard->acrForUser(), QStringList {QStringLiteral("phr")}); // counted
        QCOMPARE(guard->recoveryCodeAccepted(4), QString());
        QVERIFY(!guard->lockRequired());
        QCOMPARE(eventNames(events).last(), QStringLiteral("unlocked"));
        QCOMPARE(events.last().at(0).toJsonObject().value(QLatin1String("reason")).toString(), QStringLiteral("recovery_code"));
        QCOMPARE(audited.last().at(0).toString(), QStringLiteral("reauth_succeeded"));
        QCOMPARE(audited.last().at(2).toString(), QStringLiteral("recovery_code"));
        QCOMPARE(audited.last().at(3).toJsonObject().value(QLatin1String("codes_left")).toInt(), 4);
        QCOMPARE(admin.last().at(0).toString(), QStringLiteral("recovery_code_used"));

        // Two wrong codes lock alice out (max_attempts 2); a right code after that lifts nothing.
        guard->reauthRequested();
        guard->recoveryCodeRefused(QStringLiteral("wrong_code"), true);
        guard->recoveryCodeRefused(QStringLiteral("wrong_code"), true);
        QVERIFY(guard->userLockedOut());
        QVERIFY(!guard->recoveryCodeAccepted(3).isEmpty());
        QVERIFY(guard->lockRequired());
        QCOMPARE(audited.last().at(0).toString(), QStringLiteral("reauth_not_applied"));

        auto unusable = lockedGuard(std::nullopt);
        QCOMPARE(unusable->recoveryCodeAccepted(1), QStringLiteral("policy_unusable"));
        QVERIFY(unusable->lockRequired());
    }

    void withoutAPolicyNothingLiftsTheLock()
    {
        auto guard = lockedGuard(std::nullopt);
        QCOMPARE(guard->lockReason(), QStringLiteral("policy_unusable"));
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        guard->signInSucceeded(QStringLiteral("sid"), {});
        QVERIFY(guard->lockRequired());
        QVERIFY(events.isEmpty());
        // Nor does a policy that comes later find the sign-in counted: its lock is the engine's own.
        QVERIFY(!guard->engineState().users.value(QStringLiteral("alice")).lastSuccess);
        QCOMPARE(guard->offlineUnlockRefusal(), QStringLiteral("policy_unusable"));
        QCOMPARE(guard->offlineUnlockVerified(), QStringLiteral("policy_unusable"));
        QVERIFY(guard->lockRequired());
    }

    // Offline is what the guard's own sign-ins found; the dry run uses nothing up; the password's outcome counts.
    void offlineUnlockFollowsTheSignInsAndTheGrace()
    {
        policy::ReauthRules withGrace = rules();
        withGrace.failure.offlineGrace = policy::OfflineGrace {8h, 1};
        auto guard = lockedGuard(withGrace);
        guard->signInSucceeded(QStringLiteral("a"), {}); // a recent sign-in with the phone
        guard->reauthRequested();
        QCOMPARE(guard->offlineUnlockRefusal(), QStringLiteral("online"));
        guard->signInFailed(QStringLiteral("b"), Error {ErrorCode::Unreachable, QStringLiteral("down")});
        QVERIFY(guard->offline());
        // A cancel says nothing about the network; a server that answered does.
        guard->signInFailed(QStringLiteral("c"), Error {ErrorCode::Cancelled, QStringLiteral("cancelled")});
        QVERIFY(guard->offline());
        QVERIFY(guard->offlineUnlockRefusal().isEmpty());
        QVERIFY(guard->offlineUnlockRefusal().isEmpty()); // asked twice, still the one use left
        QCOMPARE(guard->engineState().users.value(QStringLiteral("alice")).offlineUses, 0);

        // A wrong password is a counted failure: with max_attempts 2 and the cancel, alice is locked out.
        QSignalSpy audited(guard.get(), &daemon::SessionGuard::audited);
        guard->offlineUnlockFailed(QStringLiteral("Authentication failure"));
        QVERIFY(names(audited).contains(QStringLiteral("offline_unlock_refused")));
        QVERIFY(guard->userLockedOut());
        QCOMPARE(guard->offlineUnlockRefusal(), QStringLiteral("locked_out"));

        // After the lockout's window: the right password lifts the lock, once; a new policy keeps the network state.
        m_clock.advance(1h);
        guard->policyChanged(withGrace);
        QVERIFY(guard->offlineUnlockRefusal().isEmpty());
        QSignalSpy events(guard.get(), &daemon::SessionGuard::agentEvent);
        QVERIFY(guard->offlineUnlockVerified().isEmpty());
        QVERIFY(!guard->lockRequired());
        QCOMPARE(events.last().at(0).toJsonObject().value(QLatin1String("reason")).toString(), QStringLiteral("offline"));
        guard->reauthRequested();
        QCOMPARE(guard->offlineUnlockRefusal(), QStringLiteral("grace_used_up"));
        QCOMPARE(guard->offlineUnlockVerified(), QStringLiteral("grace_used_up"));
        QVERIFY(guard->lockRequired());
        // A server that answers makes it online again.
        guard->signInFailed(QStringLiteral("d"), Error {ErrorCode::AccessDenied, QStringLiteral("no")});
        QVERIFY(!guard->offline());
    }
};

QTEST_GUILESS_MAIN(TestSessionGuard)
#include "tst_sessionguard.moc"

// The re-authentication decision engine: every rule as a table of scripts run against a fake clock.
#include "core/jose/strictjson.h"
#include "core/policy/decisionengine.h"
#include "fakeclock.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

#include <functional>
#include <memory>

using namespace hotdesk;
using namespace hotdesk::policy;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(hotdesk::policy::ReauthRules)

namespace {

// A script is a list of events, each followed by the decisions it must cause
// as "=> ..." lines; an event without "=>" lines must cause none. Events:
//   logon USER [SESSION]   unlock USER   idle DURATION   activity   tick
//   proc NAME   path PATH   device camera|microphone   net online|offline
//   ok USER [recovery]   fail USER ERROR_CODE_NAME   offline USER
//   restart            (state -> JSON text -> strict parse -> a new engine)
//   +DURATION          (advance the clock, e.g. +7h59m, +90s, +1d)
//   at YYYY-MM-DD HH:MM[:SS]   (set the clock to this local time)
// Before the first event: "zone +HH:MM" or "zone Area/City" (default +01:00,
// so a rule that confuses UTC and local days fails), "names windows|exact".
// Decisions print as:
//   require_reauth USER REASON [detail=PREFIX (paths only)] [acr=A,B]
//   notify USER TRIGGER in=MINUTES   lock USER REASON
//   lockout USER until=+SECONDS attempts=N   notify_admin EVENT USER
//   require_credentials USER   offline_granted USER left=N reason=R   offline_refused USER WHY

std::chrono::seconds durationOf(const QString &text)
{
    static const QRegularExpression part(QStringLiteral("(\\d+)([dhms])"));
    std::chrono::seconds total {0};
    auto it = part.globalMatch(text);
    if (!it.hasNext())
        qFatal("bad duration in script: %s", qPrintable(text));
    while (it.hasNext()) {
        const auto m = it.next();
        const qint64 n = m.captured(1).toLongLong();
        const QChar unit = m.captured(2).at(0);
        total += std::chrono::seconds(n * (unit == u'd' ? 86400 : unit == u'h' ? 3600 : unit == u'm' ? 60 : 1));
    }
    return total;
}

ErrorCode errorCodeFrom(const QString &name)
{
    for (int i = 0; i <= int(ErrorCode::Keychain); ++i) {
        if (errorCodeName(ErrorCode(i)) == name)
            return ErrorCode(i);
    }
    qFatal("unknown error code in script: %s", qPrintable(name));
}

QString format(const Decision &decision, Instant now)
{
    return std::visit(
        [now](const auto &d) -> QString {
            using T = std::decay_t<decltype(d)>;
            if constexpr (std::is_same_v<T, RequireReauth>) {
                QString s = QStringLiteral("require_reauth %1 %2").arg(d.user, d.reason());
                if (d.trigger == Trigger::SensitivePath)
                    s += QStringLiteral(" detail=") + d.detail;
                if (!d.acrValues.isEmpty())
                    s += QStringLiteral(" acr=") + d.acrValues.join(u',');
                return s;
            } else if constexpr (std::is_same_v<T, Notify>) {
                return QStringLiteral("notify %1 %2 in=%3").arg(d.user, triggerName(d.trigger)).arg(d.minutes);
            } else if constexpr (std::is_same_v<T, Lock>) {
                return QStringLiteral("lock %1 %2").arg(d.user, d.reason);
            } else if constexpr (std::is_same_v<T, LockOutUser>) {
                return QStringLiteral("lockout %1 until=+%2 attempts=%3")
                    .arg(d.user)
                    .arg((d.until - now).count())
                    .arg(d.attempts);
            } else if constexpr (std::is_same_v<T, NotifyAdmin>) {
                return QStringLiteral("notify_admin %1 %2").arg(d.event, d.user);
            } else if constexpr (std::is_same_v<T, RequireCredentials>) {
                return QStringLiteral("require_credentials %1").arg(d.user);
            } else if constexpr (std::is_same_v<T, OfflineGranted>) {
                return QStringLiteral("offline_granted %1 left=%2 reason=%3").arg(d.user).arg(d.usesLeft).arg(d.reason);
            } else {
                return QStringLiteral("offline_refused %1 %2").arg(d.user, d.why);
            }
        },
        decision);
}

QTimeZone zoneFrom(const QString &text)
{
    static const QRegularExpression offset(QStringLiteral("^([+-])(\\d\\d):(\\d\\d)$"));
    const auto m = offset.match(text);
    if (m.hasMatch())
        return QTimeZone((m.captured(1) == u"-" ? -1 : 1) * (m.captured(2).toInt() * 3600 + m.captured(3).toInt() * 60));
    QTimeZone zone(text.toLatin1());
    if (!zone.isValid())
        qFatal("time zone %s is not available here", qPrintable(text));
    return zone;
}

class ScriptRunner {
public:
    explicit ScriptRunner(ReauthRules rules)
        : m_rules(std::move(rules))
    {
        m_env.timeZone = QTimeZone(3600);
        m_env.names = NameMatching::Exact;
    }

    // The transcript: each event, then "=> " + each decision it caused.
    QStringList run(const QStringList &script)
    {
        QStringList transcript;
        for (const QString &line : script) {
            if (line.startsWith(QLatin1String("=>")))
                continue;
            transcript.append(line);
            const QList<Decision> decisions = step(line);
            const Instant now = std::chrono::floor<std::chrono::seconds>(m_clock.now());
            for (const Decision &d : decisions)
                transcript.append(QStringLiteral("=> ") + format(d, now));
        }
        return transcript;
    }

    DecisionEngine &engine()
    {
        if (!m_engine)
            m_engine = std::make_unique<DecisionEngine>(m_rules, m_clock, m_env);
        return *m_engine;
    }
    test::FakeClock &clock() { return m_clock; }

private:
    QList<Decision> step(const QString &line)
    {
        const QStringList w = line.split(u' ', Qt::SkipEmptyParts);
        const QString &cmd = w.at(0);
        const auto arg = [&](int i) -> QString {
            if (i >= w.size())
                qFatal("script line \"%s\" lacks an argument", qPrintable(line));
            return w.at(i);
        };
        if (cmd == u"zone") {
            m_env.timeZone = zoneFrom(arg(1));
            return {};
        }
        if (cmd == u"names") {
            m_env.names = arg(1) == u"windows" ? NameMatching::Windows : NameMatching::Exact;
            return {};
        }
        if (cmd.startsWith(u'+')) {
            m_clock.advance(durationOf(cmd.mid(1)));
            return {};
        }
        if (cmd == u"at") {
            const QString when = arg(1) + u'T' + arg(2);
            QDateTime local = QDateTime::fromString(when, Qt::ISODate);
            if (!local.isValid())
                qFatal("bad time in script: %s", qPrintable(when));
            local = QDateTime(local.date(), local.time(), m_env.timeZone);
            if (!local.isValid())
                qFatal("%s does not exist in the script's time zone", qPrintable(when));
            m_clock.setSeconds(local.toSecsSinceEpoch());
            return {};
        }
        if (cmd == u"restart") {
            // What the agent does: write the state as JSON text, read it back strictly.
            const QByteArray text = QJsonDocument(engine().state().toJson()).toJson();
            auto object = jose::parseStrictJsonObject(text);
            if (!object)
                qFatal("the state JSON does not parse: %s", qPrintable(object.error().message));
            auto state = EngineState::fromJson(*object);
            if (!state)
                qFatal("the state does not load: %s", qPrintable(state.error().message));
            if (!(*state == engine().state()))
                qFatal("the state changed in the round trip: %s", text.constData());
            m_engine = std::make_unique<DecisionEngine>(m_rules, m_clock, m_env, *state);
            return {};
        }
        DecisionEngine &e = engine();
        if (cmd == u"logon")
            return e.sessionStarted(arg(1), w.value(2));
        if (cmd == u"unlock")
            return e.screenUnlocked(arg(1));
        if (cmd == u"idle")
            return e.idleTimeIs(durationOf(arg(1)));
        if (cmd == u"activity")
            return e.activity();
        if (cmd == u"reauth")
            return e.reauthRequested();
        if (cmd == u"tick")
            return e.tick();
        if (cmd == u"proc")
            return e.processStarted(line.mid(5));
        if (cmd == u"path")
            return e.pathTouched(line.mid(5));
        if (cmd == u"device") {
            const auto device = sensitiveDeviceFromName(arg(1));
            if (!device)
                qFatal("unknown device in script: %s", qPrintable(arg(1)));
            return e.deviceInUse(*device);
        }
        if (cmd == u"ok")
            return e.authSucceeded(arg(1), w.value(2) == u"recovery" ? AuthMethod::RecoveryCode : AuthMethod::TwoFactor);
        if (cmd == u"fail")
            return e.authFailed(arg(1), errorCodeFrom(arg(2)));
        if (cmd == u"net")
            return e.networkState(arg(1) == u"offline" ? Network::Offline : Network::Online);
        if (cmd == u"offline")
            return e.offlineUnlockRequested(arg(1));
        qFatal("unknown script event: %s", qPrintable(line));
    }

    ReauthRules m_rules;
    test::FakeClock m_clock;
    EngineEnvironment m_env;
    std::unique_ptr<DecisionEngine> m_engine;
};

// Rules with everything off and no advance notices, then `edit`.
ReauthRules rules(const std::function<void(ReauthRules &)> &edit = {})
{
    ReauthRules r;
    r.triggers.notifyBefore = 0s;
    if (edit)
        edit(r);
    return r;
}

QStringList lines(std::initializer_list<const char *> text)
{
    QStringList out;
    for (const char *line : text)
        out.append(QString::fromUtf8(line));
    return out;
}

const QList<Qt::DayOfWeek> kWeekdays {Qt::Monday, Qt::Tuesday, Qt::Wednesday, Qt::Thursday, Qt::Friday};

} // namespace

class TestDecisionEngine : public QObject {
    Q_OBJECT

private:
    static void addColumns()
    {
        QTest::addColumn<ReauthRules>("rules");
        QTest::addColumn<QStringList>("script");
    }
    static void runScript()
    {
        QFETCH(ReauthRules, rules);
        QFETCH(QStringList, script);
        ScriptRunner runner(rules);
        QCOMPARE(runner.run(script), script);
    }

private Q_SLOTS:
    void firstLogon_data()
    {
        addColumns();
        const auto daily = rules([](ReauthRules &r) { r.triggers.firstLogonIn = 24h; });
        const auto twelveHours = rules([](ReauthRules &r) { r.triggers.firstLogonIn = 12h; });
        QTest::newRow("first logon ever asks") << daily << lines({"logon alice", "=> require_reauth alice first_logon"});
        QTest::newRow("off: nothing") << rules() << lines({"logon alice"});
        QTest::newRow("P1D: second logon the same day does not ask")
            << daily
            << lines({"at 2026-01-05 08:00", "logon alice", "=> require_reauth alice first_logon", "ok alice",
                   "at 2026-01-05 17:00", "logon alice"});
        QTest::newRow("P1D: the next calendar day asks, though under 24h later")
            << daily
            << lines({"at 2026-01-05 22:00", "logon alice", "=> require_reauth alice first_logon", "ok alice",
                   "at 2026-01-06 07:00", "logon alice", "=> require_reauth alice first_logon"});
        // 00:30 and 08:00 local (+01:00) are one local day but two UTC days.
        QTest::newRow("P1D: the local calendar day, not the UTC one")
            << daily
            << lines({"at 2026-01-06 00:30", "logon alice", "=> require_reauth alice first_logon", "ok alice",
                   "at 2026-01-06 08:00", "logon alice"});
        QTest::newRow("P1D: per user") << daily
                                       << lines({"logon alice", "=> require_reauth alice first_logon", "ok alice", "+1h",
                                              "logon bob", "=> require_reauth bob first_logon"});
        QTest::newRow("P1D: a first logon that never succeeded asks again at the next logon")
            << daily
            << lines({"logon alice s1", "=> require_reauth alice first_logon", "+1h", "logon alice s2",
                   "=> require_reauth alice first_logon"});
        QTest::newRow("other periods: since the last success")
            << twelveHours
            << lines({"logon alice", "=> require_reauth alice first_logon", "ok alice", "+11h59m", "logon alice", "+1m",
                   "logon alice", "=> require_reauth alice first_logon"});
        QTest::newRow("an agent restart in the same session is not a logon")
            << twelveHours
            << lines({"logon alice s1", "=> require_reauth alice first_logon", "ok alice", "+13h", "restart", "logon alice s1",
                   "logon alice s2", "=> require_reauth alice first_logon"});
        QTest::newRow("exempt users are never asked") << rules([](ReauthRules &r) {
            r.triggers.firstLogonIn = 24h;
            r.failure.exemptUsers = QStringList {QStringLiteral("breakglass")};
        }) << lines({"logon breakglass", "logon alice", "=> require_reauth alice first_logon"});
    }
    void firstLogon() { runScript(); }

    void maxSession_data()
    {
        addColumns();
        const auto eight = rules([](ReauthRules &r) { r.triggers.maxSession = 8h; });
        const auto noticed = rules([](ReauthRules &r) {
            r.triggers.maxSession = 8h;
            r.triggers.notifyBefore = 5min;
        });
        QTest::newRow("8h after logon") << eight
                                        << lines({"logon alice", "+7h59m59s", "tick", "+1s", "tick",
                                               "=> require_reauth alice max_session"});
        QTest::newRow("counts from the last success")
            << eight
            << lines({"logon alice", "+4h", "ok alice", "+7h59m", "tick", "+1m", "tick", "=> require_reauth alice max_session"});
        QTest::newRow("fires once, and again 8h after the re-authentication")
            << eight
            << lines({"logon alice", "+8h", "tick", "=> require_reauth alice max_session", "tick", "+1h", "tick", "ok alice",
                   "+8h", "tick", "=> require_reauth alice max_session"});
        QTest::newRow("a late timer still fires")
            << eight << lines({"logon alice", "+9h", "tick", "=> require_reauth alice max_session"});
        QTest::newRow("notice notify_before ahead, once")
            << noticed
            << lines({"logon alice", "+7h54m59s", "tick", "+1s", "tick", "=> notify alice max_session in=5", "tick", "+5m",
                   "tick", "=> require_reauth alice max_session"});
        QTest::newRow("a late notice rounds the minutes up")
            << noticed
            << lines({"logon alice", "+7h57m30s", "tick", "=> notify alice max_session in=3", "+2m30s", "tick",
                   "=> require_reauth alice max_session"});
        QTest::newRow("restart in the same session keeps the logon time")
            << eight
            << lines(
                   {"logon alice s1", "+6h", "restart", "logon alice s1", "+2h", "tick", "=> require_reauth alice max_session"});
        QTest::newRow("resuming a session that ran over catches up at once")
            << eight
            << lines({"logon alice s1", "+7h", "restart", "+2h", "logon alice s1", "=> require_reauth alice max_session"});
        QTest::newRow("a new logon starts the count again")
            << eight << lines({"logon alice s1", "+7h", "restart", "logon alice s2", "+7h", "tick"});
    }
    void maxSession() { runScript(); }

    void idle_data()
    {
        addColumns();
        const auto idle = rules([](ReauthRules &r) { r.triggers.idle = 15min; });
        QTest::newRow("reported idle time reaches the limit")
            << idle << lines({"logon alice", "+16m", "idle 16m", "=> require_reauth alice idle"});
        QTest::newRow("under the limit: nothing") << idle << lines({"logon alice", "+16m", "idle 14m59s"});
        QTest::newRow("tick fires from the last report")
            << idle << lines({"logon alice", "+5m", "idle 5m", "+9m59s", "tick", "+1s", "tick", "=> require_reauth alice idle"});
        QTest::newRow("activity starts a new idle period")
            << idle << lines({"logon alice", "+10m", "activity", "+14m", "tick", "+1m", "tick", "=> require_reauth alice idle"});
        QTest::newRow("input between two reports starts a new period")
            << idle << lines({"logon alice", "+14m", "idle 2m", "+2m", "tick", "+11m", "tick", "=> require_reauth alice idle"});
        // An offline unlock lifts the lock without any input: the same idle
        // period must not lock again (and burn every grace use while no one is there).
        QTest::newRow("once per idle period")
            << rules([](ReauthRules &r) {
                   r.triggers.idle = 15min;
                   r.failure.offlineGrace = OfflineGrace {4h, 3};
                   r.failure.actions.notifyAdmin = false;
               })
            << lines({"logon alice", "ok alice", "+15m", "idle 15m", "=> require_reauth alice idle", "net offline",
                   "offline alice", "=> offline_granted alice left=2 reason=idle", "+10m", "idle 25m", "+1h", "tick", "activity",
                   "+15m", "tick", "=> require_reauth alice idle"});
        QTest::newRow("off: nothing") << rules() << lines({"logon alice", "+5h", "idle 5h", "tick"});
    }
    void idle() { runScript(); }

    void onUnlock_data()
    {
        addColumns();
        const auto on = rules([](ReauthRules &r) { r.triggers.onUnlock = true; });
        QTest::newRow("unlock asks") << on << lines({"logon alice", "unlock alice", "=> require_reauth alice on_unlock"});
        QTest::newRow("each unlock") << on
                                     << lines({"logon alice", "unlock alice", "=> require_reauth alice on_unlock", "ok alice",
                                            "+1m", "unlock alice", "=> require_reauth alice on_unlock"});
        QTest::newRow("off: nothing") << rules() << lines({"logon alice", "unlock alice"});
        QTest::newRow("already locked: nothing more") << rules([](ReauthRules &r) {
            r.triggers.onUnlock = true;
            r.triggers.firstLogonIn = 24h;
        }) << lines({"logon alice", "=> require_reauth alice first_logon", "unlock alice"});
    }
    void onUnlock() { runScript(); }

    void manual_data()
    {
        addColumns();
        QTest::newRow("asks for the session's user") << rules()
                                                     << lines({"logon alice", "reauth", "=> require_reauth alice manual"});
        QTest::newRow("no session: nobody to ask") << rules() << lines({"reauth"});
        QTest::newRow("already locked: nothing more")
            << rules([](ReauthRules &r) { r.triggers.firstLogonIn = 24h; })
            << lines({"logon alice", "=> require_reauth alice first_logon", "reauth"});
        QTest::newRow("exempt: never asked")
            << rules([](ReauthRules &r) { r.failure.exemptUsers = {QStringLiteral("breakglass")}; })
            << lines({"logon breakglass", "reauth"});
        QTest::newRow("a lock survives a restart") << rules()
                                                   << lines({"logon alice s1", "reauth", "=> require_reauth alice manual",
                                                          "restart", "logon alice s1", "=> require_reauth alice manual"});
    }
    void manual() { runScript(); }

    void sensitiveApps_data()
    {
        addColumns();
        const auto apps = rules([](ReauthRules &r) {
            r.triggers.sensitiveApps = QStringList {QStringLiteral("gnucash"), QStringLiteral("payroll.exe")};
        });
        const auto row = [&](const char *name, const char *names, const char *process, const char *expected) {
            QStringList script {QStringLiteral("names ") + QLatin1String(names), QStringLiteral("logon alice"),
                QStringLiteral("proc ") + QLatin1String(process)};
            if (*expected)
                script.append(QString(QStringLiteral("=> require_reauth alice sensitive_app:") + QLatin1String(expected)));
            QTest::newRow(name) << apps << script;
        };
        row("exact: same name", "exact", "gnucash", "gnucash");
        row("exact: full path", "exact", "/usr/bin/gnucash", "gnucash");
        row("exact: case matters", "exact", "GnuCash", "");
        row("exact: .exe is part of the name", "exact", "payroll", "");
        row("exact: .exe entry, .exe process", "exact", "payroll.exe", "payroll.exe");
        row("exact: longer name", "exact", "gnucash-bin", "");
        row("windows: case-insensitive", "windows", "PAYROLL.EXE", "payroll.exe");
        row("windows: .exe optional on the process", "windows", "Payroll", "payroll.exe");
        row("windows: .exe optional on the entry", "windows", "GnuCash.exe", "gnucash");
        row("windows: full path", "windows", "C:\\Program Files\\GnuCash\\bin\\GNUCASH.EXE", "gnucash");
        row("windows: longer name", "windows", "gnucash2.exe", "");
        QTest::newRow("quiet for a while after a re-authentication")
            << apps
            << lines({"logon alice", "proc gnucash", "=> require_reauth alice sensitive_app:gnucash", "ok alice", "+4m",
                   "proc gnucash", "+1m", "proc gnucash", "=> require_reauth alice sensitive_app:gnucash"});
        QTest::newRow("logon alone is no re-authentication")
            << apps << lines({"logon alice", "+10s", "proc gnucash", "=> require_reauth alice sensitive_app:gnucash"});
        QTest::newRow("before any session: nothing") << apps << lines({"proc gnucash"});
    }
    void sensitiveApps() { runScript(); }

    void sensitivePaths_data()
    {
        addColumns();
        const auto paths = rules([](ReauthRules &r) {
            r.triggers.sensitivePaths = QStringList {QStringLiteral("/srv/payroll"), QStringLiteral("C:/HR/")};
        });
        const auto row = [&](const char *name, const char *names, const char *path, const char *expected) {
            QStringList script {QStringLiteral("names ") + QLatin1String(names), QStringLiteral("logon alice"),
                QStringLiteral("path ") + QLatin1String(path)};
            if (*expected)
                script.append(
                    QString(QStringLiteral("=> require_reauth alice sensitive_path detail=") + QLatin1String(expected)));
            QTest::newRow(name) << paths << script;
        };
        row("a file below", "exact", "/srv/payroll/a.xlsx", "/srv/payroll");
        row("deeper below", "exact", "/srv/payroll/2026/jan/a.xlsx", "/srv/payroll");
        row("the directory itself", "exact", "/srv/payroll", "/srv/payroll");
        row("trailing slash", "exact", "/srv/payroll/", "/srv/payroll");
        row("a sibling sharing the prefix", "exact", "/srv/payroll2/a.xlsx", "");
        row("a shorter path", "exact", "/srv/pay", "");
        row("the parent", "exact", "/srv", "");
        row("dot-dot into it", "exact", "/srv/other/../payroll/a.xlsx", "/srv/payroll");
        row("dot-dot out of it", "exact", "/srv/payroll/../payroll2/a.xlsx", "");
        row("doubled slashes", "exact", "/srv//payroll///a.xlsx", "/srv/payroll");
        row("exact: case matters", "exact", "/SRV/Payroll/a.xlsx", "");
        row("windows: backslashes and case", "windows", "c:\\hr\\Salaries.xlsx", "C:/HR/");
        row("windows: sibling", "windows", "C:\\HR2\\x.txt", "");
        row("windows: unix prefix too", "windows", "\\SRV\\PAYROLL\\a.xlsx", "/srv/payroll");
    }
    void sensitivePaths() { runScript(); }

    void sensitiveDevices_data()
    {
        addColumns();
        const auto camera = rules([](ReauthRules &r) { r.triggers.sensitiveDevices = {SensitiveDevice::Camera}; });
        QTest::newRow("camera") << camera
                                << lines({"logon alice", "device camera", "=> require_reauth alice sensitive_device:camera"});
        QTest::newRow("microphone not listed") << camera << lines({"logon alice", "device microphone"});
        QTest::newRow("microphone") << rules([](ReauthRules &r) {
            r.triggers.sensitiveDevices = {SensitiveDevice::Camera, SensitiveDevice::Microphone};
        }) << lines({"logon alice", "device microphone", "=> require_reauth alice sensitive_device:microphone"});
    }
    void sensitiveDevices() { runScript(); }

    void schedule_data()
    {
        addColumns();
        const auto seven = rules([](ReauthRules &r) { r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}}; });
        // 2026-01-05 is a Monday, 2026-01-10 a Saturday.
        QTest::newRow("07:00 local on a weekday")
            << seven
            << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 06:59:59", "tick", "at 2026-01-05 07:00", "tick",
                   "=> require_reauth alice schedule"});
        QTest::newRow("not on a day not listed")
            << seven << lines({"at 2026-01-10 06:00", "logon alice", "at 2026-01-10 07:00", "tick", "+1d", "tick"});
        QTest::newRow("once per occurrence, again the next day")
            << seven
            << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 07:00", "tick", "=> require_reauth alice schedule",
                   "+30s", "ok alice", "tick", "+12h", "tick", "at 2026-01-06 07:00", "tick",
                   "=> require_reauth alice schedule"});
        QTest::newRow("a restart in the same minute does not fire it again")
            << seven
            << lines({"at 2026-01-05 06:00", "logon alice s1", "at 2026-01-05 07:00", "tick", "=> require_reauth alice schedule",
                   "+20s", "restart", "logon alice s1", "=> require_reauth alice schedule", "tick", "+10s", "ok alice", "+10s",
                   "restart", "logon alice s1", "tick"});
        QTest::newRow("a logon after the time owes nothing") << seven << lines({"at 2026-01-05 08:00", "logon alice", "tick"});
        QTest::newRow("asleep at 07:00: fires on waking")
            << seven
            << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 09:30", "tick", "=> require_reauth alice schedule"});
        QTest::newRow("a re-authentication after the time settles it")
            << seven << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 07:00:30", "ok alice", "tick"});
        QTest::newRow("notice before") << rules([](ReauthRules &r) {
            r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}};
            r.triggers.notifyBefore = 10min;
        })
                                       << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 06:50", "tick",
                                              "=> notify alice schedule in=10", "tick", "at 2026-01-05 07:00", "tick",
                                              "=> require_reauth alice schedule"});
        QTest::newRow("the time is local") << seven
                                           << lines({"zone -05:00", "at 2026-01-05 06:00", "logon alice", "+1h", "tick",
                                                  "=> require_reauth alice schedule"});
        // 2026-03-29 02:30 does not exist in Berlin (clocks go from 02:00 to 03:00).
        QTest::newRow("a time skipped by daylight saving fires after the gap")
            << rules([](ReauthRules &r) {
                   r.triggers.schedule = {ScheduleEntry {{Qt::Sunday}, QTime(2, 30)}};
               })
            << lines({"zone Europe/Berlin", "at 2026-03-29 01:00", "logon alice", "at 2026-03-29 01:59:59", "tick",
                   "at 2026-03-29 03:00", "tick", "=> require_reauth alice schedule"});
        QTest::newRow("two entries") << rules([](ReauthRules &r) {
            r.triggers.schedule = {ScheduleEntry {{Qt::Monday}, QTime(7, 0)}, ScheduleEntry {{Qt::Monday}, QTime(13, 0)}};
        })
                                     << lines({"at 2026-01-05 06:00", "logon alice", "at 2026-01-05 07:00", "tick",
                                            "=> require_reauth alice schedule", "ok alice", "at 2026-01-05 13:00", "tick",
                                            "=> require_reauth alice schedule"});
    }
    void schedule() { runScript(); }

    void exempt_data()
    {
        addColumns();
        const auto everything = rules([](ReauthRules &r) {
            r.triggers.firstLogonIn = 24h;
            r.triggers.maxSession = 8h;
            r.triggers.idle = 15min;
            r.triggers.onUnlock = true;
            r.triggers.sensitiveApps = QStringList {QStringLiteral("gnucash")};
            r.triggers.sensitivePaths = QStringList {QStringLiteral("/srv/payroll")};
            r.triggers.sensitiveDevices = {SensitiveDevice::Camera};
            r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}};
            r.triggers.notifyBefore = 5min;
            r.failure.exemptUsers = QStringList {QStringLiteral("breakglass")};
        });
        QTest::newRow("no trigger asks an exempt user")
            << everything
            << lines({"at 2026-01-05 06:00", "logon breakglass", "unlock breakglass", "proc gnucash", "path /srv/payroll/a",
                   "device camera", "+20m", "idle 20m", "+9h", "tick"});
        QTest::newRow("and nextDeadline has nothing to wait for") << everything << lines({"logon breakglass", "+1h", "tick"});
        QTest::newRow("a lock left behind does not hold an exempt user")
            << everything
            << lines({"logon alice s1", "=> require_reauth alice first_logon", "restart", "logon breakglass s2", "restart",
                   "logon alice s3", "=> require_reauth alice first_logon"});
    }
    void exempt() { runScript(); }

    void failures_data()
    {
        addColumns();
        const auto three = [](const std::function<void(ReauthRules &)> &more = {}) {
            return rules([more](ReauthRules &r) {
                r.triggers.firstLogonIn = 24h;
                r.triggers.onUnlock = true;
                r.failure.maxAttempts = 3;
                r.failure.window = 1h;
                r.failure.alternateMethods = QStringList {QStringLiteral("urn:hotdesk:acr:otp")};
                if (more)
                    more(r);
            });
        };
        QTest::newRow("max_attempts within the window: lock out and tell the admin")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "+1m", "fail alice timeout",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "+1m", "fail alice cancelled",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice"});
        QTest::newRow("locked out: only another user may proceed")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice", "ok alice",
                   "=> lock alice locked_out", "fail alice access_denied", "=> lock alice locked_out", "ok bob", "unlock alice",
                   "=> lock alice locked_out"});
        QTest::newRow("the lockout ends after the window")
            << three()
            << lines({"logon alice s1", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice", "+59m59s",
                   "logon alice s2", "=> lock alice locked_out", "+1s", "logon alice s3",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "ok alice"});
        QTest::newRow("a lockout survives a restart")
            << three()
            << lines({"logon alice s1", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice", "restart",
                   "logon alice s1", "=> lock alice locked_out"});
        QTest::newRow("a sliding window")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "+40m", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "+20m", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "+1m", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice"});
        QTest::newRow("a success clears the count, and the alternate methods")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "ok alice", "unlock alice",
                   "=> require_reauth alice on_unlock", "fail alice access_denied",
                   "=> require_reauth alice on_unlock acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice on_unlock acr=urn:hotdesk:acr:otp"});
        QTest::newRow("failures of this PC or the servers do not count")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice unreachable", "fail alice tls",
                   "fail alice server_error", "fail alice malformed_answer", "fail alice io", "fail alice not_enrolled",
                   "fail alice access_denied", "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp"});
        QTest::newRow("token validation failures count")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice subject_mismatch",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice bad_signature",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice nonce_mismatch",
                   "=> lockout alice until=+3600 attempts=3", "=> notify_admin too_many_failures alice"});
        QTest::newRow("no alternate methods: no acr_values")
            << three([](ReauthRules &r) { r.failure.alternateMethods.clear(); })
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon"});
        QTest::newRow("without lock: tell the admin, count again, keep asking")
            << three([](ReauthRules &r) {
                   r.failure.actions = FailureActions {false, false, true};
               })
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> notify_admin too_many_failures alice", "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp",
                   "fail alice access_denied", "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "ok alice"});
        QTest::newRow("require_credentials is passed through")
            << three([](ReauthRules &r) {
                   r.failure.actions = FailureActions {true, true, false};
               })
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=3", "=> require_credentials alice"});
        QTest::newRow("a recovery code is a success the admin hears of")
            << three()
            << lines({"logon alice", "=> require_reauth alice first_logon", "fail alice access_denied",
                   "=> require_reauth alice first_logon acr=urn:hotdesk:acr:otp", "ok alice recovery",
                   "=> notify_admin recovery_code_used alice", "unlock alice", "=> require_reauth alice on_unlock"});
        QTest::newRow("lockout while unlocked locks the screen")
            << three([](ReauthRules &r) { r.failure.maxAttempts = 1; })
            << lines({"logon alice", "=> require_reauth alice first_logon", "ok alice", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=1", "=> notify_admin too_many_failures alice", "restart", "+1h",
                   "logon alice", "=> require_reauth alice locked_out acr=urn:hotdesk:acr:otp"});
    }
    void failures() { runScript(); }

    void offline_data()
    {
        addColumns();
        const auto deny = rules([](ReauthRules &r) { r.triggers.onUnlock = true; });
        const auto grace = [](int uses) {
            return rules([uses](ReauthRules &r) {
                r.triggers.onUnlock = true;
                r.failure.offlineGrace = OfflineGrace {4h, uses};
            });
        };
        QTest::newRow("deny by default") << deny
                                         << lines({"logon alice", "ok alice", "unlock alice", "=> require_reauth alice on_unlock",
                                                "net offline", "offline alice", "=> offline_refused alice offline_deny"});
        QTest::newRow("grace only when offline")
            << grace(3)
            << lines({"logon alice", "ok alice", "unlock alice", "=> require_reauth alice on_unlock", "offline alice",
                   "=> offline_refused alice online", "net offline", "net online", "offline alice",
                   "=> offline_refused alice online"});
        QTest::newRow("grace: at most max_uses, each audited")
            << grace(2)
            << lines({"logon alice", "ok alice", "+1h", "unlock alice", "=> require_reauth alice on_unlock", "net offline",
                   "offline alice", "=> offline_granted alice left=1 reason=on_unlock", "=> notify_admin offline_unlock alice",
                   "unlock alice", "=> require_reauth alice on_unlock", "offline alice",
                   "=> offline_granted alice left=0 reason=on_unlock", "=> notify_admin offline_unlock alice", "unlock alice",
                   "=> require_reauth alice on_unlock", "offline alice", "=> offline_refused alice grace_used_up"});
        QTest::newRow("grace: only within the grace of the last success")
            << grace(3)
            << lines({"logon alice", "ok alice", "+4h", "unlock alice", "=> require_reauth alice on_unlock", "net offline",
                   "offline alice", "=> offline_granted alice left=2 reason=on_unlock", "=> notify_admin offline_unlock alice",
                   "+1s", "unlock alice", "=> require_reauth alice on_unlock", "offline alice",
                   "=> offline_refused alice no_recent_2fa"});
        QTest::newRow("grace: never a success on this PC")
            << grace(3)
            << lines({"logon alice", "unlock alice", "=> require_reauth alice on_unlock", "net offline", "offline alice",
                   "=> offline_refused alice no_recent_2fa"});
        QTest::newRow("grace: a success gives the uses back")
            << grace(1)
            << lines({"logon alice", "ok alice", "unlock alice", "=> require_reauth alice on_unlock", "net offline",
                   "offline alice", "=> offline_granted alice left=0 reason=on_unlock", "=> notify_admin offline_unlock alice",
                   "unlock alice", "=> require_reauth alice on_unlock", "net online", "ok alice", "unlock alice",
                   "=> require_reauth alice on_unlock", "net offline", "offline alice",
                   "=> offline_granted alice left=0 reason=on_unlock", "=> notify_admin offline_unlock alice"});
        QTest::newRow("grace: uses survive a restart")
            << grace(1)
            << lines({"logon alice s1", "ok alice", "unlock alice", "=> require_reauth alice on_unlock", "net offline",
                   "offline alice", "=> offline_granted alice left=0 reason=on_unlock", "=> notify_admin offline_unlock alice",
                   "unlock alice", "=> require_reauth alice on_unlock", "restart", "logon alice s1",
                   "=> require_reauth alice on_unlock", "net offline", "offline alice",
                   "=> offline_refused alice grace_used_up"});
        QTest::newRow("grace: not for another user, not when nothing is locked")
            << grace(3)
            << lines({"logon alice", "ok alice", "ok bob", "net offline", "offline alice", "=> offline_refused alice not_locked",
                   "unlock alice", "=> require_reauth alice on_unlock", "offline bob", "=> offline_refused bob other_user"});
        QTest::newRow("grace: not for a locked-out user")
            << rules([](ReauthRules &r) {
                   r.triggers.onUnlock = true;
                   r.failure.offlineGrace = OfflineGrace {4h, 3};
                   r.failure.maxAttempts = 1;
                   r.failure.actions.notifyAdmin = false;
               })
            << lines({"logon alice", "ok alice", "unlock alice", "=> require_reauth alice on_unlock", "fail alice access_denied",
                   "=> lockout alice until=+3600 attempts=1", "net offline", "offline alice",
                   "=> offline_refused alice locked_out"});
        QTest::newRow("an offline unlock restarts max_session")
            << rules([](ReauthRules &r) {
                   r.triggers.onUnlock = true;
                   r.triggers.maxSession = 8h;
                   r.failure.offlineGrace = OfflineGrace {4h, 3};
                   r.failure.actions.notifyAdmin = false;
               })
            << lines({"logon alice", "ok alice", "+3h", "unlock alice", "=> require_reauth alice on_unlock", "net offline",
                   "offline alice", "=> offline_granted alice left=2 reason=on_unlock", "+7h59m", "tick", "+1m", "tick",
                   "=> require_reauth alice max_session"});
    }
    void offline() { runScript(); }

    void persistedLock_data()
    {
        addColumns();
        const auto idle = rules([](ReauthRules &r) {
            r.triggers.idle = 15min;
            r.triggers.sensitivePaths = QStringList {QStringLiteral("/srv/payroll")};
        });
        QTest::newRow("a crash while locked comes back locked")
            << idle
            << lines({"logon alice s1", "+15m", "tick", "=> require_reauth alice idle", "restart", "logon alice s1",
                   "=> require_reauth alice idle", "ok alice", "restart", "logon alice s1"});
        QTest::newRow("a new logon too") << idle
                                         << lines({"logon alice s1", "+15m", "tick", "=> require_reauth alice idle", "restart",
                                                "logon alice s2", "=> require_reauth alice idle"});
        QTest::newRow("whoever logs on next must re-authenticate")
            << idle
            << lines({"logon alice s1", "path /srv/payroll/x", "=> require_reauth alice sensitive_path detail=/srv/payroll",
                   "restart", "logon bob s2", "=> require_reauth bob sensitive_path detail=/srv/payroll", "ok bob", "+1m",
                   "tick"});
        QTest::newRow("another user's success lifts the lock and takes the session")
            << idle
            << lines({"logon alice", "+15m", "tick", "=> require_reauth alice idle", "ok bob", "+14m", "tick", "+1m", "tick",
                   "=> require_reauth bob idle"});
    }
    void persistedLock() { runScript(); }

    // ---- nextDeadline ----

    void nextDeadline_data()
    {
        QTest::addColumn<ReauthRules>("rules");
        QTest::addColumn<QStringList>("script");
        QTest::addColumn<QString>("expected"); // "none", "now", or +DURATION from now
        const auto everything = rules([](ReauthRules &r) {
            r.triggers.maxSession = 8h;
            r.triggers.idle = 15min;
            r.triggers.notifyBefore = 5min;
            r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}};
            r.triggers.firstLogonIn = 24h;
            r.failure.exemptUsers = QStringList {QStringLiteral("breakglass")};
        });
        const auto maxSession = rules([](ReauthRules &r) {
            r.triggers.maxSession = 8h;
            r.triggers.notifyBefore = 5min;
        });
        const auto schedule = rules([](ReauthRules &r) {
            r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}};
            r.triggers.notifyBefore = 5min;
        });
        QTest::newRow("no session") << everything << QStringList {} << QStringLiteral("none");
        QTest::newRow("nothing timed") << rules([](ReauthRules &r) { r.triggers.onUnlock = true; }) << lines({"logon alice"})
                                       << QStringLiteral("none");
        QTest::newRow("idle first") << everything
                                    << lines({"at 2026-01-05 08:00", "logon alice", "=> require_reauth alice first_logon",
                                           "ok alice"})
                                    << QStringLiteral("+15m");
        QTest::newRow("idle counts from the last input")
            << everything
            << lines({"at 2026-01-05 08:00", "logon alice", "=> require_reauth alice first_logon", "ok alice", "+10m", "idle 4m"})
            << QStringLiteral("+11m");
        QTest::newRow("the max_session notice") << maxSession << lines({"logon alice"}) << QStringLiteral("+7h55m");
        QTest::newRow("max_session after its notice")
            << maxSession << lines({"logon alice", "+7h55m", "tick", "=> notify alice max_session in=5"})
            << QStringLiteral("+5m");
        QTest::newRow("the schedule notice")
            << schedule << lines({"at 2026-01-05 06:00", "logon alice"}) << QStringLiteral("+55m");
        QTest::newRow("the schedule after its notice")
            << schedule << lines({"at 2026-01-05 06:56", "logon alice", "=> notify alice schedule in=4", "tick"})
            << QStringLiteral("+4m");
        QTest::newRow("Friday evening: Monday's notice")
            << schedule << lines({"at 2026-01-09 18:00", "logon alice"}) << QStringLiteral("+2d12h55m");
        QTest::newRow("an owed occurrence is due now")
            << schedule << lines({"at 2026-01-05 06:00", "logon alice s1", "restart", "at 2026-01-05 07:10"})
            << QStringLiteral("now");
        QTest::newRow("locked: only events matter")
            << everything << lines({"logon alice", "=> require_reauth alice first_logon"}) << QStringLiteral("none");
        QTest::newRow("exempt") << everything << lines({"logon breakglass"}) << QStringLiteral("none");
    }
    void nextDeadline()
    {
        QFETCH(ReauthRules, rules);
        QFETCH(QStringList, script);
        QFETCH(QString, expected);
        ScriptRunner runner(rules);
        QCOMPARE(runner.run(script), script);
        const auto deadline = runner.engine().nextDeadline();
        const Instant now = std::chrono::floor<std::chrono::seconds>(runner.clock().now());
        QString actual = QStringLiteral("none");
        if (deadline && *deadline <= now)
            actual = QStringLiteral("now");
        else if (deadline) {
            qint64 s = (*deadline - now).count();
            actual = QStringLiteral("+");
            for (auto [unit, size] :
                {std::pair {u'd', 86400}, std::pair {u'h', 3600}, std::pair {u'm', 60}, std::pair {u's', 1}}) {
                if (s >= size) {
                    actual += QString::number(s / size) + unit;
                    s %= size;
                }
            }
        }
        QCOMPARE(actual, expected);
    }

    // An agent that only sets one timer at nextDeadline() and re-authenticates
    // a minute after each request sees every notice and trigger at its time.
    void followingNextDeadlineOnly()
    {
        ScriptRunner runner(rules([](ReauthRules &r) {
            r.triggers.maxSession = 4h;
            r.triggers.notifyBefore = 5min;
            r.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}, ScheduleEntry {kWeekdays, QTime(13, 30)}};
        }));
        runner.run({QStringLiteral("at 2026-01-05 05:00"), QStringLiteral("logon alice")});
        DecisionEngine &engine = runner.engine();
        const QTimeZone zone(3600);
        QStringList seen;
        std::optional<Instant> previous;
        for (int i = 0; i < 12; ++i) {
            const auto deadline = engine.nextDeadline();
            QVERIFY(deadline);
            // Progress: never the same instant twice, never backwards.
            QVERIFY(!previous || *deadline > *previous);
            previous = deadline;
            runner.clock().setSeconds(deadline->time_since_epoch().count());
            const QString at = QDateTime::fromSecsSinceEpoch(deadline->time_since_epoch().count(), zone).toString(u"HH:mm");
            const auto decisions = engine.tick();
            QVERIFY2(!decisions.isEmpty(), qPrintable(QStringLiteral("nothing to do at ") + at));
            for (const Decision &d : decisions)
                seen.append(at + u' ' + format(d, *deadline));
            if (std::holds_alternative<RequireReauth>(decisions.last())) {
                runner.clock().advance(1min);
                QVERIFY(engine.authSucceeded(QStringLiteral("alice")).isEmpty());
            }
        }
        const QStringList expected = lines({
            "06:55 notify alice schedule in=5",
            "07:00 require_reauth alice schedule",
            "10:56 notify alice max_session in=5",
            "11:01 require_reauth alice max_session",
            "13:25 notify alice schedule in=5",
            "13:30 require_reauth alice schedule",
            "17:26 notify alice max_session in=5",
            "17:31 require_reauth alice max_session",
            "21:27 notify alice max_session in=5",
            "21:32 require_reauth alice max_session",
            "01:28 notify alice max_session in=5",
            "01:33 require_reauth alice max_session",
        });
        QCOMPARE(seen, expected);
    }

    // The state's record of the last occurrence is what keeps an occurrence
    // from firing twice when the rest of the state does not (here: a lock lost
    // with a state file written by hand or by an older agent).
    void anOccurrenceFiresOnceWhateverTheRestOfTheState()
    {
        const ReauthRules r = rules([](ReauthRules &x) { x.triggers.schedule = {ScheduleEntry {kWeekdays, QTime(7, 0)}}; });
        const EngineEnvironment env {QTimeZone(3600), NameMatching::Exact};
        const qint64 monday0600 = QDateTime(QDate(2026, 1, 5), QTime(6, 0), QTimeZone(3600)).toSecsSinceEpoch();
        test::FakeClock clock(monday0600 + 3600 + 30);
        EngineState state;
        state.session = SessionRecord {
            QStringLiteral("alice"), QStringLiteral("s1"), Instant(std::chrono::seconds(monday0600)), std::nullopt};
        DecisionEngine fresh(r, clock, env, state);
        QCOMPARE(fresh.sessionStarted(QStringLiteral("alice"), QStringLiteral("s1")).size(), 1);
        state.lastScheduleFired = Instant(std::chrono::seconds(monday0600 + 3600));
        DecisionEngine fired(r, clock, env, state);
        QVERIFY(fired.sessionStarted(QStringLiteral("alice"), QStringLiteral("s1")).isEmpty());
        QVERIFY(fired.tick().isEmpty());
    }

    // ---- state ----

    void stateRoundTrip()
    {
        EngineState state;
        state.session
            = SessionRecord {QStringLiteral("alice"), QStringLiteral("c2"), Instant(1'767'225'600s), Instant(1'767'229'200s)};
        state.lock = LockRecord {QStringLiteral("alice"), Trigger::SensitiveApp, QStringLiteral("gnucash")};
        UserRecord alice;
        alice.lastSuccess = Instant(1'767'229'200s);
        alice.failures = {Instant(1'767'230'000s), Instant(1'767'230'060s)};
        alice.failedSinceSuccess = true;
        alice.offlineUses = 2;
        UserRecord bob;
        bob.lockedOutUntil = Instant(1'767'240'000s);
        state.users.insert(QStringLiteral("alice"), alice);
        state.users.insert(QStringLiteral("bob"), bob);
        state.users.insert(QStringLiteral("carol"), UserRecord {});
        state.lastScheduleFired = Instant(1'767'250'000s);
        state.notifiedMaxSession = Instant(1'767'260'000s);
        state.notifiedSchedule = Instant(1'767'270'000s);

        const QByteArray text = QJsonDocument(state.toJson()).toJson();
        auto object = jose::parseStrictJsonObject(text);
        QVERIFY(object);
        auto back = EngineState::fromJson(*object);
        QVERIFY2(back, qPrintable(back ? QString() : back.error().message));
        QVERIFY(*back == state);
        // Nothing is lost: a second round trip writes the same text.
        QCOMPARE(QJsonDocument(back->toJson()).toJson(), text);
        QVERIFY(EngineState::fromJson(EngineState {}.toJson()));
    }

    // The state after the engine wrote it: a restarted engine on it is locked
    // before any event, and a logon puts the lock screen back.
    void restoredEngineIsLocked()
    {
        test::FakeClock clock;
        const ReauthRules r = rules([](ReauthRules &x) { x.triggers.sensitiveDevices = {SensitiveDevice::Camera}; });
        DecisionEngine engine(r, clock, EngineEnvironment {QTimeZone(3600), NameMatching::Exact});
        engine.sessionStarted(QStringLiteral("alice"), QStringLiteral("7"));
        QCOMPARE(engine.deviceInUse(SensitiveDevice::Camera).size(), 1);
        QVERIFY(engine.isLocked());
        auto state = EngineState::fromJson(engine.state().toJson());
        QVERIFY(state);
        DecisionEngine restarted(r, clock, EngineEnvironment {QTimeZone(3600), NameMatching::Exact}, *state);
        QVERIFY(restarted.isLocked());
        QVERIFY(!restarted.nextDeadline());
        const auto decisions = restarted.sessionStarted(QStringLiteral("alice"), QStringLiteral("7"));
        QCOMPARE(decisions.size(), 1);
        const auto *again = std::get_if<RequireReauth>(&decisions.first());
        QVERIFY(again);
        QCOMPARE(again->reason(), QStringLiteral("sensitive_device:camera"));
        QVERIFY(restarted.authSucceeded(QStringLiteral("alice")).isEmpty());
        QVERIFY(!restarted.isLocked());
    }

    void damagedState_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("member");
        QTest::newRow("version") << QByteArray("{\"version\":2}") << QStringLiteral("\"version\"");
        QTest::newRow("no version") << QByteArray("{}") << QStringLiteral("\"version\"");
        QTest::newRow("unknown member") << QByteArray("{\"version\":1,\"locked\":true}") << QStringLiteral("\"locked\"");
        QTest::newRow("lock trigger") << QByteArray(
            "{\"version\":1,\"lock\":{\"user\":\"a\",\"trigger\":\"nap\",\"detail\":\"\"}}")
                                      << QStringLiteral("\"lock.trigger\"");
        QTest::newRow("lock without user") << QByteArray("{\"version\":1,\"lock\":{\"trigger\":\"idle\",\"detail\":\"\"}}")
                                           << QStringLiteral("\"lock.user\"");
        QTest::newRow("time as text") << QByteArray("{\"version\":1,\"users\":{\"a\":{\"last_success\":\"yesterday\"}}}")
                                      << QStringLiteral("\"users.a.last_success\"");
        QTest::newRow("negative time") << QByteArray("{\"version\":1,\"last_schedule_fired\":-5}")
                                       << QStringLiteral("\"last_schedule_fired\"");
        QTest::newRow("fractional time") << QByteArray("{\"version\":1,\"users\":{\"a\":{\"locked_out_until\":1.5}}}")
                                         << QStringLiteral("\"users.a.locked_out_until\"");
        QTest::newRow("failures out of order")
            << QByteArray("{\"version\":1,\"users\":{\"a\":{\"failures\":[20,10]}}}") << QStringLiteral("\"users.a.failures\"");
        QTest::newRow("negative offline uses") << QByteArray("{\"version\":1,\"users\":{\"a\":{\"offline_uses\":-1}}}")
                                               << QStringLiteral("\"users.a.offline_uses\"");
        QTest::newRow("session without start")
            << QByteArray("{\"version\":1,\"session\":{\"user\":\"a\",\"id\":\"\"}}") << QStringLiteral("\"session.started\"");
        QTest::newRow("unknown user member")
            << QByteArray("{\"version\":1,\"users\":{\"a\":{\"admin\":true}}}") << QStringLiteral("\"users.a.admin\"");
    }
    void damagedState()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, member);
        auto object = jose::parseStrictJsonObject(json);
        QVERIFY(object);
        auto state = EngineState::fromJson(*object);
        QVERIFY(!state);
        QCOMPARE(state.error().code, ErrorCode::Malformed);
        QVERIFY2(state.error().message.contains(member), qPrintable(state.error().message));
    }

    void decisionsForTheAuditLog()
    {
        const Instant until(1'767'229'200s);
        QCOMPARE(QJsonDocument(decisionToJson(LockOutUser {QStringLiteral("alice"), until, 5})).toJson(QJsonDocument::Compact),
            QByteArray("{\"attempts\":5,\"decision\":\"lock_out_user\",\"until\":\"2026-01-01T01:00:00Z\",\"user\":\"alice\"}"));
        const QJsonObject rr = decisionToJson(RequireReauth {QStringLiteral("alice"), Trigger::SensitivePath,
            QStringLiteral("/srv/payroll"), QStringList {QStringLiteral("urn:x")}});
        QCOMPARE(rr.value(QLatin1String("decision")).toString(), QStringLiteral("require_reauth"));
        QCOMPARE(rr.value(QLatin1String("reason")).toString(), QStringLiteral("sensitive_path"));
        QCOMPARE(rr.value(QLatin1String("detail")).toString(), QStringLiteral("/srv/payroll"));
        QCOMPARE(rr.value(QLatin1String("acr_values")).toArray().size(), 1);
        const QStringList names {decisionName(RequireReauth {}), decisionName(Notify {}), decisionName(Lock {}),
            decisionName(LockOutUser {}), decisionName(NotifyAdmin {}), decisionName(RequireCredentials {}),
            decisionName(OfflineGranted {}), decisionName(OfflineRefused {})};
        QCOMPARE(names,
            lines({"require_reauth", "notify", "lock", "lock_out_user", "notify_admin", "require_credentials", "offline_granted",
                "offline_refused"}));
        for (Trigger t : {Trigger::FirstLogon, Trigger::MaxSession, Trigger::Idle, Trigger::OnUnlock, Trigger::SensitiveApp,
                 Trigger::SensitivePath, Trigger::SensitiveDevice, Trigger::Schedule, Trigger::Lockout})
            QCOMPARE(triggerFromName(triggerName(t)), std::optional<Trigger>(t));
        QCOMPARE(reasonString(Trigger::SensitiveApp, QStringLiteral("gnucash")), QStringLiteral("sensitive_app:gnucash"));
        QCOMPARE(reasonString(Trigger::SensitiveDevice, QStringLiteral("camera")), QStringLiteral("sensitive_device:camera"));
    }
};

QTEST_GUILESS_MAIN(TestDecisionEngine)
#include "tst_decisionengine.moc"

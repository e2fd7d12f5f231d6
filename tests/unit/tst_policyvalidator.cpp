// The policy validator: syntax, schema and rule violations at their exact line and column; the examples are valid
// (the policy the companion servers write is checked in tests/servers/tst_stubs).
#include "core/policy/policy.h"
#include "core/policy/policyvalidator.h"

#include <rapidjson/document.h>
#include <rapidjson/internal/regex.h>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace hotdesk;
using namespace hotdesk::policy;

namespace {

const char kServersLine[] = "  \"servers\": {\"das\": [\"https://das.example\"], \"idp_issuer\": \"https://idp.example\", "
                            "\"client_id\": \"agent\"}";
const QByteArray kHead = QByteArray("{\n  \"version\": 1,\n") + kServersLine + ",\n";

// A valid head (lines 1 to 3), the given member on line 4, and the closing brace.
QByteArray withLine4(const QByteArray &member)
{
    return kHead + member + "\n}\n";
}

// A policy whose servers object is on lines 3 to 5, with the given member appended on line 5.
QByteArray withServerMember(const QByteArray &member)
{
    return QByteArray("{\n  \"version\": 1,\n  \"servers\": {\n    \"das\": [\"https://das.example\"], \"idp_issuer\": "
                      "\"https://idp.example\", \"client_id\": \"agent\",\n    ")
        + member + "\n  }\n}\n";
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return f.readAll();
}

QString describe(const QList<PolicyProblem> &problems)
{
    return formatProblems(QStringLiteral("policy.json"), problems);
}

void collectPatterns(const QJsonValue &node, QStringList &out)
{
    if (node.isObject()) {
        const QJsonObject o = node.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == u"pattern" && it.value().isString())
                out << it.value().toString();
            else
                collectPatterns(it.value(), out);
        }
    } else if (node.isArray()) {
        for (const QJsonValue &v : node.toArray())
            collectPatterns(v, out);
    }
}

} // namespace

class TestPolicyValidator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void schemaIsBuiltIn();
    void schemaPatternsCompile();
    void problem_data();
    void problem();
    void listsEveryProblem();
    void durationPatternAgreesWithParser_data();
    void durationPatternAgreesWithParser();
    void examplesAreValid_data();
    void examplesAreValid();
    void examplesBuildTheModel();
    void defaultsFillTheGaps();
    void engineRulesFollowThePolicy();
    void agentPolicyRefusesAnInvalidFile();
    void memberNames();
};

void TestPolicyValidator::schemaIsBuiltIn()
{
    // The binary carries the schema of the source tree it was built from.
    const QByteArray builtIn = policySchema();
    QVERIFY(!builtIn.isEmpty());
    QCOMPARE(builtIn, readFile(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policy.schema.json")));
    const QJsonObject schema = QJsonDocument::fromJson(builtIn).object();
    QCOMPARE(schema.value(QLatin1String("$schema")).toString(), QStringLiteral("http://json-schema.org/draft-04/schema#"));
}

void TestPolicyValidator::schemaPatternsCompile()
{
    // RapidJSON ignores a pattern its regular expressions cannot read instead of refusing the schema.
    QStringList patterns;
    collectPatterns(QJsonDocument::fromJson(policySchema()).object(), patterns);
    QVERIFY(patterns.size() >= 6);
    for (const QString &pattern : std::as_const(patterns)) {
        const QByteArray utf8 = pattern.toUtf8();
        rapidjson::internal::GenericRegex<rapidjson::UTF8<>> regex(utf8.constData());
        QVERIFY2(regex.IsValid(), utf8.constData());
    }
}

void TestPolicyValidator::problem_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QString>("message");

    // Syntax: strict JSON, the position of the first character that does not fit.
    QTest::newRow("missing comma")
        << QByteArray("{\n  \"version\": 1\n  \"servers\": {}\n}\n") << 3 << 3 << QString()
        << QStringLiteral("expected ',' or '}' after the member (is a comma missing at the end of the line before?)");
    QTest::newRow("trailing comma")
        << QByteArray("{\n  \"version\": 1,\n}\n") << 3 << 1 << QString()
        << QStringLiteral("expected a member name in double quotes (JSON allows no comma before '}' and no comments)");
    QTest::newRow("comment") << QByteArray("{\n  // the policy\n  \"version\": 1\n}\n") << 2 << 3 << QString()
                             << QStringLiteral(
                                    "expected a member name in double quotes (JSON allows no comma before '}' and no comments)");
    QTest::newRow("single quotes")
        << QByteArray("{\"version\": 'one'}") << 1 << 13 << QString()
        << QStringLiteral(
               "not a JSON value: strings need double quotes, true, false and null are lower case, and JSON has no comments");
    QTest::newRow("line break in a string")
        << QByteArray("{\n  \"version\": \"1\n}\n") << 2 << 16 << QString()
        << QStringLiteral("a line break or control character inside a string (is the closing double quote missing?)");
    QTest::newRow("unclosed string") << QByteArray("{\"version\": \"1") << 1 << 15 << QString()
                                     << QStringLiteral("the string has no closing double quote");
    QTest::newRow("invalid UTF-8") << QByteArray("{\n  \"caf\xc3\xa9\": \"\xff\"\n}\n") << 2 << 12 << QString()
                                   << QStringLiteral("the text is not valid UTF-8; save the file as UTF-8");
    QTest::newRow("empty") << QByteArray("  \n") << 2 << 1 << QString()
                           << QStringLiteral("the file is empty; a policy is a JSON object { ... }");
    QTest::newRow("two documents") << QByteArray("{\"version\": 1}\n{}\n") << 2 << 1 << QString()
                                   << QStringLiteral("text after the end of the policy; the file holds exactly one JSON object");
    QTest::newRow("byte-order mark") << QByteArray("\xef\xbb\xbf{}") << 1 << 1 << QString()
                                     << QStringLiteral("the file starts with a byte-order mark; save it as UTF-8 without BOM");
    QTest::newRow("too deep") << QByteArray("{\"a\": " + QByteArray(40, '[') + QByteArray(40, ']') + "}") << 1 << 38 << QString()
                              << QStringLiteral("objects and lists are nested deeper than 32 levels");
    QTest::newRow("duplicate member") << withLine4("  \"triggers\": {\"idle\": \"PT5M\", \"idle\": \"PT6M\"}") << 4 << 32
                                      << QStringLiteral("/triggers/idle")
                                      << QStringLiteral("triggers: \"idle\" appears a second time (first on line 4); JSON "
                                                        "readers disagree on which one counts, so keep only one");
    QTest::newRow("duplicate top-level member")
        << QByteArray("{\n  \"version\": 1,\n  \"version\": 1,\n" + QByteArray(kServersLine) + "\n}\n") << 3 << 3
        << QStringLiteral("/version")
        << QStringLiteral("\"version\" appears a second time (first on line 2); JSON readers disagree on which one counts, so "
                          "keep only one");
    QTest::newRow("column counts characters")
        << withLine4("  \"failure\": {\"help_text\": \"\xc3\xa9\xc3\xa9\", \"window\": 5}") << 4 << 44
        << QStringLiteral("/failure/window")
        << QStringLiteral("failure.window: must be an ISO 8601 duration such as PT15M (found a number)");

    // The schema: the position of the value at fault (of the member name for an unknown member).
    QTest::newRow("not an object") << QByteArray("[]") << 1 << 1 << QString()
                                   << QStringLiteral("the policy must be an object { ... } (found a list)");
    QTest::newRow("wrong version") << QByteArray(kHead).replace("\"version\": 1", "\"version\": 2") + "  \"device\": {}\n}" << 2
                                   << 14 << QStringLiteral("/version") << QStringLiteral("version: must be 1 (found 2)");
    QTest::newRow("missing member") << QByteArray(
        "{\n  \"version\": 1,\n  \"servers\": {\"das\": [\"https://das.example\"], \"idp_issuer\": \"https://idp.example\"}\n}")
                                    << 3 << 14 << QStringLiteral("/servers/client_id")
                                    << QStringLiteral("servers: the required member \"client_id\" is missing");
    QTest::newRow("unknown top-level member")
        << withLine4("  \"trigers\": {}") << 4 << 3 << QStringLiteral("/trigers")
        << QStringLiteral("unknown top-level member \"trigers\" (did you mean \"triggers\"?)");
    QTest::newRow("unknown member") << withLine4("  \"triggers\": {\"idel\": \"PT15M\"}") << 4 << 16
                                    << QStringLiteral("/triggers/idel")
                                    << QStringLiteral("triggers: unknown member \"idel\" (did you mean \"idle\"?)");
    QTest::newRow("unknown member, nothing close")
        << withLine4("  \"device\": {\"colour\": \"red\"}") << 4 << 14 << QStringLiteral("/device/colour")
        << QStringLiteral("device: unknown member \"colour\"; the members of device are drift_threshold, unrecognized");
    QTest::newRow("unknown member in a list entry")
        << withLine4("  \"triggers\": {\"schedule\": [{\"days\": [\"mon\"], \"at\": \"07:00\", \"every\": 2}]}") << 4 << 62
        << QStringLiteral("/triggers/schedule/0/every")
        << QStringLiteral("triggers.schedule[0]: unknown member \"every\"; the members of triggers.schedule[0] are days, at");
    QTest::newRow("wrong type") << withLine4("  \"triggers\": {\"on_unlock\": \"yes\"}") << 4 << 29
                                << QStringLiteral("/triggers/on_unlock")
                                << QStringLiteral("triggers.on_unlock: must be true or false (found a string)");
    QTest::newRow("number for a duration") << withLine4("  \"triggers\": {\"idle\": 15}") << 4 << 24
                                           << QStringLiteral("/triggers/idle")
                                           << QStringLiteral(
                                                  "triggers.idle: must be an ISO 8601 duration such as PT15M (found a number)");
    QTest::newRow("fraction for an integer")
        << withLine4("  \"failure\": {\"max_attempts\": 5.0}") << 4 << 31 << QStringLiteral("/failure/max_attempts")
        << QStringLiteral("failure.max_attempts: must be a whole number (found a decimal number)");
    QTest::newRow("bad duration") << withLine4("  \"triggers\": {\"idle\": \"15 minutes\"}") << 4 << 24
                                  << QStringLiteral("/triggers/idle")
                                  << QStringLiteral("triggers.idle: \"15 minutes\" is not an ISO 8601 duration such as PT15M");
    QTest::newRow("duration in weeks") << withLine4("  \"triggers\": {\"idle\": \"P1W\"}") << 4 << 24
                                       << QStringLiteral("/triggers/idle")
                                       << QStringLiteral("triggers.idle: \"P1W\" is not an ISO 8601 duration such as PT15M");
    QTest::newRow("enum value") << withLine4("  \"device\": {\"unrecognized\": \"maybe\"}") << 4 << 30
                                << QStringLiteral("/device/unrecognized")
                                << QStringLiteral(
                                       "device.unrecognized: \"maybe\" is not one of \"approval\", \"code\", \"deny\"");
    QTest::newRow("enum value in a list")
        << withLine4("  \"triggers\": {\"sensitive_devices\": [\"camera\", \"cameras\"]}") << 4 << 48
        << QStringLiteral("/triggers/sensitive_devices/1")
        << QStringLiteral("triggers.sensitive_devices[1]: \"cameras\" is not one of \"camera\", \"microphone\"");
    QTest::newRow("below the range") << withLine4("  \"failure\": {\"max_attempts\": 0}") << 4 << 31
                                     << QStringLiteral("/failure/max_attempts")
                                     << QStringLiteral("failure.max_attempts: 0 is not between 1 and 100");
    QTest::newRow("listed twice")
        << withLine4("  \"failure\": {\"exempt_users\": [\"a\", \"a\"]}") << 4 << 37 << QStringLiteral("/failure/exempt_users/1")
        << QStringLiteral("failure.exempt_users[1]: \"a\" is listed a second time (first as failure.exempt_users[0])");
    QTest::newRow("empty string") << withLine4("  \"failure\": {\"exempt_users\": [\"\"]}") << 4 << 32
                                  << QStringLiteral("/failure/exempt_users/0")
                                  << QStringLiteral("failure.exempt_users[0]: must not be empty");
    QTest::newRow("too long") << withLine4("  \"failure\": {\"help_text\": \"" + QByteArray(501, 'x') + "\"}") << 4 << 28
                              << QStringLiteral("/failure/help_text")
                              << QStringLiteral("failure.help_text: is 501 characters long; at most 500 are allowed");
    QTest::newRow("empty list") << withLine4("  \"triggers\": {\"schedule\": [{\"days\": [], \"at\": \"07:00\"}]}") << 4 << 38
                                << QStringLiteral("/triggers/schedule/0/days")
                                << QStringLiteral("triggers.schedule[0].days: must list at least one entry");
    QTest::newRow("time of day") << withLine4("  \"triggers\": {\"schedule\": [{\"days\": [\"sun\"], \"at\": \"7:00\"}]}") << 4
                                 << 53 << QStringLiteral("/triggers/schedule/0/at")
                                 << QStringLiteral(
                                        "triggers.schedule[0].at: \"7:00\" is not a 24-hour local time HH:MM such as 07:00");
    QTest::newRow("plain http DAS")
        << QByteArray("{\n  \"version\": 1,\n  \"servers\": {\n    \"das\": [\"http://das.example\"], \"idp_issuer\": "
                      "\"https://idp.example\", \"client_id\": \"agent\"\n  }\n}\n")
        << 4 << 13 << QStringLiteral("/servers/das/0")
        << QStringLiteral("servers.das[0]: \"http://das.example\" is not an https URL such as https://das.corp.example (http "
                          "only to 127.0.0.1, [::1] or localhost), without query, fragment or user name");
    QTest::newRow("proxy") << withServerMember("\"proxy\": \"direct\"") << 5 << 14 << QStringLiteral("/servers/proxy")
                           << QStringLiteral("servers.proxy: \"direct\" is not \"system\", \"none\" or an HTTP proxy URL such as "
                                             "http://proxy.corp.example:3128");
    QTest::newRow("proxy without port") << withServerMember("\"proxy\": \"http://proxy.corp.example\"") << 5 << 14
                                        << QStringLiteral("/servers/proxy")
                                        << QStringLiteral("servers.proxy: \"http://proxy.corp.example\" is not \"system\", \"none\" or an "
                                                          "HTTP proxy URL such as http://proxy.corp.example:3128");
    QTest::newRow("private key") << withServerMember("\"das_activation_keys\": {\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", "
                                                     "\"x\": \"AA\", \"y\": \"AA\", \"d\": \"AA\"}]}")
                                 << 5 << 90 << QStringLiteral("/servers/das_activation_keys/keys/0/d")
                                 << QStringLiteral("servers.das_activation_keys.keys[0]: unknown member \"d\" (the private part "
                                                   "of a key: a policy holds public keys only, remove it)");

    // The rules beyond the schema: the position of the member at fault.
    QTest::newRow("timeout out of range") << withServerMember("\"connect_timeout\": \"PT2H\"") << 5 << 24
                                          << QStringLiteral("/servers/connect_timeout")
                                          << QStringLiteral(
                                                 "servers.connect_timeout: must be between 1 second (PT1S) and 1 hour (PT1H)");
    QTest::newRow("zero duration") << withLine4("  \"triggers\": {\"idle\": \"PT0S\"}") << 4 << 24
                                   << QStringLiteral("/triggers/idle")
                                   << QStringLiteral(
                                          "triggers.idle: must be longer than zero; remove the member to turn the trigger off");
    QTest::newRow("idle not shorter than max_session")
        << withLine4("  \"triggers\": {\"max_session\": \"PT1H\", \"idle\": \"PT60M\"}") << 4 << 47
        << QStringLiteral("/triggers/idle")
        << QStringLiteral("triggers.idle: PT1H is not shorter than triggers.max_session (PT1H), so the idle trigger could never "
                          "fire first; shorten idle or remove it");
    QTest::newRow("notify_before not shorter than max_session")
        << withLine4("  \"triggers\": {\"max_session\": \"PT1H\", \"notify_before\": \"PT2H\"}") << 4 << 56
        << QStringLiteral("/triggers/notify_before")
        << QStringLiteral("triggers.notify_before: PT2H is not shorter than triggers.max_session (PT1H), so the warning would be "
                          "due at logon; shorten it");
    QTest::newRow("notify_before with nothing to warn before")
        << withLine4("  \"triggers\": {\"notify_before\": \"PT5M\"}") << 4 << 33 << QStringLiteral("/triggers/notify_before")
        << QStringLiteral("triggers.notify_before: there is neither a triggers.max_session nor a triggers.schedule to warn "
                          "before; remove it or add one of them");
    QTest::newRow("schedule twice at one time") << withLine4(
        "  \"triggers\": {\"schedule\": [{\"days\": [\"mon\"], \"at\": \"07:00\"}, {\"days\": [\"mon\"], \"at\": \"07:00\"}]}")
                                                << 4 << 63 << QStringLiteral("/triggers/schedule/1")
                                                << QStringLiteral(
                                                       "triggers.schedule[1]: mon at 07:00 is already in triggers.schedule[0]");
    QTest::newRow("credentials without lock")
        << withLine4("  \"failure\": {\"actions\": [\"require_credentials\"]}") << 4 << 26 << QStringLiteral("/failure/actions")
        << QStringLiteral("failure.actions: \"require_credentials\" needs \"lock\" as well: without the lock there is nothing to "
                          "require the credentials at");
    QTest::newRow("grace never usable") << withLine4(
        "  \"failure\": {\"offline\": {\"mode\": \"grace\", \"grace\": \"PT4H\", \"max_uses\": 0}}")
                                        << 4 << 73 << QStringLiteral("/failure/offline/max_uses")
                                        << QStringLiteral("failure.offline.max_uses: 0 allows no offline unlock at all; use "
                                                          "\"mode\": \"deny\" instead, or allow at least 1");
    QTest::newRow("grace without its period")
        << withLine4("  \"failure\": {\"offline\": {\"mode\": \"grace\", \"max_uses\": 2}}") << 4 << 26
        << QStringLiteral("/failure/offline")
        << QStringLiteral("failure.offline: \"mode\": \"grace\" needs \"grace\", how long after the last re-authentication an "
                          "offline unlock is allowed (e.g. PT4H)");
    QTest::newRow("grace member with deny")
        << withLine4("  \"failure\": {\"offline\": {\"mode\": \"deny\", \"grace\": \"PT4H\"}}") << 4 << 52
        << QStringLiteral("/failure/offline/grace")
        << QStringLiteral("failure.offline.grace: is only used with \"mode\": \"grace\"; remove it or change the mode");
    QTest::newRow("kiosk account exempt") << withLine4(
        "  \"failure\": {\"exempt_users\": [\"ward3\"]}, \"enforcement\": {\"kiosk_accounts\": [\"ward3\"]}")
                                          << 4 << 78 << QStringLiteral("/enforcement/kiosk_accounts/0")
                                          << QStringLiteral("enforcement.kiosk_accounts[0]: ward3 is also in "
                                                            "failure.exempt_users, which is never asked to sign in; remove it "
                                                            "from one of the two");
    QTest::newRow("unusable activation key")
        << withServerMember(
               "\"das_activation_keys\": {\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AA\", \"y\": \"AA\"}]}")
        << 5 << 28 << QStringLiteral("/servers/das_activation_keys")
        << QStringLiteral("servers.das_activation_keys: holds no usable public key (none of the keys can be used); copy the "
                          "DAS's GET /v1/activation-key set");
}

void TestPolicyValidator::problem()
{
    QFETCH(QByteArray, json);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, pointer);
    QFETCH(QString, message);
    const QList<PolicyProblem> problems = validatePolicy(json);
    QVERIFY2(problems.size() == 1, qPrintable(describe(problems)));
    QCOMPARE(problems.constFirst().message, message);
    QCOMPARE(problems.constFirst().pointer, pointer);
    QCOMPARE(problems.constFirst().line, line);
    QCOMPARE(problems.constFirst().column, column);
}

void TestPolicyValidator::listsEveryProblem()
{
    // RapidJSON's validator stops at the first violation; the check must not.
    const QByteArray json = "{\n"
                            "  \"version\": 2,\n"
                            "  \"servers\": {\"das\": [], \"idp_issuer\": \"https://idp.example\", \"clientid\": \"x\"},\n"
                            "  \"triggers\": {\"idle\": \"15 minutes\", \"on_unlock\": 1, \"foo\": 1, \"bar\": 2},\n"
                            "  \"failure\": {\"max_attempts\": 500, \"actions\": [\"lock\", \"panic\"]},\n"
                            "  \"device\": {\"drift_threshold\": -1}\n"
                            "}\n";
    const QString expected = QStringLiteral(
        "policy.json:2:14: version: must be 1 (found 2)\n"
        "policy.json:3:14: servers: the required member \"client_id\" is missing\n"
        "policy.json:3:22: servers.das: must list at least one entry\n"
        "policy.json:3:63: servers: unknown member \"clientid\" (did you mean \"client_id\"?)\n"
        "policy.json:4:24: triggers.idle: \"15 minutes\" is not an ISO 8601 duration such as PT15M\n"
        "policy.json:4:51: triggers.on_unlock: must be true or false (found a number)\n"
        "policy.json:4:54: triggers: unknown member \"foo\"; the members of triggers are first_logon_in, max_session, idle, "
        "on_unlock, sensitive_apps, sensitive_paths, sensitive_devices, schedule, notify_before\n"
        "policy.json:4:64: triggers: unknown member \"bar\"; the members of triggers are first_logon_in, max_session, idle, "
        "on_unlock, sensitive_apps, sensitive_paths, sensitive_devices, schedule, notify_before\n"
        "policy.json:5:31: failure.max_attempts: 500 is not between 1 and 100\n"
        "policy.json:5:56: failure.actions[1]: \"panic\" is not one of \"lock\", \"require_credentials\", \"notify_admin\"\n"
        "policy.json:6:33: device.drift_threshold: -1 is not between 0 and 4\n");
    QCOMPARE(describe(validatePolicy(json)), expected);
}

void TestPolicyValidator::durationPatternAgreesWithParser_data()
{
    QTest::addColumn<QString>("duration");
    QTest::addColumn<bool>("valid");
    for (const char *ok : {"PT15M", "PT8H", "P1D", "PT1H30M", "P1DT2H", "P2DT3H4M5S", "PT90S", "PT0S", "P0D", "PT999999H"})
        QTest::newRow(ok) << QString::fromLatin1(ok) << true;
    for (const char *bad : {"P", "PT", "P1DT", "P1W", "P1M", "P1Y", "PT1.5S", "pt15m", "PT15M ", "-PT1M", "PT1H1H", "PT1S1M",
             "PT1234567H", "P1000000D", "15M", ""})
        QTest::newRow(bad[0] ? bad : "empty") << QString::fromLatin1(bad) << false;
}

void TestPolicyValidator::durationPatternAgreesWithParser()
{
    // The schema's pattern and parseDuration must accept the same texts.
    QFETCH(QString, duration);
    QFETCH(bool, valid);
    QCOMPARE(parseDuration(duration).has_value(), valid);
    const QJsonObject triggers {
        {QStringLiteral("schedule"),
            QJsonArray {QJsonObject {
                {QStringLiteral("days"), QJsonArray {QStringLiteral("mon")}}, {QStringLiteral("at"), QStringLiteral("07:00")}}}},
        {QStringLiteral("notify_before"), duration},
    };
    QJsonObject policy = QJsonDocument::fromJson(withLine4("  \"device\": {}")).object();
    policy.insert(QStringLiteral("triggers"), triggers);
    const QList<PolicyProblem> problems = validatePolicy(QJsonDocument(policy).toJson());
    QVERIFY2(problems.isEmpty() == valid, qPrintable(describe(problems)));
}

void TestPolicyValidator::examplesAreValid_data()
{
    QTest::addColumn<QString>("file");
    const QDir examples(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies"));
    const QStringList files = examples.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 4);
    for (const QString &file : files)
        QTest::newRow(qPrintable(file)) << examples.filePath(file);
}

void TestPolicyValidator::examplesAreValid()
{
    QFETCH(QString, file);
    const QList<PolicyProblem> problems = validatePolicy(readFile(file));
    QVERIFY2(problems.isEmpty(), qPrintable(formatProblems(file, problems)));
    auto policy = loadPolicy(file);
    QVERIFY2(policy.has_value(), policy ? "" : qPrintable(policy.error().message));
    QVERIFY(!policy->servers.dasUrls.isEmpty());
}

void TestPolicyValidator::examplesBuildTheModel()
{
    using namespace std::chrono_literals;
    auto factory = loadPolicy(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/factory-terminal.json"));
    QVERIFY2(factory.has_value(), factory ? "" : qPrintable(factory.error().message));
    QCOMPARE(factory->servers.dasUrls.size(), 2);
    QCOMPARE(factory->servers.proxy, QStringLiteral("http://proxy.plant.example:3128"));
    QCOMPARE(factory->triggers.firstLogonIn, std::optional<std::chrono::seconds>(24h));
    QCOMPARE(factory->triggers.idle, std::optional<std::chrono::seconds>(30min));
    QVERIFY(!factory->triggers.maxSession);
    QCOMPARE(factory->triggers.schedule.size(), 4);
    QCOMPARE(factory->triggers.schedule[0].days.size(), 5);
    QCOMPARE(factory->triggers.schedule[0].days.constFirst(), Qt::Monday);
    QCOMPARE(factory->triggers.schedule[1].at, QTime(14, 0));
    QCOMPARE(factory->triggers.schedule[3].days, QList<Qt::DayOfWeek> {Qt::Saturday});
    QCOMPARE(factory->triggers.notifyBefore, std::chrono::seconds(10min));
    QCOMPARE(factory->failure.offline.mode, OfflinePolicy::Mode::Grace);
    QCOMPARE(factory->failure.offline.grace, std::chrono::seconds(4h));
    QCOMPARE(factory->failure.offline.maxUses, 3);
    QCOMPARE(factory->failure.exemptUsers, QStringList {QStringLiteral("line-emergency")});
    QCOMPARE(factory->device.driftThreshold, 2);
    QCOMPARE(factory->device.unrecognized, UnrecognizedDevice::Code);

    auto cart = loadPolicy(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/hospital-cart.json"));
    QVERIFY2(cart.has_value(), cart ? "" : qPrintable(cart.error().message));
    QCOMPARE(cart->triggers.idle, std::optional<std::chrono::seconds>(2min));
    QCOMPARE(cart->triggers.sensitiveDevices, QList<SensitiveDevice> {SensitiveDevice::Camera});
    QVERIFY(cart->failure.has(FailureAction::RequireCredentials));
    QCOMPARE(cart->failure.maxAttempts, 3);
    QCOMPARE(cart->failure.window, std::chrono::seconds(15min));
    QCOMPARE(cart->servers.approvalTimeout, std::chrono::milliseconds(1min));
    QCOMPARE(cart->device.unrecognized, UnrecognizedDevice::Deny);
    QVERIFY(cart->enforcement.alwaysOsLock);
    QCOMPARE(cart->enforcement.kioskAccounts, QStringList {QStringLiteral("ward-cart")});
    QVERIFY(cart->enforcement.isKioskAccount(QStringLiteral("ward-cart")));
    QVERIFY(!factory->enforcement.alwaysOsLock);
    QVERIFY(factory->enforcement.kioskAccounts.isEmpty());
}

void TestPolicyValidator::defaultsFillTheGaps()
{
    using namespace std::chrono_literals;
    auto policy = parsePolicy(withLine4("  \"device\": {}"), QStringLiteral("/etc/hotdesk/policy.json"));
    QVERIFY2(policy.has_value(), policy ? "" : qPrintable(policy.error().message));
    QCOMPARE(policy->servers.connectTimeout, std::chrono::milliseconds(5s));
    QCOMPARE(policy->servers.responseTimeout, std::chrono::milliseconds(15s));
    QCOMPARE(policy->servers.proxy, QStringLiteral("system"));
    QVERIFY(!policy->triggers.idle && !policy->triggers.maxSession && !policy->triggers.firstLogonIn);
    QVERIFY(!policy->triggers.onUnlock);
    QCOMPARE(policy->triggers.notifyBefore, std::chrono::seconds(5min));
    QCOMPARE(policy->failure.maxAttempts, 5);
    QCOMPARE(policy->failure.window, std::chrono::seconds(1h));
    QCOMPARE(policy->failure.actions, (QList<FailureAction> {FailureAction::Lock, FailureAction::NotifyAdmin}));
    QCOMPARE(policy->failure.offline.mode, OfflinePolicy::Mode::Deny);
    QVERIFY(!policy->failure.recoveryCodes.enabled);
    QCOMPARE(policy->failure.recoveryCodes.count, 10);
    QCOMPARE(policy->device.driftThreshold, 1);
    QCOMPARE(policy->device.unrecognized, UnrecognizedDevice::Approval);
}

void TestPolicyValidator::engineRulesFollowThePolicy()
{
    using namespace std::chrono_literals;
    auto factory = loadPolicy(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/factory-terminal.json"));
    QVERIFY2(factory.has_value(), factory ? "" : qPrintable(factory.error().message));
    const ReauthRules rules = reauthRules(*factory);
    QCOMPARE(rules.triggers.firstLogonIn, factory->triggers.firstLogonIn);
    QCOMPARE(rules.triggers.idle, std::optional<std::chrono::seconds>(30min));
    QCOMPARE(rules.triggers.schedule, factory->triggers.schedule);
    QCOMPARE(rules.triggers.notifyBefore, std::chrono::seconds(10min));
    QVERIFY(rules.failure.offlineGrace.has_value());
    QCOMPARE(rules.failure.offlineGrace->grace, std::chrono::seconds(4h));
    QCOMPARE(rules.failure.offlineGrace->maxUses, 3);
    QCOMPARE(rules.failure.exemptUsers, QStringList {QStringLiteral("line-emergency")});
    QCOMPARE(rules.device.driftThreshold, 2);
    QCOMPARE(rules.device.unrecognized, UnrecognizedDevice::Code);

    auto cart = loadPolicy(QStringLiteral(HOTDESK_SOURCE_DIR "/resources/policies/hospital-cart.json"));
    QVERIFY2(cart.has_value(), cart ? "" : qPrintable(cart.error().message));
    const ReauthRules cartRules = reauthRules(*cart);
    QVERIFY(cartRules.failure.actions.requireCredentials);
    QCOMPARE(cartRules.failure.actions.lock, cart->failure.has(FailureAction::Lock));
    QCOMPARE(cartRules.failure.actions.notifyAdmin, cart->failure.has(FailureAction::NotifyAdmin));
    QCOMPARE(cartRules.failure.maxAttempts, 3);
    QCOMPARE(cartRules.failure.window, std::chrono::seconds(15min));
    QCOMPARE(cartRules.triggers.sensitiveDevices, QList<SensitiveDevice> {SensitiveDevice::Camera});

    // offline "deny" (the default) is no grace at all.
    auto plain = parsePolicy(withLine4("  \"device\": {}"), QStringLiteral("/etc/hotdesk/policy.json"));
    QVERIFY(plain.has_value());
    QVERIFY(!reauthRules(*plain).failure.offlineGrace);
    QVERIFY(reauthRules(*plain).failure.actions.lock);
    QVERIFY(!reauthRules(*plain).failure.actions.requireCredentials);
}

void TestPolicyValidator::agentPolicyRefusesAnInvalidFile()
{
    // The commands that read only the servers (login, doctor, enroll) refuse an invalid file too.
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("policy.json"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(withLine4("  \"triggers\": {\"idle\": \"soon\"}"));
    f.close();
    auto agent = loadAgentPolicy(file);
    QVERIFY(!agent);
    QCOMPARE(agent.error().code, ErrorCode::PolicyInvalid);
    QVERIFY2(agent.error().message.contains(file + QStringLiteral(":4:24: triggers.idle: \"soon\" is not an ISO 8601 duration")),
        qPrintable(agent.error().message));
    auto missing = loadPolicy(dir.filePath(QStringLiteral("absent.json")));
    QVERIFY(!missing);
    QCOMPARE(missing.error().code, ErrorCode::Io);
}

void TestPolicyValidator::memberNames()
{
    QCOMPARE(memberName(u""), QStringLiteral("the policy"));
    QCOMPARE(memberName(u"/triggers/idle"), QStringLiteral("triggers.idle"));
    QCOMPARE(memberName(u"/triggers/schedule/0/at"), QStringLiteral("triggers.schedule[0].at"));
    QCOMPARE(memberName(u"/a~1b/c~0d"), QStringLiteral("a/b.c~d"));
}

QTEST_GUILESS_MAIN(TestPolicyValidator)
#include "tst_policyvalidator.moc"

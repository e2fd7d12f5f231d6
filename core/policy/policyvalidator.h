// Checking an administrator's policy file: JSON syntax, the schema (resources/policy.schema.json) and the rules a schema cannot
// express.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace hotdesk::policy {

struct PolicyProblem {
    int line = 0; // 1-based; 0 when the problem is about the file as a whole (unreadable, too large)
    int column = 0; // 1-based, in characters (Unicode code points) of that line
    QString pointer; // JSON pointer (RFC 6901) of the member at fault; empty for the whole document
    QString message; // for administrators; starts with the member's dotted name ("triggers.idle: ...")

    friend bool operator==(const PolicyProblem &, const PolicyProblem &) = default;
};

// The JSON schema (draft 4) built into the binary from resources/policy.schema.json.
QByteArray policySchema();

// Every problem of a policy file, sorted by position; empty when the file is a
// valid policy. Syntax errors (strict JSON: no comments, no trailing commas, no
// duplicate member names, UTF-8 without byte-order mark) stop the check at the
// first one; otherwise every schema violation is listed, and then the
// combinations that cannot work (docs/policy.md, "Rules beyond the schema").
QList<PolicyProblem> validatePolicy(QByteArrayView json);

// One line per problem: "FILE:LINE:COL: message", or "FILE: message" for a
// problem about the whole file. Each line ends with a newline.
QString formatProblems(const QString &file, const QList<PolicyProblem> &problems);

// The name administrators read for a JSON pointer: "/triggers/schedule/0/at" is
// "triggers.schedule[0].at"; the empty pointer is "the policy".
QString memberName(QStringView pointer);

} // namespace hotdesk::policy

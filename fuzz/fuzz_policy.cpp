// Fuzz target: the policy validator and the typed policy; every problem has a
// position inside the text, and a file the validator accepts always loads.
#include "fuzztarget.h"

#include "core/jose/strictjson.h"
#include "core/policy/policy.h"
#include "core/policy/policyvalidator.h"

using namespace hotdesk;

HOTDESK_FUZZ_TARGET(fuzz_policy)
{
    const QByteArrayView text = fuzz::bytesOf(data, size);
    const QList<policy::PolicyProblem> problems = policy::validatePolicy(text);
    const auto parsed = policy::parsePolicy(text, QStringLiteral("fuzz.json"));
    fuzz::noteOutcome(parsed);

    if (problems.isEmpty() != parsed.has_value())
        fuzz::invariantBroken("fuzz_policy",
            QStringLiteral("validatePolicy and parsePolicy disagree: %1")
                .arg(parsed ? QStringLiteral("accepted") : parsed.error().message));
    if (problems.isEmpty() && !jose::parseStrictJsonObject(text))
        fuzz::invariantBroken("fuzz_policy", QStringLiteral("a valid policy is not strict JSON"));

    const int lines = int(text.count('\n')) + 1;
    for (qsizetype i = 0; i < problems.size(); ++i) {
        const policy::PolicyProblem &p = problems[i];
        if (p.message.isEmpty())
            fuzz::invariantBroken("fuzz_policy", QStringLiteral("a problem without a message"));
        const bool wholeFile = p.line == 0 && p.column == 0;
        if (!wholeFile && (p.line < 1 || p.line > lines || p.column < 1 || p.column > int(text.size()) + 1))
            fuzz::invariantBroken(
                "fuzz_policy", QStringLiteral("%1:%2 is outside the text: %3").arg(p.line).arg(p.column).arg(p.message));
        if (i > 0 && std::pair(problems[i - 1].line, problems[i - 1].column) > std::pair(p.line, p.column))
            fuzz::invariantBroken("fuzz_policy", QStringLiteral("the problems are not sorted by position"));
        if (!p.pointer.isEmpty() && !p.pointer.startsWith(u'/'))
            fuzz::invariantBroken("fuzz_policy", QStringLiteral("\"%1\" is not a JSON pointer").arg(p.pointer));
    }
    return 0;
}

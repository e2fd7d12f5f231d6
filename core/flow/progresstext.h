// The sign-in flow's progress sentences by stable id, so that hotdeskd's clients show them in their own language.
#pragma once

#include <QString>
#include <QStringList>

namespace hotdesk::flow {

// The sentence for a progress id ("discovery", "registration", "approval_asked", ...; docs/hotdeskd-protocol.md)
// with its arguments (%1, ...), in the language of this process's installed translation (English without one);
// a null QString for an id this build does not know.
QString progressText(const QString &id, const QStringList &args = {});

} // namespace hotdesk::flow

// User names as people and servers write them: "alice", "Alice", "alice@corp.example".
#pragma once

#include <QStringView>

namespace hotdesk {

// The same account: the names are equal but for case.
bool sameUser(QStringView a, QStringView b);

// Whether name, which may leave out the domain, names user: the same account,
// or a name without "@domain" that is user's name before its "@"
// ("alice" names "alice@corp.example"; "alice@corp.example" does not name "alice").
bool namesUser(QStringView name, QStringView user);

} // namespace hotdesk

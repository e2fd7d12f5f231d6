// User names as people and servers write them: "alice", "Alice", "alice@corp.example".
#pragma once

#include <QString>
#include <QStringView>

namespace hotdesk {

// The one form in which a user name is stored, used as a key and compared:
// lower case ("Alice@Corp.example" -> "alice@corp.example").
QString canonicalUserName(QStringView name);

// The same account: the names are equal in their canonical form.
bool sameUser(QStringView a, QStringView b);

// Whether name, which may leave out the domain, names user: the same account,
// or a name without "@domain" that is user's name before its "@"
// ("alice" names "alice@corp.example"; "alice@corp.example" does not name "alice").
bool namesUser(QStringView name, QStringView user);

} // namespace hotdesk

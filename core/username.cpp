// Comparing user names.
#include "username.h"

namespace hotdesk {

QString canonicalUserName(QStringView name)
{
    return name.toString().toLower();
}

bool sameUser(QStringView a, QStringView b)
{
    return canonicalUserName(a) == canonicalUserName(b);
}

bool namesUser(QStringView name, QStringView user)
{
    if (sameUser(name, user))
        return true;
    const qsizetype at = user.indexOf(u'@');
    return !name.contains(u'@') && at > 0 && sameUser(name, user.left(at));
}

} // namespace hotdesk

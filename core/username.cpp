// Comparing user names.
#include "username.h"

namespace hotdesk {

bool sameUser(QStringView a, QStringView b)
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

bool namesUser(QStringView name, QStringView user)
{
    if (sameUser(name, user))
        return true;
    const qsizetype at = user.indexOf(u'@');
    return !name.contains(u'@') && at > 0 && sameUser(name, user.left(at));
}

} // namespace hotdesk

// The phone simulator's command line.
#include "phonecommand.h"

#include <cstdio>

namespace hotdesk::stubs {

int runPhoneCommand(const QStringList &args)
{
    Q_UNUSED(args);
    std::fputs("hotdesk-stubs phone: enroll|approve|deny arrive with the push provider\n", stderr);
    return 2;
}

} // namespace hotdesk::stubs

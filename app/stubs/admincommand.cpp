// The administration command line of the companion servers.
#include "admincommand.h"

#include <cstdio>

namespace hotdesk::stubs {

int runAdminCommand(const QStringList &args)
{
    Q_UNUSED(args);
    std::fputs("hotdesk-stubs admin: create-token|approve|map-user arrive with the DAS\n", stderr);
    return 2;
}

} // namespace hotdesk::stubs

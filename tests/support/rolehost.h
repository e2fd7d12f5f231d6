// Chosen server roles in-process on a ServiceHost, so that a test links only the roles it starts.
#pragma once

#include "app/stubs/common/servicehost.h"

#include <memory>

namespace hotdesk::test {

// A host for options running Services..., added in that order, listening and prepared,
// as hotdesk-stubs starts them (but without the agent policy, which is the command's).
template <class... Services> Result<std::unique_ptr<stubs::ServiceHost>> startRoles(const stubs::HostOptions &options)
{
    auto host = stubs::ServiceHost::open(options);
    if (!host)
        return tl::unexpected(host.error());
    ((*host)->template add<Services>(), ...);
    if (auto started = (*host)->start(); !started)
        return tl::unexpected(started.error());
    return std::move(*host);
}

} // namespace hotdesk::test

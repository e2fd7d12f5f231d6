// This PC's device fingerprint (DESIGN.md flow 4) as the agent presents it to the DAS.
#pragma once

#include "core/das/fingerprint.h"
#include "core/result.h"

namespace hotdesk::cli {

// The machine id, OS and agent version always; the screens when the agent
// runs with a display; the browser engine when built with Qt WebEngine.
Result<das::Fingerprint> localFingerprint();

} // namespace hotdesk::cli

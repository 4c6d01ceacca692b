#pragma once
// A TCP port for a test to hand a process that cannot be told --port 0 (an
// endpoint spec names its port): one nothing listens on now. Another process
// may take it before the test does; good enough on a test machine.

namespace wharf::testing {

// A port on 127.0.0.1 bound and released just now; 1 if none could be bound.
int UnusedPort();

}  // namespace wharf::testing
